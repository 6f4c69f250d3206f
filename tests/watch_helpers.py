"""Helpers of the dashboard tests: a raw ``/watch`` client, an agent on a thread, a PNG reader."""

from __future__ import annotations

import base64
import json
import struct
import threading
import time
import zlib
from typing import Any

import msgpack
import numpy as np
from websockets.sync.client import ClientConnection, connect

from tests.conftest import TIMEOUT, ServerProcess

MSGPACK = "gymie.msgpack"


def decode_png(data: bytes) -> np.ndarray[Any, Any]:
    """Read back the PNGs encode_png writes (8-bit, no interlace, filter 0), checking every CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        tag, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(tag + body), tag
        chunks[tag] = body
        pos += 12 + length
    width, height, depth, color, *_ = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    channels = {0: 1, 2: 3, 6: 4}[color]
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(height, width * channels + 1)
    assert depth == 8 and not rows[:, 0].any() and b"IEND" in chunks
    return rows[:, 1:].reshape(height, width, channels)


class Watch:
    """A raw ``/watch`` client: JSON-RPC calls, and the notifications that arrive meanwhile."""

    def __init__(self, server: ServerProcess, encoding: str = "msgpack", token: str = "") -> None:
        self.msgpack = encoding == "msgpack"
        url = server.url.removesuffix("/gym") + f"/watch?token={token}"
        protocols = [MSGPACK] if self.msgpack else None
        ws = connect(url, subprotocols=protocols, open_timeout=TIMEOUT)  # type: ignore[arg-type]
        self.ws: ClientConnection = ws.__enter__()  # closed by close()
        self.notes: list[dict[str, Any]] = []
        self._ids = iter(range(1, 10**6))

    def send(self, message: Any) -> None:
        self.ws.send(msgpack.packb(message) if self.msgpack else json.dumps(message))

    def receive(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        frame = self.ws.recv(timeout=timeout)
        if self.msgpack:
            assert isinstance(frame, bytes)
            return msgpack.unpackb(frame)  # type: ignore[no-any-return]
        assert isinstance(frame, str)
        return json.loads(frame)  # type: ignore[no-any-return]

    def reply(self, method: str, **params: Any) -> dict[str, Any]:
        """The whole reply to one call (notifications that come first are kept in ``notes``)."""
        rid = next(self._ids)
        self.send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        while True:
            message = self.receive()
            if message.get("id") == rid:
                return message
            self.notes.append(message)

    def call(self, method: str, **params: Any) -> Any:
        reply = self.reply(method, **params)
        assert "error" not in reply, reply
        return reply["result"]

    def next(self, method: str, timeout: float = TIMEOUT, where: Any = None) -> dict[str, Any]:
        """The params of the next ``method`` notification (passing ``where``, if given)."""
        deadline = time.monotonic() + timeout
        while True:
            while self.notes:
                note = self.notes.pop(0)
                if note.get("method") == method and (where is None or where(note["params"])):
                    return note["params"]  # type: ignore[no-any-return]
            self.notes.append(self.receive(max(0.01, deadline - time.monotonic())))

    def collect(self, seconds: float) -> list[dict[str, Any]]:
        """Every notification in the next ``seconds``."""
        found, self.notes = self.notes, []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                found.append(self.receive(left))
            except TimeoutError:
                break
        return found

    def close(self) -> None:
        self.ws.close()


class Stepper:
    """Steps an env on a thread until stopped (a remote env is used by one thread at a time)."""

    def __init__(self, env: Any) -> None:
        self.env, self.steps, self._stop = env, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            _, _, terminated, truncated, _ = self.env.step(self.env.action_space.sample())
            self.steps += 1
            if terminated or truncated:
                self.env.reset()

    def __enter__(self) -> Stepper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(TIMEOUT)


def png_of(frame: dict[str, Any]) -> bytes:
    png = frame["png"]
    return base64.b64decode(png) if isinstance(png, str) else png  # type: ignore[no-any-return]
