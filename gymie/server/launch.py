"""``gymie.start``: serve from one process, or from N behind the supervisor.

Importing this module loads neither eventlet nor the multiprocessing machinery: the
single-process path imports ``gymie.server.serving`` (eventlet) only when it starts.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
from typing import Any

from gymie import api, logs
from gymie.server import security, supervisor
from gymie.settings import Settings


def start(
    host: str = "0.0.0.0",
    port: int = 5000,
    settings: Settings | None = None,
    *,
    processes: int = 1,
    **options: Any,
) -> None:
    """Serve on ``ws://host:port/gym`` until SIGTERM/SIGINT (0.5.4's ``start``, with options).

    ``options`` are :class:`~gymie.settings.Settings` fields, e.g.
    ``start("127.0.0.1", 5000, isolation="process", step_timeout=10, token="...")``;
    ``processes`` > 1 serves the port from that many processes (see ``gymie.server.supervisor``).
    ``$GYMIE_TOKEN`` is the token when none is given. Without logging set up (no handler on the
    root logger) it logs to stderr at INFO, so the ``listening on`` line shows.

    In a process that multiprocessing is bootstrapping (a worker re-importing a main module
    that calls ``start()`` without an ``if __name__ == "__main__":`` guard) this does nothing.

    Raises:
        ValueError: an option is out of range.
        OSError: the address cannot be bound.
    """
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        return
    settings = dataclasses.replace(settings if settings is not None else api.settings, **options)
    if settings.token is None:
        settings.token = security.token_from_env()
    settings.check()
    logs.configure()
    if processes > 1:
        supervisor.run(host, port, settings, processes)
        return
    from gymie.server import serving  # eventlet loads only now

    serving.serve(serving.listen(host, port), settings)
