"""gymie.client.websocket: the client's own frame reader and writer, against a websockets server."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from websockets.exceptions import InvalidStatus
from websockets.http11 import Response
from websockets.sync.server import ServerConnection, serve

from gymie.client.transport import Websockets, open_websocket
from gymie.client.websocket import WebSocket
from tests.conftest import SCALE, TIMEOUT


@contextmanager
def server(handler: Callable[[ServerConnection], None], **kwargs: object) -> Iterator[str]:
    """A websockets server on loopback running ``handler`` per connection; yields its URL."""
    with serve(handler, "127.0.0.1", 0, compression=None, **kwargs) as srv:  # type: ignore[arg-type]
        thread = threading.Thread(target=srv.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"ws://127.0.0.1:{srv.socket.getsockname()[1]}/gym"
        finally:
            srv.shutdown()
            thread.join(TIMEOUT)


def echo(ws: ServerConnection) -> None:
    for message in ws:
        ws.send(message)


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 40_000, 300_000])
@pytest.mark.parametrize("kind", [bytes, str])
def test_messages_of_every_header_size_round_trip(size: int, kind: type) -> None:
    message = bytes(range(256)) * (size // 256) + bytes(size % 256)
    payload = message.decode("latin-1") if kind is str else message
    with server(echo, max_size=None) as url:
        ws = WebSocket(url, max_size=None)
        for _ in range(3):
            ws.send(payload)
            got = ws.recv(TIMEOUT)
            assert got == payload and type(got) in ((str,) if kind is str else (bytes, bytearray))
        ws.close()
        assert ws.closed


def test_fragments_pings_and_the_subprotocol() -> None:
    def handler(ws: ServerConnection) -> None:
        ws.recv()
        ws.ping(b"hi")
        ws.send([b"ab", b"cd", b"e" * 70_000])  # one message in three frames
        ws.send(["x", "y"])

    with server(handler, subprotocols=["gymie.msgpack"]) as url:  # type: ignore[list-item]
        ws = WebSocket(url, ["gymie.msgpack"], max_size=None)  # type: ignore[list-item]
        assert ws.subprotocol == "gymie.msgpack"
        ws.send(b"go")
        assert ws.recv(TIMEOUT) == b"abcd" + b"e" * 70_000
        assert ws.recv(TIMEOUT) == "xy"
        ws.close()


def test_a_timeout_keeps_what_arrived_for_the_next_recv() -> None:
    """The reply's first bytes arrive, then a pause past the timeout: the next recv completes it."""
    big = bytes(range(256)) * 1000

    def handler(ws: ServerConnection) -> None:
        ws.recv()
        raw = ws.socket
        raw.sendall(struct.pack("!BBQ", 0x82, 127, len(big)) + big[:1000])
        time.sleep(0.3 * SCALE)
        raw.sendall(big[1000:])
        ws.recv()

    with server(handler) as url:
        ws = WebSocket(url, max_size=None)
        ws.send(b"go")
        with pytest.raises(TimeoutError):
            ws.recv(0.05 * SCALE)
        assert ws.recv(TIMEOUT) == big
        ws.close()


def test_the_server_closing_and_oversized_messages_raise_connection_error() -> None:
    def handler(ws: ServerConnection) -> None:
        message = ws.recv()
        if message == b"big":
            ws.send(b"x" * 2000)
        ws.close(1001, "going away")

    with server(handler) as url:
        ws = WebSocket(url)
        ws.send(b"bye")
        with pytest.raises(ConnectionError, match="1001 going away"):
            ws.recv(TIMEOUT)
        assert ws.closed
        with pytest.raises(ConnectionError):
            ws.send(b"more")
        small = WebSocket(url, max_size=1000)
        small.send(b"big")
        with pytest.raises(ConnectionError, match="limit of 1000 bytes"):
            small.recv(TIMEOUT)
        assert small.closed


def test_a_refused_handshake_raises_websockets_own_error() -> None:
    def process_request(connection: ServerConnection, request: object) -> Response:
        return connection.respond(401, "no token\n")

    with server(echo, process_request=process_request) as url:
        with pytest.raises(InvalidStatus) as refused:
            WebSocket(url, open_timeout=TIMEOUT)
    assert refused.value.response.status_code == 401


def test_a_silent_server_times_out_the_handshake() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    try:
        url = f"ws://127.0.0.1:{listener.getsockname()[1]}/gym"
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            WebSocket(url, open_timeout=0.2 * SCALE)
        assert time.monotonic() - started < 2 * SCALE
    finally:
        listener.close()


def test_options_it_lacks_go_to_websockets_own_client() -> None:
    with server(echo) as url:
        fast = open_websocket(url, None, open_timeout=TIMEOUT)
        other = open_websocket(url, None, open_timeout=TIMEOUT, ping_interval=None)
        assert isinstance(fast, WebSocket) and isinstance(other, Websockets)
        for ws in (fast, other):
            ws.send("hello")
            assert ws.recv(TIMEOUT) == "hello"
            ws.close()
            assert ws.closed


def test_borrowed_messages_come_in_a_reused_buffer() -> None:
    first, second = bytes(range(256)) * 500, bytes(reversed(range(256))) * 400  # past a 64 KiB read

    def handler(ws: ServerConnection) -> None:
        ws.recv()
        ws.send(first)
        ws.send(second)
        ws.send([second[:90_000], second[90_000:]])  # fragments: kept, so not borrowed

    with server(handler, max_size=None) as url:
        ws = WebSocket(url, max_size=None)
        ws.send(b"go")
        got = ws.recv(TIMEOUT, borrow=True)
        assert isinstance(got, memoryview) and got == first
        again = ws.recv(TIMEOUT, borrow=True)
        assert again == second and again.obj is got.obj  # the same buffer, reused
        assert ws.recv(TIMEOUT, borrow=True) == second
        ws.close()
