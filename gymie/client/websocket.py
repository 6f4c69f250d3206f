"""The client's WebSocket: one blocking socket, read and written by the thread that calls.

websockets' sync client reads on a thread of its own and hands each message over a queue, and
parses frames with Python generators: ~25 µs of client CPU a CartPole step and ~50 µs a Pong
step more than a plain socket (``bench/RESULTS.md``). A client that sends one request and
waits for its reply needs none of that, so after the opening handshake (websockets' own
sans-I/O ``ClientProtocol``: the same request, checks and errors) :class:`WebSocket` reads and
writes frames itself:

- a message is read with as few ``recv`` calls as it takes, a large payload straight into
  the ``bytearray`` that is returned (no joins, no copies);
- a frame is sent with one ``sendmsg`` of its header and masked payload;
- masks come from a pool of ``os.urandom`` bytes, 4 per frame;
- a timeout leaves a half-read message in place: the next ``recv`` carries on with it.

Options it does not implement (a proxy, compression, keepalive pings) are served by
websockets' own client instead: :func:`gymie.client.transport.open_websocket` picks.
"""

from __future__ import annotations

import os
import socket
import ssl as ssl_module
import struct
import time
from collections.abc import Sequence
from typing import Any, NoReturn

from websockets.client import ClientProtocol
from websockets.http11 import USER_AGENT
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

from gymie.client.handshake import CHUNK, handshake, time_left

try:
    from websockets.speedups import apply_mask
except ImportError:  # pragma: no cover - websockets built without its C extension
    from websockets.utils import apply_mask

__all__ = ["WebSocket"]

TEXT, BINARY, CLOSE, PING, PONG = 0x1, 0x2, 0x8, 0x9, 0xA
DIRECT = 1 << 15
"""Payloads at least this large are received straight into their own buffer."""


