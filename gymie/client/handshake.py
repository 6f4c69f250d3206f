"""The client's opening handshake: websockets' own sans-I/O ``ClientProtocol`` over a blocking socket.

The same request, checks and errors as websockets' client; only the response goes to the
protocol, and what follows it (frames) is handed back to :class:`~gymie.client.websocket.WebSocket`.
"""

from __future__ import annotations

import socket
import time
from typing import Any

from websockets.client import ClientProtocol

CHUNK = 1 << 16
"""Bytes asked of each ``recv`` while reading headers and small payloads."""
_HEADER_END = b"\r\n\r\n"


def handshake(
    sock: socket.socket,
    protocol: ClientProtocol,
    headers: Any,
    user_agent: str | None,
    deadline: float | None,
) -> tuple[str | None, bytearray]:
    """Send the opening request and read the response by ``deadline``.

    Returns the subprotocol the server chose and the bytes that arrived after the response.

    Raises:
        websockets.exceptions.InvalidHandshake: the server refused (websockets' own error).
        TimeoutError: the deadline passed; ConnectionError: the server closed the connection.
    """
    request = protocol.connect()
    if headers is not None:
        request.headers.update(headers)
    if user_agent is not None:
        request.headers.setdefault("User-Agent", user_agent)
    protocol.send_request(request)
    sock.settimeout(time_left(deadline))
    sock.sendall(b"".join(protocol.data_to_send()))
    buf = bytearray()
    while _HEADER_END not in buf:
        sock.settimeout(time_left(deadline))
        chunk = sock.recv(CHUNK)
        if not chunk:
            raise ConnectionError("gymie server closed the connection without a close frame")
        buf += chunk
    end = buf.index(_HEADER_END) + len(_HEADER_END)
    protocol.receive_data(bytes(buf[:end]))
    del buf[:end]
    events = protocol.events_received()
    if not events:  # an error response with a body: the protocol gets everything up to EOF
        protocol.receive_data(bytes(buf))
        buf.clear()
        events = protocol.events_received()
    while not events and protocol.handshake_exc is None:
        sock.settimeout(time_left(deadline))
        chunk = sock.recv(CHUNK)
        if chunk:
            protocol.receive_data(chunk)
        else:
            protocol.receive_eof()
        events = protocol.events_received()
    if protocol.handshake_exc is not None:
        raise protocol.handshake_exc
    return protocol.subprotocol, buf


def time_left(deadline: float | None) -> float | None:
    """Seconds until ``deadline`` (None: no deadline).

    Raises:
        TimeoutError: the deadline has passed.
    """
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("timed out during the opening handshake")
    return left
