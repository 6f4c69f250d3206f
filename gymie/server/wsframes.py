"""RFC 6455 frames on the server's green sockets, read and written without eventlet's per-frame cost.

eventlet reads a frame with a ``recv`` per header field and a Python generator per message,
and sends one ``bytes`` (so a reply is first joined to its header). Per CartPole step that was
a good part of the server's own time. Here:

- :class:`FrameReader` takes every byte that has arrived (the whole request, usually) with one
  ``recv_into`` and reads frames out of its buffer: two syscalls a step, a ``recv`` and a
  ``sendmsg``. A large payload is read straight into its message, unmasked chunk by chunk
  (a message costs about its size in memory however it is dribbled), yielding to the hub
  every :data:`YIELD_EVERY` reads. It makes eventlet's checks (RFC 6455 section 5), caps whole
  messages (``max_size`` over all fragments, at most :data:`MAX_FRAGMENTS` frames) before their
  payload is read, and reads and drops a refused frame so that the close frame reaches the peer.
  It does not decompress: a connection with permessage-deflate keeps eventlet's reader.
- :func:`send_buffers` sends a frame's header and its payload's buffers (a large ndarray's own
  memory, an image's rows of text) with ``sendmsg``: the kernel joins them. A send blocked for
  ``timeout`` seconds (the peer stopped reading) raises :class:`SendTimeout`.
"""

from __future__ import annotations

import os
import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

import eventlet
from eventlet import hubs
from eventlet.websocket import ConnectionClosedError, FailedConnectionError

try:
    from websockets.speedups import apply_mask
except ImportError:  # pragma: no cover - websockets built without its C extension
    from websockets.utils import apply_mask

MAX_FRAGMENTS = 1024
"""Most frames one message may be split into (each costs a little even when empty)."""
RECV_CHUNK = 256 * 1024
"""Largest single ``recv`` (a bigger one allocates a buffer that size)."""
YIELD_EVERY = 16
"""Reads of one frame between two yields to the hub, so a peer that keeps data waiting
(a large frame, or one dribbled faster than it is read) cannot hold the hub."""
FILL = 1 << 16
"""Most bytes one read for the next frames takes (a whole request, usually; a large payload is
then read straight into its message)."""
TEXT, BINARY = 0x1, 0x2
_LINGER_RESET = struct.pack("ii", 1, 0)
_local = threading.local()


def scratch() -> memoryview:
    """This thread's receive buffer, shared by its connections.

    What a read puts there is copied out before anything can yield. A buffer per connection
    would cost each one its size; a ``recv()`` of N bytes allocates N, then shrinks it.
    """
    try:
        return _local.scratch  # type: ignore[no-any-return]
    except AttributeError:
        _local.scratch = memoryview(bytearray(RECV_CHUNK))
        return _local.scratch  # type: ignore[no-any-return]


def check_header(first: int, second: int, continuing: bool, deflate: bool = False) -> None:
    """The checks eventlet makes of a frame's first two bytes (RFC 6455 section 5.2), in its words.

    ``continuing``: a fragmented message is being read; ``deflate``: permessage-deflate was
    negotiated, so RSV1 may be set.

    Raises:
        FailedConnectionError: the frame breaks the protocol (close 1002).
    """
    fin, rsv, opcode, length = first & 0x80, first & 0x70, first & 0x0F, second & 0x7F
    if rsv and not (deflate and rsv == 0x40):
        raise FailedConnectionError(1002, "RSV1, RSV2, RSV3: MUST be 0 unless an extension is negotiated")
    if opcode not in (0, 1, 2, 8, 9, 0xA):
        raise FailedConnectionError(1002, "Unknown opcode received.")
    if not second & 0x80:
        raise FailedConnectionError(1002, "A client MUST mask all frames that it sends to the server")
    if opcode & 8:
        if not fin or length > 125:
            raise FailedConnectionError(1002, "Control frames must not be fragmented or above 125 bytes")
    elif opcode and continuing:
        raise FailedConnectionError(1002, "Received a new message within a fragmented message.")
    elif not opcode and not continuing:
        raise FailedConnectionError(1002, "Received a continuation frame with no message to continue.")


