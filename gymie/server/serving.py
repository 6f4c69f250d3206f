"""Serving one process: ``listen``, ``serve``, and 0.5.4's ``dispatch`` and ``message_handle``.

``dispatch`` and ``message_handle`` are gymie 0.5.4's WSGI app and per-message entry point.
The app itself is :class:`gymie.server.app.Server`. Importing this module imports eventlet;
``import gymie`` and ``import gymie.server`` do not.
"""

from __future__ import annotations

import errno
import logging
import socket
from collections.abc import Callable, Iterable
from typing import Any

import eventlet

from gymie import api
from gymie.core import Dispatcher, Session
from gymie.server import security
from gymie.server.app import Server
from gymie.server.green import GreenRuntime
from gymie.server.responses import StartResponse, apply
from gymie.settings import Settings

log = logging.getLogger("gymie")

BACKLOG = 1024
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


# -- entry points -------------------------------------------------------------


def make_app(dispatcher: Dispatcher) -> WSGIApp:
    """The WSGI app of a new :class:`Server` over ``dispatcher``."""
    return Server(dispatcher).app


def default_dispatcher(settings: Settings | None = None) -> Dispatcher:
    """A Dispatcher over ``gymie.api``'s registries, so ``@override`` applies to it.

    New ``settings`` also get a new backend, whose worker waits park green threads.
    """
    return api.dispatcher(settings, GreenRuntime() if settings is not None else None)


_default_app: WSGIApp | None = None


def dispatch(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    """0.5.4's WSGI application function, over the default registries."""
    global _default_app
    if _default_app is None:
        _default_app = make_app(default_dispatcher())
    return _default_app(environ, start_response)


def message_handle(ws: Any, message: str | bytes) -> None:
    """0.5.4's per-message entry point: answer one message on ``ws`` (send, or close on error)."""
    dispatcher = default_dispatcher()
    session: Session | None = getattr(ws, "_gymie_session", None)
    if session is None:
        session = dispatcher.open_session(getattr(ws, "protocol", None))
        ws._gymie_session = session
    apply(dispatcher.handle(message, session), ws)


def listen(host: str, port: int, reuse_port: bool = False) -> socket.socket:
    """Bind a listening socket (IPv4 or IPv6 by the host's form).

    ``reuse_port`` lets the processes of ``--processes N`` share the port; without it a port
    in use is an error.

    Raises:
        OSError: with a clear message when the address is in use or not available.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = eventlet.listen((host, port), family=family, backlog=BACKLOG, reuse_port=reuse_port)
    except OSError as err:
        if err.errno == errno.EADDRINUSE:
            raise OSError(err.errno, f"Address http://{host}:{port} already in use") from None
        raise OSError(err.errno, f"Cannot listen on http://{host}:{port}: {err.strerror}") from None
    return sock  # type: ignore[no-any-return]


def bound_url(sock: socket.socket) -> str:
    """The address a socket really listens on, as a WebSocket URL."""
    host, port = sock.getsockname()[:2]
    host = f"[{host}]" if ":" in host else host
    return f"ws://{host}:{port}/gym"


def serve(
    sock: socket.socket, settings: Settings | None = None, on_ready: Callable[[], None] | None = None
) -> None:
    """Serve on an already-bound socket until SIGTERM/SIGINT, then shut down gracefully.

    ``on_ready`` is called once connections and signals are handled; by default it logs the
    start-up warnings and the ``listening on`` line (the supervisor of ``--processes`` passes
    its own and logs them once).
    """
    server = Server(default_dispatcher(settings))

    def announce() -> None:
        for warning in security.startup_warnings(sock.getsockname()[0], server.settings):
            log.warning(warning)
        log.info("Gymie listening on %s", bound_url(sock))

    server.run(sock, on_ready or announce)
