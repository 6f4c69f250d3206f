"""The server's WebSocket: eventlet's RFC 6455 handler with bounded memory and bounded sends.

- Incoming messages accumulate in one ``bytearray`` per message, so a message costs about its
  payload however it is split (eventlet keeps one ``bytes`` object per ``recv``: a frame
  dribbled a few bytes per TCP segment cost ~15 bytes of memory per payload byte). The size cap
  (``--max-message-size``) applies to the whole message, checked before its bytes are read.
- Unmasking is done in C (eventlet unmasks one generator step per byte).
- A send that cannot complete within ``send_timeout`` seconds (the peer stopped reading) raises
  :class:`SendTimeout`; the connection is then reset, not flushed. A send that fits in the
  socket buffer (every ordinary reply) costs one ``send`` call and no timer.
- The pre-RFC 6455 (hixie-76) handshake is refused: its reader buffers without any limit.

Importing this module imports eventlet.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

import eventlet
from eventlet import hubs, websocket
from eventlet.websocket import ConnectionClosedError, FailedConnectionError

try:
    from websockets.speedups import apply_mask
except ImportError:  # pragma: no cover - websockets built without its C extension
    from websockets.utils import apply_mask

MAX_FRAGMENTS = 1024
"""Most frames one message may be split into (each costs a little even when empty)."""
RECV_CHUNK = 256 * 1024
"""Largest single ``recv`` while reading a payload (a bigger one allocates a buffer that size)."""
YIELD_EVERY = 16
"""Reads of one frame between two yields to the hub, so a peer that keeps data waiting
(a large frame, or one dribbled faster than it is read) cannot hold the hub."""
_LINGER_RESET = struct.pack("ii", 1, 0)


class SendTimeout(TimeoutError):
    """A send stayed blocked for ``send_timeout`` seconds: the peer is not reading."""


def send_all(sock: Any, data: bytes, timeout: float | None) -> None:
    """Send all of ``data`` on a green socket, parking the green thread while the buffer is full.

    Raises:
        SendTimeout: the whole send took longer than ``timeout`` seconds; the socket is set to
            reset on close, dropping what the kernel still holds for the peer.
        OSError: the connection failed.
    """
    raw = sock.fd
    try:
        sent = raw.send(data)
    except BlockingIOError:
        sent = 0
    if sent < len(data):
        _send_rest(raw, memoryview(data)[sent:], timeout)


def _send_rest(raw: socket.socket, view: memoryview, timeout: float | None) -> None:
    deadline = None if timeout is None else time.monotonic() + timeout
    while view:
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
            raise SendTimeout(f"a send stayed blocked for {timeout:g} s: the peer is not reading")
        try:
            hubs.trampoline(raw, write=True, timeout=remaining, timeout_exc=_Blocked)
        except _Blocked:
            continue
        except hubs.IOClosed:
            raise ConnectionResetError("the connection was closed by another green thread") from None
        try:
            view = view[raw.send(view) :]
        except BlockingIOError:
            continue


class _Blocked(Exception):
    pass


class Message:
    """One incoming message (or control frame): its opcode and payload so far, in one buffer."""

    __slots__ = ("opcode", "finished", "frames", "data", "decompressor", "limit")

    def __init__(self, opcode: int, limit: int, decompressor: Any = None) -> None:
        self.opcode = opcode
        self.finished = False
        self.frames = 0
        self.data = bytearray()
        self.decompressor = decompressor
        self.limit = limit

    def getvalue(self) -> str | bytes:
        """The payload: ``str`` for a text message, else ``bytes``; bad UTF-8 fails with 1007."""
        data: bytes | bytearray = self.data
        if not self.opcode & 8 and self.decompressor is not None:
            data = self.decompressor.decompress(bytes(data) + b"\x00\x00\xff\xff", self.limit)
            if self.decompressor.unconsumed_tail:
                raise FailedConnectionError(
                    1009, f"Incoming compressed frame exceeds length limit of {self.limit} bytes."
                )
        if self.opcode == 1:
            try:
                return data.decode("utf-8")
            except UnicodeDecodeError:
                raise FailedConnectionError(1007, "Text data must be valid utf-8") from None
        return bytes(data)


_local = threading.local()


def _scratch() -> memoryview:
    """This thread's receive buffer (a recv() of N bytes would allocate N, then shrink: fragmentation)."""
    try:
        return _local.scratch  # type: ignore[no-any-return]
    except AttributeError:
        _local.scratch = memoryview(bytearray(RECV_CHUNK))
        return _local.scratch  # type: ignore[no-any-return]


