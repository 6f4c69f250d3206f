"""gymie.server.wsframes: frames read from and sent to green sockets, whatever the socket delivers."""

from __future__ import annotations

import socket

import numpy as np
import pytest

eventlet = pytest.importorskip("eventlet")
from eventlet.green import socket as green_socket  # noqa: E402

from gymie.codec import Frame, encode_msgpack_frame  # noqa: E402
from gymie.server.wsframes import frame_header, send_buffers  # noqa: E402


def sent_through_a_socketpair(
    buffers: list[bytes | memoryview], chunk: int, send_buffer: int | None = None
) -> bytearray:
    """What a green reader receives, ``chunk`` bytes a read, while ``send_buffers`` sends ``buffers``."""
    size = sum(len(buffer) for buffer in buffers)
    sender, receiver = green_socket.socketpair()
    if send_buffer is not None:
        sender.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
    received = bytearray()

    def read() -> None:
        while len(received) < size:
            received.extend(receiver.recv(chunk))
            eventlet.sleep(0)

    reader = eventlet.spawn(read)
    try:
        send_buffers(sender, buffers, None)
        reader.wait()
    finally:
        sender.close()
        receiver.close()
    return received


@pytest.mark.parametrize("chunk", [1, 777, 65536])
def test_send_buffers_survives_partial_sends(chunk: int) -> None:
    image = np.arange(210 * 160 * 3, dtype=np.uint32).astype(np.uint8).reshape(210, 160, 3)
    frame = encode_msgpack_frame({"observation": image, "reward": 1.0, "more": image[::-1]})
    assert isinstance(frame, Frame)
    buffers = [frame_header(2, len(frame)), *frame.buffers]
    expected = b"".join(buffers)
    assert sent_through_a_socketpair(buffers, chunk, send_buffer=4096) == expected  # partial sends, EAGAIN


@pytest.mark.parametrize(("length", "size"), [(0, 2), (125, 2), (126, 4), (65535, 4), (65536, 10)])
def test_frame_headers_use_the_shortest_length(length: int, size: int) -> None:
    header = frame_header(2, length)
    assert len(header) == size and header[0] == 0x82 and not header[1] & 0x80


def masked(opcode: int, payload: bytes, fin: bool = True, mask: bytes = b"\x01\x02\x03\x04") -> bytes:
    """A client frame."""
    n = len(payload)
    first = (0x80 if fin else 0) | opcode
    if n < 126:
        head = bytes([first, 0x80 | n])
    elif n < 1 << 16:
        head = bytes([first, 0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([first, 0x80 | 127]) + n.to_bytes(8, "big")
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def read_all(data: bytes, chunk: int, max_size: int = 1 << 20) -> list[object]:
    """What FrameReader makes of ``data`` arriving ``chunk`` bytes at a time (then EOF)."""
    from eventlet.websocket import ConnectionClosedError, FailedConnectionError

    from gymie.server.wsframes import FrameReader

    client, server = green_socket.socketpair()
    controls: list[object] = []

    def write() -> None:
        for at in range(0, len(data), chunk):
            client.sendall(data[at : at + chunk])
            eventlet.sleep(0)
        client.close()

    writer = eventlet.spawn(write)
    reader = FrameReader(server, max_size)
    out: list[object] = []
    try:
        while True:
            out.append(reader.message(lambda opcode, payload: controls.append((opcode, payload))))
    except FailedConnectionError as exc:
        out.append((exc.status, exc.message))
    except ConnectionClosedError:
        pass
    writer.wait()
    server.close()
    return out + controls


@pytest.mark.parametrize("chunk", [1, 3, 1000, 1 << 20])
def test_the_reader_reads_messages_however_they_arrive(chunk: int) -> None:
    big = bytes(range(256)) * 300
    data = (
        masked(1, b'{"method": "step"}')
        + masked(2, big)
        + masked(1, "héllo".encode()[:3], fin=False)
        + masked(9, b"ping")  # a control frame between fragments
        + masked(0, "héllo".encode()[3:])
        + masked(2, b"")
        + masked(2, b"x" * 70_000)
    )
    assert read_all(data, chunk) == ['{"method": "step"}', big, "héllo", b"", b"x" * 70_000, (9, b"ping")]


@pytest.mark.parametrize(
    ("frames", "code"),
    [
        ([masked(1, b"\xff\xfe")], 1007),
        ([masked(0, b"first")], 1002),
        ([masked(3, b"reserved")], 1002),
        ([bytes([0x81, 0x02]) + b"hi"], 1002),  # not masked
        ([bytes([0xC1, 0x80])], 1002),  # RSV1 without an extension
        ([masked(9, b"x" * 126)], 1002),
        ([masked(9, b"x", fin=False)], 1002),
        ([masked(1, b"[", fin=False), masked(1, b"]")], 1002),
        ([masked(2, b"x" * 5000)], 1009),
        ([masked(2, b"x" * 3000, fin=False), masked(0, b"x" * 3000)], 1009),
        ([masked(2, b"", fin=False)] + [masked(0, b"", fin=False)] * 1024, 1009),
    ],
)
def test_the_reader_refuses_what_eventlet_refuses(frames: list[bytes], code: int) -> None:
    out = read_all(b"".join(frames), 1 << 20, max_size=4096)
    assert isinstance(out[-1], tuple) and out[-1][0] == code


def test_more_buffers_than_one_sendmsg_takes() -> None:
    from gymie.server.wsframes import IOV_MAX

    buffers: list[bytes | memoryview] = [bytes([i % 251]) * (i % 7 + 1) for i in range(3 * IOV_MAX + 5)]
    expected = b"".join(buffers)
    assert sent_through_a_socketpair(buffers, 65536) == expected