class WebSocket:
    """A client WebSocket over a blocking socket; not thread-safe (the connection takes turns).

    Attributes:
        subprotocol: The subprotocol the server chose, if any.
        closed: Whether the connection is closed (by either side).
    """

    def __init__(
        self,
        url: str,
        subprotocols: Sequence[Subprotocol] | None = None,
        *,
        sock: socket.socket | None = None,
        ssl: ssl_module.SSLContext | None = None,
        server_hostname: str | None = None,
        origin: Any = None,
        additional_headers: Any = None,
        user_agent_header: str | None = USER_AGENT,
        open_timeout: float | None = 10.0,
        close_timeout: float | None = 10.0,
        max_size: int | None = 2**20,
        compression: None = None,
        proxy: Any = None,
    ) -> None:
        """Connect and complete the opening handshake (the arguments of websockets' ``connect``)."""
        uri = parse_uri(url)
        self.max_size = max_size
        self.close_timeout = close_timeout
        self.closed = False
        self._masks = b""
        self._timeout: float | None = -1.0  # what the socket is set to; -1: not set yet
        self._message: list[bytes | bytearray] = []  # the frames of a message not yet complete
        self._opcode = BINARY
        self._payload: tuple[int, int, bytearray | memoryview, int] | None = None  # (first, n, buffer, have)
        self._scratch = bytearray(CHUNK)
        self._lent = bytearray()  # the buffer of borrowed messages
        deadline = None if open_timeout is None else time.monotonic() + open_timeout
        if sock is None:
            sock = socket.create_connection((uri.host, uri.port), timeout=open_timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if uri.secure:
                context = ssl or ssl_module.create_default_context()
                sock.settimeout(time_left(deadline))
                sock = context.wrap_socket(sock, server_hostname=server_hostname or uri.host)
            self.sock = sock
            protocol = ClientProtocol(uri, origin=origin, subprotocols=subprotocols, max_size=max_size)
            self.subprotocol, self._buf = handshake(
                sock, protocol, additional_headers, user_agent_header, deadline
            )
        except BaseException:
            sock.close()
            raise
        self._sendmsg = not isinstance(sock, ssl_module.SSLSocket)

    # -- sending -----------------------------------------------------------------------

    def send(self, message: str | bytes) -> None:
        """Send one message in one frame.

        Raises:
            ConnectionError: the connection is closed; TimeoutError: the send blocked too long.
        """
        if isinstance(message, str):
            self._send_frame(TEXT, message.encode("utf-8"))
        else:
            self._send_frame(BINARY, message)

    def _send_frame(self, opcode: int, payload: bytes | bytearray | memoryview) -> None:
        if self.closed:
            raise ConnectionError("gymie server closed the connection")
        n = len(payload)
        if n < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 1 << 16:
            header = struct.pack("!BBH", 0x80 | opcode, 0xFE, n)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0xFF, n)
        if len(self._masks) < 4:
            self._masks = os.urandom(4096)
        mask, self._masks = self._masks[:4], self._masks[4:]
        try:
            if self._sendmsg and n > 512:
                _send_buffers(self.sock, [header + mask, apply_mask(payload, mask)])
            else:
                self.sock.sendall(header + mask + apply_mask(payload, mask))
        except OSError:
            self._abort()
            raise

    # -- receiving ---------------------------------------------------------------------

    def recv(self, timeout: float | None, borrow: bool = False) -> str | bytes | bytearray | memoryview:
        """The next message: ``str`` (text), ``bytes`` or ``bytearray`` (binary); pings are answered.

        ``borrow=True``: a large binary message may be a ``memoryview`` of a buffer that the next
        call reuses (no allocation, no zero-filling): decode it before calling again.

        Raises:
            TimeoutError: none in ``timeout`` seconds (what has arrived is kept for the next call).
            ConnectionError: the connection is closed.
        """
        if self.closed:
            raise ConnectionError("gymie server closed the connection")
        self._set_timeout(timeout)
        while True:
            first, payload = self._frame(borrow)
            opcode = first & 0x0F
            if first & 0x70 or opcode in (3, 4, 5, 6, 7) or opcode > PONG:
                self._fail(1002, "reserved bits or opcode")
            if opcode >= CLOSE:
                if not first & 0x80 or len(payload) > 125:
                    self._fail(1002, "a fragmented or long control frame")
                self._control(opcode, bytes(payload))
                continue
            if opcode:
                if self._message:
                    self._fail(1002, "a new message inside a fragmented one")
                self._opcode = opcode
            elif not self._message:
                self._fail(1002, "a continuation frame with no message to continue")
            if not first & 0x80 or self._message:  # a fragment: kept (so copied if borrowed)
                self._message.append(bytes(payload) if isinstance(payload, memoryview) else payload)
                if not first & 0x80:
                    continue
                payload, self._message = b"".join(self._message), []
            if self._opcode != TEXT:
                return payload
            try:
                return str(payload, "utf-8")
            except UnicodeDecodeError:
                self._fail(1007, "invalid UTF-8 in a text message")

    def _frame(self, borrow: bool) -> tuple[int, bytes | bytearray | memoryview]:
        """The next frame's first byte and payload (a large one into a lent buffer if ``borrow``)."""
        if self._payload is not None:
            return self._finish_payload()
        buf = self._buf
        while True:
            size = len(buf)
            if size >= 2:
                second = buf[1]
                n, head = second & 0x7F, 2
                if n == 126:
                    head = 4
                elif n == 127:
                    head = 10
                if size >= head:
                    if head > 2:
                        n = int.from_bytes(buf[2:head], "big")
                    if second & 0x80:
                        self._fail(1002, "a server must not mask its frames")
                    self._check_size(n)
                    first = buf[0]
                    if size >= head + n:
                        payload = bytes(buf[head : head + n])
                        del buf[: head + n]
                        return first, payload
                    if n >= DIRECT:
                        target = self._lend(n) if borrow else bytearray(n)
                        have = size - head
                        target[:have] = memoryview(buf)[head:]
                        buf.clear()
                        self._payload = (first, n, target, have)
                        return self._finish_payload()
            self._fill()

    def _lend(self, n: int) -> memoryview:
        if len(self._lent) < n:
            self._lent = bytearray(n)
        return memoryview(self._lent)[:n]

    def _finish_payload(self) -> tuple[int, bytearray | memoryview]:
        assert self._payload is not None
        first, n, target, have = self._payload
        view = memoryview(target)
        while have < n:
            try:
                got = self.sock.recv_into(view[have:])
            except TimeoutError:
                self._payload = (first, n, target, have)
                raise
            if not got:
                self._lost()
            have += got
        self._payload = None
        return first, target

    def _fill(self) -> None:
        got = self.sock.recv_into(self._scratch)
        if not got:
            self._lost()
        self._buf += memoryview(self._scratch)[:got]

    def _check_size(self, n: int) -> None:
        limit = self.max_size
        if limit is not None and n + sum(map(len, self._message)) > limit:
            self._fail(1009, f"message above the limit of {limit} bytes")

    def _control(self, opcode: int, payload: bytes) -> None:
        if opcode == PING:
            self._send_frame(PONG, payload)
        elif opcode == CLOSE:
            code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            reason = payload[2:].decode("utf-8", "replace")
            self._close_with(payload[:2], wait=False)
            raise ConnectionError(f"gymie server closed the connection: {code} {reason}".rstrip())
        elif opcode != PONG:
            self._fail(1002, f"unknown opcode {opcode}")

    # -- closing -----------------------------------------------------------------------

    def close(self) -> None:
        """Send a normal close frame, wait for the server's (``close_timeout``), close the socket."""
        if not self.closed:
            self._close_with(struct.pack("!H", 1000), wait=True)

    def _close_with(self, payload: bytes, wait: bool) -> None:
        try:
            self._send_frame(CLOSE, payload)
            self.closed = True
            if wait:
                self._set_timeout(self.close_timeout)
                while self.sock.recv(CHUNK):  # the server's close frame, then EOF
                    pass
        except OSError:
            pass
        finally:
            self._abort()

    def _fail(self, code: int, reason: str) -> NoReturn:
        self._close_with(struct.pack("!H", code) + reason.encode()[:123], wait=False)
        raise ConnectionError(f"gymie server broke the protocol: {reason}")

    def _lost(self) -> NoReturn:
        self._abort()
        raise ConnectionError("gymie server closed the connection without a close frame")

    def _abort(self) -> None:
        self.closed = True
        self.sock.close()

    def _set_timeout(self, timeout: float | None) -> None:
        if timeout != self._timeout:
            self.sock.settimeout(timeout)
            self._timeout = timeout


def _send_buffers(sock: socket.socket, buffers: list[bytes]) -> None:
    """``sendall`` over several buffers, without joining them."""
    total = sum(map(len, buffers))
    sent = sock.sendmsg(buffers)
    while sent < total:
        rest = b"".join(buffers)[sent:]
        sock.sendall(rest)
        sent = total
