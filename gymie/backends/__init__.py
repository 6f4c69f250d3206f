"""Where environments run, behind the core's :class:`~gymie.envs.Backend` interface.

- ``local``: in the server process (``--isolation none``, the default);
- ``process``: one worker process per env (``--isolation process``);
- ``ray``: one Ray actor per env, anywhere in a Ray cluster (``--isolation ray``, ``gymie[ray]``).

The server picks one with :func:`create`; the core only ever sees the interface.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from gymie.envs import Backend, BackendUnavailable
from gymie.settings import Settings

__all__ = ["BackendUnavailable", "create"]


def create(settings: Settings, runtime: Any = None) -> Backend:
    """The backend ``settings.isolation`` names; ``runtime`` is how a process or Ray backend waits.

    The multiprocessing machinery loads only for ``--isolation process``, Ray only for ``ray``.

    Raises:
        BackendUnavailable: ``--isolation ray`` without Ray installed.
    """
    if settings.isolation == "process":
        from gymie.backends.process import ProcessBackend

        return ProcessBackend(settings, runtime)
    if settings.isolation == "ray":
        if importlib.util.find_spec("ray") is None:
            raise BackendUnavailable("--isolation ray needs Ray: pip install 'gymie[ray]'")
        from gymie.backends.ray.backend import RayBackend

        return RayBackend(settings, runtime)
    from gymie.backends.local import LocalBackend

    return LocalBackend()
