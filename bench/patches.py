"""Per-step changes under study, applied as monkeypatches so they can be measured side by side.

bench/ may not edit gymie/; each patch here is the proposed edit, installed at run time in a
benchmark process only. ``apply("packer,bind")`` installs some; ``PATCHES`` lists them all.
Each docstring names the file the change belongs in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def stub() -> None:
    """Not a proposal: ``Dispatcher.handle`` answers every message with one canned legacy step reply.

    With it, a legacy CartPole load measures the server minus the Dispatcher: the transport
    and ``gymie.server.app`` alone (only the ``legacy JSON +P`` column of ``run.py --only a`` makes sense).
    """
    from gymie import core
    from gymie.protocol import Reply

    canned = Reply.send("[[0.01, 0.02, 0.03, 0.04], 1.0, false, {}]")
    core.Dispatcher.handle = lambda self, raw, session: canned


def timed() -> None:
    """Not a proposal: log the CPU and wall time ``Dispatcher.handle`` takes, every 5000 calls."""
    import time

    from gymie import core

    handle = core.Dispatcher.handle
    totals = [0, 0.0, 0.0]

    def timed_handle(self: Any, raw: Any, session: Any) -> Any:
        c0, w0 = time.thread_time(), time.perf_counter()
        reply = handle(self, raw, session)
        totals[0] += 1
        totals[1] += time.thread_time() - c0
        totals[2] += time.perf_counter() - w0
        if totals[0] % 5000 == 0:
            n = totals[0]
            print(
                f"dispatcher: {n} calls, {totals[1] / n * 1e6:.1f} µs CPU, {totals[2] / n * 1e6:.1f} µs wall",
                flush=True,
            )
        return reply

    core.Dispatcher.handle = timed_handle


def stdlib_json() -> None:
    """Not a proposal: JSON as gymie had it before orjson/msgspec (``json`` over ``codec.jsonable``).

    For a before/after in one run: ``run.py --only ab --patched stdlib_json`` (the ``+P`` columns
    are the old codec, the plain ones the new).
    """
    import json

    from gymie import codec, methods

    strict = json.JSONEncoder(allow_nan=False).encode

    def encode_json(value: Any) -> str:
        return strict(codec.jsonable(value))

    def decode_json(raw: str | bytes) -> Any:
        return json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)

    codec.encode_json = encode_json  # core.py and connection.py call codec.encode_json
    codec.decode_json = decode_json
    methods.encode_json = encode_json  # methods.py imported it by name


def compact_rpc() -> None:
    """JSON-RPC replies without spaces: in ``gymie/core.py`` ``Dispatcher._encode``, encode with
    ``codec.encode_json_compact`` instead of ``codec.encode_json`` (legacy frames keep the latter).

    Patched here through ``codec.encode_json``, which only ``core`` (and the client's
    ``connection.encode_request``) look up on the module; ``methods`` holds its own reference.
    """
    from gymie import codec

    codec.encode_json = codec.encode_json_compact


EXPERIMENTS: dict[str, Callable[[], None]] = {"stub": stub, "timed": timed, "stdlib_json": stdlib_json}
# Proposed per-step changes go here, one function each, until they land in gymie/. The first three
# (a shared msgpack payload Packer, a fast params check, plain-int Discrete actions) have landed.
PATCHES: dict[str, Callable[[], None]] = {"compact_rpc": compact_rpc}


def apply(names: str) -> list[str]:
    """Install the comma-separated patches (``all`` for every one); return their names."""
    chosen = list(PATCHES) if names == "all" else [n for n in names.split(",") if n and n != "none"]
    for name in chosen:
        {**PATCHES, **EXPERIMENTS}[name]()
    return chosen
