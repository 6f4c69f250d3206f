"""HTTP and raw-socket helpers for the tests of issue 4 (limits, security, observability, faults)."""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Callable
from typing import Any

from tests.conftest import TIMEOUT, ServerProcess


def http_get(
    server: ServerProcess, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """GET ``path``; return status, headers and body."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def free_port() -> int:
    """A loopback port nothing listens on now (free for a moment: a server may take it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def health(server: ServerProcess) -> dict[str, Any]:
    """The server's ``/healthz`` JSON."""
    status, _, body = http_get(server, "/healthz")
    assert status == 200, body
    return json.loads(body)  # type: ignore[no-any-return]


def eventually(check: Callable[[], bool], timeout: float = TIMEOUT, what: str = "condition") -> None:
    """Poll ``check`` until it is true, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout} s")
        time.sleep(0.02)


def upgrade_request(server: ServerProcess, path: str = "/gym", extra: str = "") -> bytes:
    """A WebSocket handshake request, as raw bytes."""
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        f"Sec-WebSocket-Version: 13\r\n{extra}\r\n"
    ).encode()


def raw_connect(server: ServerProcess) -> socket.socket:
    """A plain TCP connection to the server."""
    return socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)


def read_until_closed(sock: socket.socket, timeout: float = TIMEOUT) -> bytes:
    """Everything the server sends until it closes the connection (fails on timeout)."""
    sock.settimeout(timeout)
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)