class SendTimeout(TimeoutError):
    """A send stayed blocked for ``send_timeout`` seconds: the peer is not reading."""


def frame_header(opcode: int, length: int) -> bytes:
    """An unmasked, final RFC 6455 frame header (as a server sends them)."""
    if length < 126:
        return struct.pack("!BB", 0x80 | opcode, length)
    if length < 1 << 16:
        return struct.pack("!BBH", 0x80 | opcode, 126, length)
    return struct.pack("!BBQ", 0x80 | opcode, 127, length)


def send_all(sock: Any, data: bytes, timeout: float | None) -> None:
    """Send all of ``data`` on a green socket (see :func:`send_buffers`)."""
    send_buffers(sock, [data], timeout)


def send_buffers(sock: Any, buffers: list[bytes | memoryview], timeout: float | None) -> None:
    """Send ``buffers`` in order on a green socket: one ``sendmsg`` when the socket takes them all.

    At most :data:`IOV_MAX` buffers go to each call (a rendered frame's text has a piece per
    row). While the socket's buffer is full the green thread parks.

    Raises:
        SendTimeout: the send stayed blocked for ``timeout`` seconds; the socket is set to reset
            on close, dropping what the kernel still holds for the peer.
        OSError: the connection failed.
    """
    raw: socket.socket = sock.fd
    deadline = None
    while buffers:
        batch = buffers[:IOV_MAX]
        offered = sum(len(b) for b in batch)
        try:
            sent = raw.sendmsg(batch)
        except BlockingIOError:
            sent = 0
        buffers = _drop(buffers, sent)
        if sent < offered:  # the socket's buffer is full: wait until it drains
            if deadline is None and timeout is not None:
                deadline = time.monotonic() + timeout
            _wait_writable(raw, deadline, timeout)


def _wait_writable(raw: socket.socket, deadline: float | None, timeout: float | None) -> None:
    remaining = None if deadline is None else deadline - time.monotonic()
    if remaining is not None and remaining <= 0:
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        raise SendTimeout(f"a send stayed blocked for {timeout:g} s: the peer is not reading")
    try:
        hubs.trampoline(raw, write=True, timeout=remaining, timeout_exc=_Blocked)
    except _Blocked:
        pass
    except hubs.IOClosed:
        raise ConnectionResetError("the connection was closed by another green thread") from None


class _Blocked(Exception):
    pass


def _drop(buffers: list[bytes | memoryview], sent: int) -> list[bytes | memoryview]:
    """``buffers`` without their first ``sent`` bytes (and without empty ones in front)."""
    done = 0
    while done < len(buffers) and sent >= len(buffers[done]):
        sent -= len(buffers[done])
        done += 1
    rest = buffers[done:]
    if sent:
        rest[0] = memoryview(rest[0])[sent:]
    return rest


def _iov_max() -> int:
    try:
        most = os.sysconf("SC_IOV_MAX")
    except (AttributeError, ValueError, OSError):
        most = -1
    return min(most, 1024) if most >= 16 else 16


IOV_MAX = _iov_max()
"""Most buffers one ``sendmsg`` takes."""


