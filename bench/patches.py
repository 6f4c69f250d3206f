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

    from gymie import codec
    from gymie.methods import legacy

    strict = json.JSONEncoder(allow_nan=False).encode
    compact = json.JSONEncoder(allow_nan=False, separators=(",", ":")).encode

    def encode_json_frame(value: Any, *, spaced: bool = True) -> str:
        return (strict if spaced else compact)(codec.jsonable(value))

    def decode_json(raw: str | bytes) -> Any:
        return json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)

    codec.encode_json_frame = encode_json_frame  # replies.py looks it up on the module
    codec.decode_json = decode_json
    legacy.encode_json_frame = encode_json_frame  # methods/legacy.py imported it by name


def lean() -> None:
    """Not a proposal: a bound. A plain legacy step with none of gymie's bookkeeping.

    The instance looked up, ``env.step`` called on the raw env, the reply encoded: no ownership
    check, action conversion, adapter, statistics, limits, observer or error mapping. What
    is left between this and 0.5.4 is the transport, the env and the codec.
    """
    from gymie import codec, core
    from gymie.protocol import Reply

    general = core.Dispatcher._plain_step

    def plain_step(self: Any, message: Any, session: Any) -> Any:
        params = message.get("params")
        if message.get("method") != "step" or type(params) is not dict or session.rpc or len(message) != 2:
            return general(self, message, session)
        instance = self.envs._instances[params["instance_id"]]
        obs, reward, terminated, truncated, info = instance.adapter.env.step(params["action"])
        done = terminated or truncated
        if done:
            info = {**info, "TimeLimit.truncated": truncated and not terminated}
        return Reply((codec.encode_json((obs, reward, done, info)),))

    core.Dispatcher._plain_step = plain_step  # type: ignore[method-assign]


EXPERIMENTS: dict[str, Callable[[], None]] = {
    "stub": stub,
    "timed": timed,
    "stdlib_json": stdlib_json,
    "lean": lean,
}
# Proposed per-step changes go here, one function each, until they land in gymie/. Those so far
# (a shared msgpack payload Packer, a fast params check, plain-int Discrete actions, compact
# JSON-RPC text) have landed.
PATCHES: dict[str, Callable[[], None]] = {}


def apply(names: str) -> list[str]:
    """Install the comma-separated patches (``all`` for every one); return their names."""
    chosen = list(PATCHES) if names == "all" else [n for n in names.split(",") if n and n != "none"]
    for name in chosen:
        {**PATCHES, **EXPERIMENTS}[name]()
    return chosen
