"""How the client reaches a server: :func:`open_websocket` picks the WebSocket for the options.

gymie's own :class:`~gymie.client.websocket.WebSocket` (one blocking socket, no reader thread)
serves every option it implements; a proxy, ``compression="deflate"`` or keepalive pings get
websockets' threaded client instead. Both are a :class:`Transport`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any, Protocol

from websockets.exceptions import ConnectionClosed
from websockets.protocol import State
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

from gymie.client.websocket import WebSocket

try:
    from websockets.proxy import get_proxy
except ImportError:  # pragma: no cover - websockets < 15 has no proxy support

    def get_proxy(uri: Any) -> str | None:  # type: ignore[misc]
        """No proxy."""
        return None


__all__ = ["Transport", "open_websocket"]

_OWN_OPTIONS = frozenset(
    {"sock", "ssl", "server_hostname", "origin", "additional_headers", "user_agent_header"}
    | {"open_timeout", "close_timeout", "max_size", "compression", "proxy"}
)


class Transport(Protocol):
    """What :class:`~gymie.client.connection.WebSocketConnection` needs of a WebSocket."""

    subprotocol: str | None

    @property
    def closed(self) -> bool:
        """Whether the connection is closed (by either side)."""
        ...

    def send(self, message: str | bytes) -> None:
        """Send one message: text for ``str``, binary for ``bytes``."""
        ...

    def recv(self, timeout: float | None, borrow: bool = False) -> str | bytes | bytearray | memoryview:
        """The next message; TimeoutError after ``timeout`` s; ConnectionError once closed.

        ``borrow=True``: a large binary message may come as a view of a buffer the next
        ``recv`` reuses (decode it before then).
        """
        ...

    def close(self) -> None:
        """Close (idempotent)."""
        ...


def open_websocket(url: str, subprotocols: Sequence[str] | None, **kwargs: Any) -> Transport:
    """Open a WebSocket to ``url``: a :class:`WebSocket`, or websockets' client for options it lacks.

    ``kwargs`` are those of ``websockets.sync.client.connect``.

    Raises:
        InvalidHandshake: the server refused the handshake (``InvalidStatus`` for an HTTP error).
        TimeoutError: no connection within ``open_timeout``.
        OSError: the TCP connection failed.
    """
    wanted = [Subprotocol(s) for s in subprotocols] if subprotocols else None
    uses_proxy = kwargs.get("proxy", True) is not None and get_proxy(parse_uri(url)) is not None
    if set(kwargs) <= _OWN_OPTIONS and kwargs.get("compression") is None and not uses_proxy:
        return WebSocket(url, wanted, **kwargs)
    return Websockets(url, wanted, kwargs)


class Websockets:
    """websockets' threaded sync client as a :class:`Transport`."""

    def __init__(self, url: str, subprotocols: list[Subprotocol] | None, kwargs: dict[str, Any]) -> None:
        # Entered as a context manager, as websockets wants; close() exits it.
        self._stack = contextlib.ExitStack()
        self.ws: ClientConnection = self._stack.enter_context(
            ws_connect(url, subprotocols=subprotocols, **kwargs)
        )
        self.subprotocol: str | None = self.ws.subprotocol

    @property
    def closed(self) -> bool:
        """Whether the connection is closed."""
        return self.ws.state is State.CLOSED

    def send(self, message: str | bytes) -> None:
        try:
            self.ws.send(message)
        except ConnectionClosed as exc:
            raise ConnectionError(f"gymie server closed the connection: {exc}") from exc

    def recv(self, timeout: float | None, borrow: bool = False) -> str | bytes:
        try:
            return self.ws.recv(timeout)
        except ConnectionClosed as exc:
            raise ConnectionError(f"gymie server closed the connection: {exc}") from exc

    def close(self) -> None:
        self._stack.close()
