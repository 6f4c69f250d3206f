"""codec's JSON through orjson (encode) and msgspec (decode): the same text and values as the stdlib.

``encode_json`` must give json.dumps' text byte for byte (0.5.4's frames); ``encode_json_compact``
the same values; ``decode_json`` the same values as ``json.loads``, and a ValueError where it
raises one. The reference for encoding is the stdlib path these replace:
``json.JSONEncoder(allow_nan=False).encode(codec.jsonable(value))``.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
import uuid
from collections import OrderedDict, namedtuple
from enum import Enum, IntEnum
from typing import Any

import numpy as np
import pytest
from gymnasium.spaces import GraphInstance
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gymie import codec, json_text

reference = json.JSONEncoder(allow_nan=False).encode


def stdlib(value: Any) -> str:
    return reference(codec.jsonable(value))


def parsed(text: str) -> str:
    """The values a JSON text stands for, with -0.0 and int/float told apart."""
    return repr(json.loads(text))


def same_text(value: Any) -> None:
    expected = stdlib(value)
    assert codec.encode_json(value) == expected
    compact = codec.encode_json_compact(value)
    assert parsed(compact) == parsed(expected)


# -- encoding: generated values ------------------------------------------------------------------

DTYPES = ["bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64"]
FLOATS = ["float16", "float32", "float64", ">f8", "<f4", ">f4"]

any_text = st.text(st.characters(codec="utf-8") | st.characters(categories=["Cs", "Cc"]), max_size=8)
floats = st.floats() | st.floats(-1e-3, 1e-3) | st.sampled_from([1e16, 1e-7, 0.1 + 0.2, 1e-5, 5e-324, -0.0])
keys = any_text | st.integers(-(2**70), 2**70) | floats | st.booleans() | st.none()
scalars = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | floats | any_text
# Sides up to 12 in up to 3 dimensions: arrays past json_text._INLINE (64) take the fragment path.
shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=12)
arrays = st.sampled_from(DTYPES + FLOATS).flatmap(lambda d: hnp.arrays(np.dtype(d), shapes))
numpy_scalars = (
    st.sampled_from(DTYPES + FLOATS)
    .flatmap(lambda d: hnp.from_dtype(np.dtype(d)))
    .map(lambda x: np.asarray(x)[()])
)
values = st.recursive(
    scalars | arrays | numpy_scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.lists(children, max_size=4).map(tuple)
        | st.dictionaries(keys, children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(values)
def test_encode_json_is_stdlib_byte_for_byte(value: Any) -> None:
    same_text(value)


@settings(max_examples=200, deadline=None)
@given(arrays, st.sampled_from(["T", "step", "none"]))
def test_array_layouts(array: np.ndarray[Any, Any], view: str) -> None:
    if view == "T":
        array = array.T
    elif view == "step":
        array = array[..., ::2]
    same_text({"obs": array, "info": {"k": array}})


@pytest.mark.parametrize(
    "value",
    [
        [1e16, 1e-7, 0.1 + 0.2, 1e-5, 1.234e-05, 1e-4, 2.5e-300, 1e22, 5e-324, -0.0, 10.00001, 100.00001],
        np.array([0.1, 1e16, 1e-7, 3.2e-5, -1.5e-8, 0.100001], np.float32),
        np.linspace(-1e-3, 1e-3, 1001),  # many small values, on the fragment path
        np.float32(0.1),
        np.array([[np.nan, 1.0], [np.inf, -np.inf]] * 40),
        [math.nan, math.inf, None, "null"],
        {"é": "ü\u2028", "ctl": "\x01\x7f", "q": 'a"b\\c', "s": "a, b: c", "e": "1e-5 0.00001"},
        {1: 2, None: 3, False: 4, 2.5: 5, math.inf: 6, np.int32(7): 8},
        {"surrogate": "\ud800"},
        2**70,
        [2**64 - 1, -(2**63)],
        OrderedDict(b=np.int64(3), a=(1, 2)),
        namedtuple("Pair", "a b")(1, np.float32(0.5)),
        GraphInstance(np.ones((70, 2)), np.arange(3), np.array([[0, 1]])),
        np.arange(100, dtype=">i4").reshape(10, 10).T,
        np.array(["a", "é"] * 40),
        np.array([1, "a", None] * 30, dtype=object),
        np.zeros((0, 100)),
        np.zeros((100, 0)),
        np.array(5),
        np.array(np.nan),
        [[[[[[[]]]]]]],
        {"": {"": []}},
    ],
    ids=lambda v: type(v).__name__,
)
def test_corner_values(value: Any) -> None:
    same_text(value)


def test_float_spelling_is_repr() -> None:
    rng = np.random.default_rng(0)
    for scale in range(-320, 300, 7):
        array = rng.standard_normal(300) * 10.0**scale
        assert codec.encode_json(array) == json.dumps(array.tolist())
        assert codec.encode_json(array.tolist()) == json.dumps(array.tolist())


def test_pong_frame_and_cartpole_step_as_0_5_4() -> None:
    frame = np.random.default_rng(0).integers(0, 256, (210, 160, 3), dtype=np.uint8)
    info = {"lives": 0, "episode_frame_number": 4, "frame_number": 4}
    assert codec.encode_json([frame, 0.0, False, info]) == json.dumps([frame.tolist(), 0.0, False, info])
    obs = np.array([-0.03867294, -0.15038761, 0.01641709, 0.31862864], np.float32)
    text = codec.encode_json((obs, 1.0, False, {}))
    assert text == json.dumps([obs.tolist(), 1.0, False, {}])
    assert text == (
        "[[-0.03867293894290924, -0.15038761496543884, 0.016417089849710464, 0.3186286389827728], "
        "1.0, false, {}]"
    )


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int8", ">i2", "int64", "uint64"])
def test_images_with_repeated_rows_as_json_dumps_and_in_pieces(dtype: str) -> None:
    rng = np.random.default_rng(1)
    rows = rng.integers(0, 2 if dtype == "bool" else 100, (4, 16, 3)).astype(dtype)
    image = rows[rng.integers(0, 4, 60)]  # 60 rows, 4 distinct
    step = [image, 0.0, False, {"k": image[0]}]
    for value in (image, image[:, ::2], image.transpose(1, 0, 2), step):
        plain = value.tolist() if isinstance(value, np.ndarray) else codec.jsonable(step)
        assert codec.encode_json(value) == json.dumps(plain)
        assert codec.encode_json_compact(value) == json.dumps(plain, separators=(",", ":"))
        for spaced in (True, False):
            frame = codec.encode_json_frame(value, spaced=spaced)
            expected = codec.encode_json(value) if spaced else codec.encode_json_compact(value)
            got = bytes(frame).decode() if isinstance(frame, codec.Frame) else frame
            assert got == expected
    big = codec.encode_json_frame(np.zeros((210, 160, 3), np.uint8))
    assert isinstance(big, codec.Frame) and big.text
    assert bytes(big).decode() == json.dumps(np.zeros((210, 160, 3), int).tolist())


def test_compact_is_compact() -> None:
    value = {"observation": np.arange(100) / 7, "reward": 1.0, "info": {"k": "a, b"}}
    text = codec.encode_json_compact(value)
    assert ", " not in text.replace('"a, b"', "") and ": " not in text
    assert codec.encode_json_compact({"é": "ü"}) == '{"é":"ü"}'
    assert codec.encode_json_compact([math.nan, None]) == '["NaN",null]'


class Colour(IntEnum):
    RED = 1


class Word(str, Enum):
    HI = "hi"


class Plain(Enum):
    TWO = 2


@dataclasses.dataclass
class Point:
    x: int = 1


@pytest.mark.parametrize("value", [Colour.RED, Word.HI, Plain.TWO, uuid.UUID(int=5)])
def test_enums_and_uuids_are_their_value(value: Any) -> None:
    expected = json.dumps(str(value) if isinstance(value, uuid.UUID) else value.value)
    for form in ([value], [value, None]):  # the fast path, then the slow one (None sends it there)
        assert json.loads(codec.encode_json(form))[0] == json.loads(expected)
        assert json.loads(codec.encode_json_compact(form))[0] == json.loads(expected)


@pytest.mark.parametrize(
    "value",
    [
        Point(),
        datetime.date(2020, 1, 1),
        datetime.datetime(2020, 1, 1),
        {1, 2},
        b"bytes",
        1j,
        np.array([1j] * 100),
        np.array(["2020-01-01"] * 100, dtype="datetime64[D]"),
        np.array([object()] * 100, dtype=object),
        [1, {"deep": object()}],
    ],
    ids=lambda v: type(v).__name__,
)
def test_refusals_stay_refusals(value: Any) -> None:
    for encode in (codec.encode_json, codec.encode_json_compact):
        with pytest.raises(TypeError, match="is not JSON serializable"):
            encode(value)


def test_deep_values_take_the_stdlib_path() -> None:
    value: Any = 0
    for _ in range(400):  # orjson stops at 254 levels
        value = [value]
    assert codec.encode_json(value) == json.dumps(value)
    assert json.loads(codec.encode_json_compact(value)) == value


# -- decoding ------------------------------------------------------------------------------------


def outcome(decode: Any, raw: str | bytes) -> tuple[str, str]:
    try:
        return ("ok", repr(decode(raw)))
    except RecursionError:
        return ("recursion", "")
    except ValueError:
        return ("error", "")


def stdlib_decode(raw: str | bytes) -> Any:
    return json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(-(2**80), 2**80)
    | st.floats()
    | st.text(st.characters(codec="utf-8") | st.characters(categories=["Cs"])),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=500, deadline=None)
@given(json_values, st.booleans())
def test_decode_is_json_loads(value: Any, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)  # NaN, Infinity and lone surrogates included
    assert outcome(codec.decode_json, text) == outcome(stdlib_decode, text)
    data = text.encode("utf-8", "surrogatepass")  # a lone surrogate: bytes that are not UTF-8
    assert outcome(codec.decode_json, data) == outcome(stdlib_decode, data)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=40) | st.text('[]{}",:0123456789.eE+-nulltrfasNIy \\u', max_size=40))
def test_decode_of_anything_is_json_loads(raw: str) -> None:
    assert outcome(codec.decode_json, raw) == outcome(stdlib_decode, raw)
    assert outcome(codec.decode_json, raw.encode("utf-8", "surrogatepass")) == outcome(
        stdlib_decode, raw.encode("utf-8", "surrogatepass")
    )


@pytest.mark.parametrize(
    "raw",
    [
        '"\\ud800"',  # lone surrogate escape: stdlib reads it, msgspec refuses, so stdlib decides
        '"\\udc00\\ud800"',
        "18446744073709551616",  # past 64 bits: exact ints (orjson would give a float here)
        "-9223372036854775809",
        "123456789012345678901234567890",
        "1" * 4300,
        "1" * 4301,  # past Python's int digit limit: ValueError from both
        "NaN",  # the stdlib's literals: a 0.5.4 client (json.dumps) may send them
        "[Infinity, -Infinity]",
        "1e400",
        "-1e400",
        "1e-400",
        '{"a": 1, "a": 2}',  # duplicate keys: the last wins
        "-0",
        "-0.0",
        "\ufeff[1]",  # BOM: refused
        " [1] ",
        "[1]x",
        '"\x00"',
        "",
        "[" * 2000 + "]" * 2000,  # RecursionError, as json.loads raises
    ],
)
def test_decode_corners(raw: str) -> None:
    expected = outcome(stdlib_decode, raw)
    assert outcome(codec.decode_json, raw) == expected
    assert outcome(codec.decode_json, raw.encode("utf-8", "surrogatepass")) == outcome(
        stdlib_decode, raw.encode("utf-8", "surrogatepass")
    )


def test_decode_exact_values() -> None:
    assert codec.decode_json("18446744073709551616") == 2**64
    assert type(codec.decode_json("-0")) is int
    assert math.isnan(codec.decode_json("NaN"))
    assert codec.decode_json("[Infinity]") == [math.inf]
    assert codec.decode_json('"\\ud800"') == "\ud800"
    assert codec.decode_json('{"a": 1, "a": 2}') == {"a": 2}
    with pytest.raises(ValueError):
        codec.decode_json(b"\xff")
    with pytest.raises(ValueError):
        codec.decode_json("\ufeff[1]")


def test_common_frames_take_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_slow_path(value: Any) -> Any:
        raise AssertionError("took the stdlib path")

    monkeypatch.setattr(json_text, "jsonable", no_slow_path)
    monkeypatch.setattr(json, "loads", no_slow_path)
    obs = np.array([0.1, -2e-5, 0.3, 0.4], np.float32)
    frame = np.zeros((210, 160, 3), np.uint8)
    done = {"TimeLimit.truncated": False}
    for value in (
        [obs, 1.0, False, {}],
        [obs, 1.0, True, done],
        [frame, 0.0, False, {"lives": 0, "episode_frame_number": 4}],
        {"jsonrpc": "2.0", "id": 7, "result": {"observation": obs, "reward": 1.0, "info": done}},
        {"name": "Box", "shape": [4], "low": np.full(4, -3.4028234663852886e38), "high": obs},
    ):
        codec.encode_json(value)
        codec.encode_json_compact(value)
    codec.decode_json('{"method": "step", "params": {"instance_id": "0123456789abcdef", "action": 0}}')


def test_a_str_holding_a_lone_surrogate_decodes_as_json_loads_does() -> None:
    # msgspec raises UnicodeEncodeError (not a DecodeError) on such a str; found by the test above.
    text = json.dumps(["\ud800", "x"], ensure_ascii=False)
    assert codec.decode_json(text) == json.loads(text) == ["\ud800", "x"]
