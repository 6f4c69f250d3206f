"""orjson against msgspec against the standard library, on gymie's own JSON frames.

Usage (from the repository root)::

    .venv/bin/python bench/json_libs.py               # the table, ≈ 1 min
    .venv/bin/python bench/json_libs.py --repeats 3   # quicker

Every cell is the median over ``--repeats`` timings of one call, in µs (CPU-bound, one core);
the ratio is stdlib's median over the cell's. Columns:

- ``stdlib``: gymie before this change: ``json.loads``; ``json.JSONEncoder(allow_nan=False)``
  over ``codec.jsonable`` (arrays through ``tolist()``).
- ``orjson exact`` / ``orjson compact``: encoding, ``gymie.codec.encode_json`` (byte for byte the
  stdlib text) and ``encode_json_compact`` (the same values, no spaces). Decoding, the best
  orjson-only reader that gives json.loads' values: ``orjson.loads``, then the stdlib when it
  fails or when the text holds 19 digits in a row (orjson reads an integer past 64 bits as a
  float without a word).
- ``msgspec exact`` / ``msgspec compact``: encoding, the same rules built on msgspec (which has
  no NumPy support: arrays go through ``tolist()``). Decoding, ``gymie.codec.decode_json``:
  ``msgspec.json.decode``, the stdlib when it fails.
- ``orjson raw``: ``orjson.loads`` / ``orjson.dumps(OPT_SERIALIZE_NUMPY)`` with none of the
  rules (non-finite floats become ``null``, float32 is written as float32, big ints become
  floats): the floor, not usable.

A cell marked ``≠`` gave text different from stdlib's (expected for the compact and raw columns;
the compact ones are checked to parse to the same values).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gymie import codec, json_text  # noqa: E402

try:
    import msgspec
except ImportError:  # not a gymie dependency: pip install msgspec to get its columns
    msgspec = None

import orjson  # noqa: E402

INSTANCE = "0123456789abcdef0123456789abcdef"


def workloads() -> dict[str, tuple[str, Any]]:
    rng = np.random.default_rng(0)
    cartpole = rng.uniform(-0.2, 0.2, 4).astype(np.float32)
    pong = rng.integers(0, 256, (210, 160, 3), dtype=np.uint8)
    vec_obs = rng.standard_normal((1024, 4)).astype(np.float32)
    return {
        "decode: legacy step request": (
            "decode",
            json.dumps({"method": "step", "params": {"instance_id": INSTANCE, "action": 0}}),
        ),
        "decode: JSON-RPC step request": (
            "decode",
            json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": 7,
                    "method": "step",
                    "params": {"instance_id": INSTANCE, "action": 1},
                }
            ),
        ),
        "encode: legacy CartPole step reply": ("encode", [cartpole, 1.0, False, {}]),
        "encode: JSON-RPC CartPole step reply": (
            "encode",
            {
                "jsonrpc": "2.0",
                "id": 7,
                "result": {
                    "observation": cartpole,
                    "reward": 1.0,
                    "terminated": False,
                    "truncated": False,
                    "info": {},
                },
            },
        ),
        "encode: legacy Pong step reply (210x160x3 u8)": (
            "encode",
            [pong, 0.0, False, {"lives": 0, "episode_frame_number": 4, "frame_number": 4}],
        ),
        "encode: JSON-RPC 1024 CartPoles (1024x4 f32)": (
            "encode",
            {
                "jsonrpc": "2.0",
                "id": 7,
                "result": {
                    "observation": vec_obs,
                    "reward": np.ones(1024),
                    "terminated": np.zeros(1024, bool),
                    "truncated": np.zeros(1024, bool),
                    "info": {},
                },
            },
        ),
    }


# -- the candidates ----------------------------------------------------------------------------

_stdlib_encode = json.JSONEncoder(allow_nan=False).encode


def stdlib_encode(value: Any) -> str:
    return _stdlib_encode(codec.jsonable(value))


def orjson_raw_encode(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY)


def _msgspec_hook(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return codec.jsonable(obj)
    if isinstance(obj, np.generic):
        return obj.item()
    raise NotImplementedError


_LARGE_EXPONENT = re.compile(rb"(?<=[0-9])e([0-9])")


def make_msgspec() -> dict[str, Callable[[Any], Any]]:
    if msgspec is None:
        return {}
    encoder = msgspec.json.Encoder(enc_hook=_msgspec_hook)
    compact_stdlib = json.JSONEncoder(allow_nan=False, separators=(",", ":")).encode

    def compact(value: Any) -> str:
        raw = encoder.encode(value)
        if b"null" in raw:
            return compact_stdlib(codec.jsonable(value))
        return raw.decode()

    def exact(value: Any) -> str:
        # The same fix-ups as json_text._spaced, over the whole text (msgspec has no fragments), plus
        # msgspec's own float spelling of large exponents (1e16 where repr() writes 1e+16).
        text = json_text._spaced(encoder.encode(value))
        if text is None:
            return _stdlib_encode(codec.jsonable(value))
        if b"e" in text:
            text = _LARGE_EXPONENT.sub(rb"e+\1", text)
        return text.decode("ascii")

    return {"exact": exact, "compact": compact}


_LONG_DIGITS = re.compile("[0-9]{19}")


def orjson_decode(raw: str) -> Any:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)
    return value if _LONG_DIGITS.search(raw) is None else json.loads(raw)


def candidates() -> dict[str, dict[str, Callable[[Any], Any]]]:
    out = {
        "stdlib": {"encode": stdlib_encode, "decode": json.loads},
        "orjson exact": {"encode": codec.encode_json, "decode": orjson_decode},
        "orjson compact": {"encode": codec.encode_json_compact, "decode": orjson_decode},
    }
    ms = make_msgspec()
    if ms:
        out["msgspec exact"] = {"encode": ms["exact"], "decode": codec.decode_json}
        out["msgspec compact"] = {"encode": ms["compact"], "decode": codec.decode_json}
    out["orjson raw"] = {"encode": orjson_raw_encode, "decode": orjson.loads}
    return out


# -- timing --------------------------------------------------------------------------------------


def time_call(fn: Callable[[Any], Any], arg: Any, repeats: int, budget: float = 0.05) -> float:
    """Median µs per call over ``repeats`` timings, each ≈ ``budget`` seconds of calls."""
    fn(arg)
    t0 = time.perf_counter()
    fn(arg)
    once = max(time.perf_counter() - t0, 1e-7)
    number = max(1, int(budget / once))
    samples = []
    for _ in range(repeats):
        t0 = time.process_time()
        for _ in range(number):
            fn(arg)
        samples.append((time.process_time() - t0) / number * 1e6)
    return statistics.median(samples)


def fmt(us: float) -> str:
    return f"{us:,.0f}" if us >= 100 else f"{us:.2f}" if us < 10 else f"{us:.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    cands = candidates()
    print(
        f"orjson {orjson.__version__}, msgspec {getattr(msgspec, '__version__', 'not installed')}, "
        f"numpy {np.__version__}, Python {sys.version.split()[0]}; median of {args.repeats} (µs per call)"
    )
    names = list(cands)
    print("| workload | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for label, (kind, value) in workloads().items():
        reference = stdlib_encode(value) if kind == "encode" else json.loads(value)
        base = time_call(cands["stdlib"][kind], value, args.repeats)
        cells = [fmt(base)]
        for name in names[1:]:
            fn = cands[name][kind]
            got = fn(value)
            if isinstance(got, bytes):
                got = got.decode()
            same = got == reference
            if kind == "encode" and not same and "raw" not in name:
                assert json.loads(got) == json.loads(reference), (name, label)
            us = time_call(fn, value, args.repeats)
            cells.append(f"{fmt(us)} ({base / us:.1f}×){'' if same else ' ≠'}")
        print(f"| {label} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
