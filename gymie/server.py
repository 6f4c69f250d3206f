"""The eventlet transport: a WSGI app whose ``/gym`` WebSocket feeds the I/O-free core.

Importing this module imports eventlet; ``import gymie`` does not (see ``gymie.__init__``).
"""

from __future__ import annotations

import errno
import logging
import socket
from collections.abc import Callable, Iterable
from typing import Any

import eventlet
from eventlet import websocket, wsgi

from gymie import api
from gymie.core import SUBPROTOCOLS, Dispatcher, Session
from gymie.protocol import Reply
from gymie.settings import Settings

log = logging.getLogger("gymie")

RUNNING_TEXT = b"Gymie is running..."
StartResponse = Callable[[str, list[tuple[str, str]]], Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def apply(reply: Reply, ws: Any) -> bool:
    """Send a Reply's frames, then close if it says so; return True once the socket is closed."""
    for frame in reply.frames:
        ws.send(frame)
    if reply.close is not None:
        ws.close(reply.close)
        return True
    return False


def serve_connection(ws: Any, dispatcher: Dispatcher) -> None:
    """Feed every frame of one WebSocket to the core until either side closes."""
    session = dispatcher.open_session(getattr(ws, "protocol", None))
    try:
        while (message := ws.wait()) is not None:
            if apply(dispatcher.handle(message, session), ws):
                break
    finally:
        closed = dispatcher.end_session(session)
        if closed:
            log.debug("connection %d ended; closed %d environment(s)", session.id, len(closed))


def make_app(dispatcher: Dispatcher) -> WSGIApp:
    """The WSGI app: ``/gym`` is the WebSocket, every other path says the server runs."""
    gym_socket = websocket.WebSocketWSGI(
        lambda ws: serve_connection(ws, dispatcher), max_frame_length=dispatcher.settings.max_message_size
    )
    gym_socket.supported_protocols = list(SUBPROTOCOLS)

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ["PATH_INFO"] == "/gym":
            return gym_socket(environ, start_response)  # type: ignore[no-any-return]
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [RUNNING_TEXT]

    return app


def default_dispatcher(settings: Settings | None = None) -> Dispatcher:
    """A Dispatcher over ``gymie.api``'s registries, so ``@override`` applies to it."""
    if settings is not None:
        api.settings = settings
    return Dispatcher(api.envs, api.overrides, api.settings)


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


def listen(host: str, port: int) -> socket.socket:
    """Bind a listening socket (IPv4 or IPv6 by the host's form).

    Raises:
        OSError: with a clear message when the address is in use or not available.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return eventlet.listen((host, port), family=family)  # type: ignore[no-any-return]
    except OSError as err:
        if err.errno == errno.EADDRINUSE:
            raise OSError(err.errno, f"Address http://{host}:{port} already in use") from None
        raise OSError(err.errno, f"Cannot listen on http://{host}:{port}: {err.strerror}") from None


def bound_url(sock: socket.socket) -> str:
    """The address a socket really listens on, as a WebSocket URL."""
    host, port = sock.getsockname()[:2]
    host = f"[{host}]" if ":" in host else host
    return f"ws://{host}:{port}/gym"


def serve(sock: socket.socket, settings: Settings | None = None) -> None:
    """Serve on an already-bound socket until interrupted."""
    dispatcher = default_dispatcher(settings)
    log.info("Gymie listening on %s", bound_url(sock))
    wsgi.server(sock, make_app(dispatcher), log=log, log_output=False, debug=False)


def start(host: str = "0.0.0.0", port: int = 5000, settings: Settings | None = None) -> None:
    """Start the server on ``ws://host:port/gym`` and serve until interrupted (0.5.4's ``start``)."""
    serve(listen(host, port), settings)
