"""The eventlet server: the WSGI app, green helpers, security, metrics and the ``--processes`` supervisor.

``gymie.server`` still exports gymie 0.5.4's ``start``, ``dispatch`` and ``message_handle``.
Importing the package loads nothing heavy; each name loads its module on first use, and only
``serving`` and ``app`` (and what they import) load eventlet.

- ``app``: one process's WSGI app (``/gym``, ``/healthz``, ``/metrics``) and its shutdown;
- ``responses``: a core Reply applied to a WebSocket (``apply``), plain HTTP responses;
- ``accept``: accepting connections (descriptor exhaustion survived, a deadline per request);
- ``websocket``: the WebSocket (messages capped and held at their size, timed sends);
- ``green``: other eventlet pieces (signals, green waits for workers, the supervisor's pipe);
- ``descriptors``: the file-descriptor limit, and the connections that fit in it;
- ``serving``: ``listen``, ``serve``, ``dispatch``, ``message_handle``;
- ``launch``: ``start``, one process or N;
- ``supervisor``: the parent of ``--processes N`` (never imports eventlet);
- ``security``, ``metrics``: who may connect; Prometheus metrics.
- ``watch`` (with ``watchers``, ``tables``, ``frames``): the dashboard's read-only ``/watch`` API;
  ``ui``: the dashboard's page and files at ``/ui``.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

# eventlet prints a 9-line deprecation notice when imported, in every server process (again in
# each of --processes N). gymie depends on eventlet knowingly; the notice tells an operator nothing.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

_EXPORTS = {
    "start": "gymie.server.launch",
    "dispatch": "gymie.server.serving",
    "message_handle": "gymie.server.serving",
    "listen": "gymie.server.serving",
    "serve": "gymie.server.serving",
    "bound_url": "gymie.server.serving",
    "default_dispatcher": "gymie.server.serving",
    "make_app": "gymie.server.serving",
    "Server": "gymie.server.app",
    "apply": "gymie.server.responses",
    "RUNNING_TEXT": "gymie.server.app",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'gymie.server' has no attribute {name!r}")