class FrameReader:
    """Whole messages from a client's green socket: ``str`` for text, ``bytes`` for binary."""

    def __init__(self, sock: Any, max_size: int) -> None:
        self.sock = sock
        self.max_size = max_size
        self._inbox = bytearray()  # received, not yet read as frames
        self._fragments: list[bytes | bytearray] = []
        self._opcode = 0
        self._size = 0

    def message(self, on_control: Callable[[int, bytes], None]) -> str | bytes:
        """The next data message; control frames go to ``on_control(opcode, payload)`` meanwhile.

        Raises:
            FailedConnectionError: the client broke the protocol or a limit (close with its code).
            ConnectionClosedError: the client went away.
        """
        while True:
            fin, opcode, payload = self._frame()
            if opcode & 8:
                on_control(opcode, bytes(payload))
                continue
            if opcode:
                self._opcode = opcode
            if fin and not self._fragments:
                data: bytes | bytearray = payload
            else:
                self._fragments.append(payload)
                if not fin:
                    continue
                data, self._fragments = b"".join(self._fragments), []
            self._size = 0
            if self._opcode == BINARY:
                return bytes(data) if isinstance(data, bytearray) else data
            try:
                return data.decode("utf-8")
            except UnicodeDecodeError:
                raise FailedConnectionError(1007, "Text data must be valid utf-8") from None

    def _frame(self) -> tuple[bool, int, bytes | bytearray]:
        """The next frame: ``(fin, opcode, unmasked payload)``."""
        inbox = self._inbox
        while len(inbox) < 2:
            self._fill()
        first, second = inbox[0], inbox[1]
        length = second & 0x7F
        check_header(first, second, bool(self._fragments))
        head = 6 if length < 126 else 8 if length == 126 else 14  # with the 4-byte mask
        while len(inbox) < head:
            self._fill()
        if head > 6:
            length = int.from_bytes(inbox[2 : head - 4], "big")
        mask = bytes(inbox[head - 4 : head])
        self._check_size(first & 0x0F, length, head)
        if len(inbox) >= head + length:  # the whole frame has arrived (every ordinary request)
            with memoryview(inbox) as view:
                payload: bytes | bytearray = apply_mask(view[head : head + length], mask)
            del inbox[: head + length]
        else:
            payload = self._read_payload(head, length, mask)
        if not first & 8:
            self._size += length
        return bool(first & 0x80), first & 0x0F, payload

    def _read_payload(self, head: int, length: int, mask: bytes) -> bytearray:
        """A frame's payload that has not all arrived: read into its own buffer, unmasked by chunks."""
        payload = bytearray(apply_mask(bytes(self._inbox[head:]), mask))
        del self._inbox[:]
        reads = 0
        while len(payload) < length:
            got = self._recv(min(length - len(payload), RECV_CHUNK))
            payload += unmasked(scratch()[:got], mask, len(payload))
            reads += 1
            if not reads % YIELD_EVERY:  # recv_into yields only when no data is waiting
                eventlet.sleep(0)
        return payload

    def _check_size(self, opcode: int, length: int, head: int) -> None:
        """A data message is capped as a whole, before its payload is read (then read and dropped)."""
        if opcode & 8:
            return
        if self._size + length > self.max_size:
            self._skip(head, length)
            raise FailedConnectionError(1009, f"Message is above the limit of {self.max_size} bytes")
        if len(self._fragments) >= MAX_FRAGMENTS:
            self._skip(head, length)
            raise FailedConnectionError(1009, f"Message is in more than {MAX_FRAGMENTS} frames")

    def _skip(self, head: int, length: int) -> None:
        """Read and drop a refused frame (if it is no bigger than a message may be).

        Closing a socket with unread data makes the kernel reset the connection, and the
        reset can destroy our close frame before the peer reads it.
        """
        if length > self.max_size:
            return
        left = head + length - len(self._inbox)
        self._inbox.clear()
        while left > 0:
            try:
                left -= self._recv(min(left, RECV_CHUNK))
            except ConnectionClosedError:
                return

    def _fill(self) -> None:
        """Add what has arrived (waiting for it if need be) to the inbox."""
        self._inbox += scratch()[: self._recv(FILL)]

    def _recv(self, most: int) -> int:
        """``recv_into`` :func:`scratch` (at most ``most`` bytes), parking while nothing has arrived.

        ``recv`` first: the next request has usually arrived while the previous reply was being
        finished (strace: 1 EAGAIN in 75 requests), and waiting first would cost a trip through
        the hub (two ``epoll_ctl`` and an ``epoll_wait``) every time.
        """
        raw: socket.socket = self.sock.fd
        while True:
            try:
                got = raw.recv_into(scratch(), most)
                break
            except BlockingIOError:
                timeout = self.sock.gettimeout()
                hubs.trampoline(raw, read=True, timeout=timeout, timeout_exc=TimeoutError("timed out"))
        if not got:
            raise ConnectionClosedError()
        return got


def unmasked(data: bytes | memoryview, mask: bytes, offset: int) -> bytes:
    """``data`` unmasked, the ``offset``-th byte of its payload first (a payload read in chunks)."""
    shift = offset % 4
    return apply_mask(data, mask[shift:] + mask[:shift] if shift else mask)
