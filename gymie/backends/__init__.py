"""Where environments run, behind the core's :class:`~gymie.envs.Backend` interface.

- ``local``: in the server process (``--isolation none``, the default);
- ``process``: one worker process per env (``--isolation process``).

The server picks one with :func:`create`; the core only ever sees the interface.
"""

from __future__ import annotations

from typing import Any

from gymie.envs import Backend
from gymie.settings import Settings


def create(settings: Settings, runtime: Any = None) -> Backend:
    """The backend ``settings.isolation`` names; ``runtime`` is how a process backend waits.

    The multiprocessing machinery loads only for ``--isolation process``.
    """
    if settings.isolation == "process":
        from gymie.backends.process import ProcessBackend

        return ProcessBackend(settings, runtime)
    from gymie.backends.local import LocalBackend

    return LocalBackend()
