"""What each copy of a Pong frame costs, and which ones gymie no longer makes.

Usage (from the repository root)::

    .venv/bin/python bench/copies.py [--repeats 7]

A Pong reply (a 210x160x3 uint8 observation, 100,800 bytes, in its msgpack JSON-RPC reply)
travels from the env's array to the client's array. Each row times one step of that journey
as the old path made it and as gymie makes it now, in a hot loop (best of ``--repeats``;
inside the busy server each costs more, the same way). The last column says what became of it.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgpack
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gymie import codec, msgpack_ext  # noqa: E402
from gymie.server.wsframes import frame_header  # noqa: E402


def best_us(fn: Callable[[], Any], repeats: int, number: int = 300) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number * 1e6)
    return best


def old_encode(reply: dict[str, Any]) -> bytes:
    """gymie's msgpack before Frames: tobytes, pack the payload, ExtType, pack the reply."""

    def default(obj: Any) -> Any:
        payload = msgpack.packb([obj.dtype.str, list(obj.shape), obj.tobytes()], use_bin_type=True)
        return msgpack.ExtType(1, payload)

    packed: bytes = msgpack.Packer(default=default, use_bin_type=True).pack(reply)
    return packed


def old_unpack(code: int, data: bytes) -> np.ndarray[Any, Any]:
    """The client's ext hook before: the payload unpacked (its raw bytes copied), then viewed."""
    dtype, shape, raw = msgpack.unpackb(data, raw=False)
    return np.frombuffer(raw, dtype=dtype).reshape(shape)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    r = args.repeats
    obs = np.random.default_rng(0).integers(0, 256, (210, 160, 3), dtype=np.uint8)
    reply = {"jsonrpc": "2.0", "result": {"observation": obs, "reward": 0.0, "info": {"lives": 0}}, "id": 7}
    packed = old_encode(reply)
    frame = codec.encode_msgpack_frame(reply)
    assert isinstance(frame, codec.Frame) and bytes(frame) == packed
    payload = msgpack.packb([obs.dtype.str, list(obs.shape), obs.tobytes()], use_bin_type=True)
    ext = msgpack.ExtType(1, payload)
    header = frame_header(2, len(packed))
    wire = bytearray(header + packed)
    rows = [
        ("server: `tobytes()` of the observation", best_us(obs.tobytes, r), "gone (its memory is sent)"),
        (
            "server: pack the ext payload (dtype, shape, raw)",
            best_us(lambda: msgpack.packb([obs.dtype.str, list(obs.shape), obs.tobytes()]), r)
            - best_us(obs.tobytes, r),
            "gone (a cached header)",
        ),
        (
            "server: pack the reply around the ExtType",
            best_us(lambda: msgpack.Packer(use_bin_type=True).pack({"o": ext}), r),
            "gone (the packed reply is ~70 bytes)",
        ),
        ("server: join frame header and payload (eventlet)", best_us(lambda: header + packed, r), "gone"),
        ("server: the whole old encode", best_us(lambda: old_encode(reply), r), ""),
        ("server: encode_msgpack_frame now", best_us(lambda: codec.encode_msgpack_frame(reply), r), ""),
        (
            "client: websockets' frame assembly (bytes of the received chunks)",
            best_us(lambda: bytes(wire), r),
            "gone (received in place)",
        ),
        ("client: a new buffer per message (zero-filled)", best_us(lambda: bytearray(len(wire)), r), "gone"),
        (
            "client: unpack the ext payload (copies the raw bytes)",
            best_us(lambda: msgpack.unpackb(payload, raw=False), r),
            "gone (header read by hand, raw viewed)",
        ),
        ("client: ext data handed to the hook", best_us(lambda: bytes(memoryview(payload)), r), "kept"),
        ("client: writable copy of the observation", best_us(obs.copy, r), "kept (writable arrays)"),
        (
            "client: decode before (hook unpacks, then a writable copy)",
            best_us(lambda: msgpack.unpackb(packed, ext_hook=old_unpack)["result"]["observation"].copy(), r),
            "",
        ),
        (
            "client: decode now (writable)",
            best_us(lambda: msgpack_ext.decode_msgpack(packed, writable=True), r),
            "",
        ),
    ]
    print(f"Pong reply: {len(packed):,} bytes; hot loop, best of {r}; µs per step")
    print("| copy | µs | now |")
    print("|---|---|---|")
    for name, us, fate in rows:
        print(f"| {name} | {us:.1f} | {fate} |")


if __name__ == "__main__":
    main()
