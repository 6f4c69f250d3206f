"""A minimal blocking WebSocket client, the same for every server the benchmark talks to.

One socket, no reader thread, no compression, TCP_NODELAY: a round trip costs one
``sendall`` and the ``recv`` calls the reply needs, so the client adds as little as a
Python client can to the numbers. Client frames are masked as RFC 6455 requires
(websockets' C ``apply_mask`` when it is available).
"""

from __future__ import annotations

import base64
import os
import socket
import struct
from urllib.parse import urlsplit

try:
    from websockets.speedups import apply_mask as _apply_mask  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - pure-Python fallback

    def _apply_mask(data: bytes, mask: bytes) -> bytes:
        n = len(data)
        key = int.from_bytes((mask * (n // 4 + 1))[:n], "little")
        return (int.from_bytes(data, "little") ^ key).to_bytes(n, "little")


TEXT, BINARY, CLOSE, PING, PONG, CONT = 0x1, 0x2, 0x8, 0x9, 0xA, 0x0


class ConnectionClosed(Exception):
    """The server closed the connection; ``code`` and ``reason`` are from its close frame."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"closed: {code} {reason}")
        self.code = code
        self.reason = reason


class Client:
    """``Client(url, subprotocol=None)``: ``send(str | bytes)``, ``recv() -> str | bytes``."""

    def __init__(self, url: str, subprotocol: str | None = None, timeout: float = 60.0) -> None:
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port or 80), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buf = bytearray()
        self.subprotocol = self._handshake(parts.netloc, parts.path or "/", subprotocol)

    def _handshake(self, host: str, path: str, subprotocol: str | None) -> str | None:
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: {host}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
        ]
        if subprotocol:
            lines.append(f"Sec-WebSocket-Protocol: {subprotocol}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        while b"\r\n\r\n" not in self._buf:
            self._fill()
        end = self._buf.index(b"\r\n\r\n") + 4
        head = bytes(self._buf[:end]).decode("latin-1")
        del self._buf[:end]
        status, *headers = head.split("\r\n")
        if " 101 " not in status + " ":
            raise ConnectionError(f"handshake refused: {status}")
        fields = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in headers if h)}
        chosen = fields.get("sec-websocket-protocol")
        if subprotocol and chosen != subprotocol:
            raise ConnectionError(f"server did not accept subprotocol {subprotocol!r} (got {chosen!r})")
        return chosen

    def _fill(self, at_least: int = 0) -> None:
        chunk = self.sock.recv(max(at_least, 1 << 16))
        if not chunk:
            raise ConnectionClosed(None, "connection lost")
        self._buf += chunk

    def _read(self, n: int) -> bytes:
        buf = self._buf
        if len(buf) >= n:
            data = bytes(buf[:n])
            del buf[:n]
            return data
        if n < 1 << 16:
            while len(buf) < n:
                self._fill()
            return self._read(n)
        # A large payload: one buffer of the right size, filled in place (no 1 MiB reads, no joins).
        out = bytearray(n)
        have = len(buf)
        out[:have] = buf
        buf.clear()
        view = memoryview(out)
        while have < n:
            got = self.sock.recv_into(view[have:])
            if not got:
                raise ConnectionClosed(None, "connection lost")
            have += got
        return bytes(out)

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        n = len(payload)
        if n < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 1 << 16:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        mask = os.urandom(4)
        self.sock.sendall(header + mask + _apply_mask(payload, mask))

    def send(self, message: str | bytes) -> None:
        """Send one text (str) or binary (bytes) message."""
        if isinstance(message, str):
            self._send_frame(TEXT, message.encode("utf-8"))
        else:
            self._send_frame(BINARY, message)

    def recv(self) -> str | bytes:
        """Return the next data message; answer pings; raise ConnectionClosed on a close frame."""
        parts: list[bytes] = []
        first_opcode = None
        while True:
            b0, b1 = self._read(2)
            fin, opcode, n = b0 & 0x80, b0 & 0x0F, b1 & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", self._read(2))
            elif n == 127:
                (n,) = struct.unpack("!Q", self._read(8))
            mask = self._read(4) if b1 & 0x80 else None
            payload = self._read(n)
            if mask:
                payload = _apply_mask(payload, mask)
            if opcode == PING:
                self._send_frame(PONG, payload)
                continue
            if opcode == PONG:
                continue
            if opcode == CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                self._close_quietly(payload[:2])
                raise ConnectionClosed(code, payload[2:].decode("utf-8", "replace"))
            if opcode != CONT:
                first_opcode = opcode
            parts.append(payload)
            if fin:
                data = parts[0] if len(parts) == 1 else b"".join(parts)
                return data.decode("utf-8") if first_opcode == TEXT else data

    def roundtrip(self, message: str | bytes) -> str | bytes:
        """Send one message and return the next one received."""
        self.send(message)
        return self.recv()

    def _close_quietly(self, payload: bytes) -> None:
        try:
            self._send_frame(CLOSE, payload)
        except OSError:
            pass
        self.sock.close()

    def close(self) -> None:
        """Send a normal close frame and drop the socket (the benchmark does not wait for the echo)."""
        if self.sock.fileno() != -1:
            self._close_quietly(struct.pack("!H", 1000))

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
