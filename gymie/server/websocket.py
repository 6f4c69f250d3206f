"""The server's WebSocket: eventlet's RFC 6455 handler with bounded memory and bounded sends.

- Messages are read by :class:`~gymie.server.wsframes.FrameReader` and replies sent with
  :func:`~gymie.server.wsframes.send_buffers` (one ``recv`` and one ``sendmsg`` a step; a
  reply's buffers are never joined). A connection that negotiated permessage-deflate keeps
  eventlet's reader and writer, made safe as below.
- Incoming messages accumulate in one ``bytearray`` per message, so a message costs about its
  payload however it is split (eventlet keeps one ``bytes`` object per ``recv``: a frame
  dribbled a few bytes per TCP segment cost ~15 bytes of memory per payload byte). The size cap
  (``--max-message-size``) applies to the whole message, checked before its bytes are read.
- Unmasking is done in C (eventlet unmasks one generator step per byte).
- A send that cannot complete within ``send_timeout`` seconds (the peer stopped reading) raises
  :class:`SendTimeout`; the connection is then reset, not flushed. A send that fits in the
  socket buffer (every ordinary reply) costs one ``sendmsg`` call and no timer.
- The pre-RFC 6455 (hixie-76) handshake is refused: its reader buffers without any limit.

Importing this module imports eventlet.
"""

from __future__ import annotations

import contextlib
import socket
import struct
from collections.abc import Callable, Sequence
from typing import Any

import eventlet
from eventlet import websocket
from eventlet.websocket import ConnectionClosedError, FailedConnectionError

from gymie.codec import Frame
from gymie.replies import whole
from gymie.server.wsframes import (
    BINARY,
    MAX_FRAGMENTS,
    RECV_CHUNK,
    TEXT,
    YIELD_EVERY,
    FrameReader,
    SendTimeout,
    check_header,
    frame_header,
    scratch,
    send_all,
    send_buffers,
    unmasked,
)

__all__ = ["CappedWebSocket", "GymieWebSocketWSGI", "SendTimeout"]


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


class CappedWebSocket(websocket.RFC6455WebSocket):  # type: ignore[misc]
    """An RFC 6455 WebSocket whose ``max_frame_length`` caps whole messages, with timed sends."""

    send_timeout: float | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reader: FrameReader | None = FrameReader(self.socket, self.max_frame_length)
        with contextlib.suppress(OSError):  # the tail of a large reply must not wait for an ACK
            self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def wait(self) -> Any:
        """The next message (``str`` text, ``bytes`` binary); None once the connection is closed."""
        if self.extensions:  # permessage-deflate: eventlet's reader, with _recv_frame below
            return super().wait()
        if self._reader is None:
            return None
        try:
            return self._reader.message(self._handle_control_frame)
        except FailedConnectionError as exc:
            self.close(close_data=(exc.status, exc.message))
        except ConnectionClosedError:
            pass
        except Exception:
            self._reader = None
            self.close(close_data=(1011, "Internal Server Error"))
            raise
        self._reader = None
        return None

    def send_message(self, message: str | bytes | Frame) -> None:
        """Send one data message in one frame: header and payload go out in one ``sendmsg``."""
        if self.extensions:  # permessage-deflate: eventlet compresses
            self.send(whole(message))
            return
        if isinstance(message, str):
            payload: Sequence[bytes | memoryview] = [message.encode("utf-8")]
            opcode, size = TEXT, len(payload[0])
        elif isinstance(message, Frame):
            payload, opcode, size = message.buffers, TEXT if message.text else BINARY, message.nbytes
        else:
            payload, opcode, size = [message], BINARY, len(message)
        with self._sendlock:
            send_buffers(self.socket, [frame_header(opcode, size), *payload], self.send_timeout)

    def _send(self, frame: bytes) -> None:
        with self._sendlock:
            send_all(self.socket, frame, self.send_timeout)

    def _recv_frame(self, message: Message | None = None) -> Message:
        first, second = self._get_bytes(2)
        finished, rsv, opcode = bool(first & 0x80), first >> 4 & 7, first & 15
        length = second & 127
        check_header(first, second, message is not None, "permessage-deflate" in self.extensions)
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

    def _skip(self, length: int) -> None:
        """Read and drop a refused frame's payload (if it is no bigger than a frame may be).

        Closing a socket with unread data makes the kernel reset the connection, and the
        reset can destroy our close frame before the peer reads it.
        """
        if length > self.max_frame_length:
            return
        while length:
            size = self.socket.recv_into(scratch(), min(length, RECV_CHUNK))
            if not size:
                return
            length -= size

    def _read_payload(self, buffer: bytearray, length: int, mask: bytes) -> None:
        received = reads = 0
        while received < length:
            size = self.socket.recv_into(scratch(), min(length - received, RECV_CHUNK))
            if not size:
                raise ConnectionClosedError()
            buffer += unmasked(scratch()[:size], mask, received)
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