def _unmask(data: bytes | memoryview, mask: bytes, offset: int) -> bytes:
    shift = offset % 4
    return apply_mask(data, mask[shift:] + mask[:shift] if shift else mask)


class CappedWebSocket(websocket.RFC6455WebSocket):  # type: ignore[misc]
    """An RFC 6455 WebSocket whose ``max_frame_length`` caps whole messages, with timed sends."""

    send_timeout: float | None = None

    def _send(self, frame: bytes) -> None:
        with self._sendlock:
            send_all(self.socket, frame, self.send_timeout)

    def _recv_frame(self, message: Message | None = None) -> Message:
        first, second = self._get_bytes(2)
        finished, rsv, opcode = bool(first & 0x80), first >> 4 & 7, first & 15
        length = second & 127
        self._check_header(rsv, opcode, bool(second & 0x80), finished, length, message)
        if length == 126:
            length = struct.unpack("!H", self._get_bytes(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._get_bytes(8))[0]
        control = bool(opcode & 8)
        if message is None or control:
            message = Message(opcode, self.max_frame_length, self._get_permessage_deflate_dec(rsv & 4))
        mask = self._get_bytes(4)
        if not control and len(message.data) + length > self.max_frame_length:
            self._skip(length)
            raise FailedConnectionError(1009, f"Message is above the limit of {self.max_frame_length} bytes")
        if not control and message.frames >= MAX_FRAGMENTS:
            self._skip(length)
            raise FailedConnectionError(1009, f"Message is in more than {MAX_FRAGMENTS} frames")
        self._read_payload(message.data, length, mask)
        message.frames += 1
        message.finished = finished
        return message

    def _check_header(
        self, rsv: int, opcode: int, masked: bool, finished: bool, length: int, message: Message | None
    ) -> None:
        """The checks of RFC 6455 section 5.2 that eventlet makes, in the same order and words."""
        if rsv and (rsv != 4 or "permessage-deflate" not in self.extensions):
            raise FailedConnectionError(1002, "RSV1, RSV2, RSV3: MUST be 0 unless an extension is negotiated")
        if opcode not in (0, 1, 2, 8, 9, 0xA):
            raise FailedConnectionError(1002, "Unknown opcode received.")
        if not masked:
            raise FailedConnectionError(1002, "A client MUST mask all frames that it sends to the server")
        if opcode & 8 and (not finished or length > 125):
            raise FailedConnectionError(1002, "Control frames must not be fragmented or above 125 bytes")
        if opcode & 8:
            return
        if opcode and message is not None:
            raise FailedConnectionError(1002, "Received a new message within a fragmented message.")
        if not opcode and message is None:
            raise FailedConnectionError(1002, "Received a continuation frame with no message to continue.")

    def _skip(self, length: int) -> None:
        """Read and drop a refused frame's payload (if it is no bigger than a frame may be).

        Closing a socket with unread data makes the kernel reset the connection, and the
        reset can destroy our close frame before the peer reads it.
        """
        if length > self.max_frame_length:
            return
        scratch = _scratch()
        while length:
            size = self.socket.recv_into(scratch, min(length, RECV_CHUNK))
            if not size:
                return
            length -= size

    def _read_payload(self, buffer: bytearray, length: int, mask: bytes) -> None:
        scratch = _scratch()
        received = reads = 0
        while received < length:
            size = self.socket.recv_into(scratch, min(length - received, RECV_CHUNK))
            if not size:
                raise ConnectionClosedError()
            buffer += _unmask(scratch[:size], mask, received)
            received += size
            reads += 1
            if not reads % YIELD_EVERY:  # recv_into yields only when no data is waiting
                eventlet.sleep(0)


class GymieWebSocketWSGI(websocket.WebSocketWSGI):  # type: ignore[misc]
    """eventlet's WebSocketWSGI, giving the handler a :class:`CappedWebSocket`; no hixie-76."""

    def __init__(
        self, handler: Callable[[Any], None], max_message_size: int, send_timeout: float | None = None
    ) -> None:
        super().__init__(handler, max_frame_length=max_message_size)
        self.support_legacy_versions = False
        self.send_timeout = send_timeout

    def _handle_hybi_request(self, environ: dict[str, Any]) -> CappedWebSocket:
        ws = super()._handle_hybi_request(environ)
        capped = CappedWebSocket(
            ws.socket,
            ws.environ,
            ws.version,
            protocol=ws.protocol,
            extensions=ws.extensions,
            max_frame_length=ws.max_frame_length,
        )
        capped.send_timeout = self.send_timeout
        return capped
