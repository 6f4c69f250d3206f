"""codec: strict JSON and msgpack (ndarray extension type 1) encodings."""

from __future__ import annotations

import json
import math
from collections import OrderedDict
from enum import IntEnum
from typing import Any

import msgpack
import numpy as np
import pytest
from gymnasium.spaces import GraphInstance
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gymie import codec

DTYPES = [
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float16",
    "float32",
    "float64",
    ">i4",
    ">f8",
    "<u2",
]

arrays = hnp.arrays(
    dtype=st.sampled_from([np.dtype(d) for d in DTYPES]),
    shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5),
)


def strict_loads(text: str) -> Any:
    """Parse JSON as JavaScript's JSON.parse would: no NaN / Infinity literals."""

    def refuse(literal: str) -> None:
        raise ValueError(f"non-standard JSON literal {literal}")

    return json.loads(text, parse_constant=refuse)


def from_wire_floats(nested: Any) -> Any:
    """What a JavaScript client does with Number(): the non-finite strings back to floats."""
    if isinstance(nested, list):
        return [from_wire_floats(v) for v in nested]
    return codec.NONFINITE.get(nested, nested) if isinstance(nested, str) else nested


def same_array(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> bool:
    """Same dtype (byte order included), shape and bits: NaN payloads and -0.0 count."""
    return a.dtype.str == b.dtype.str and a.shape == b.shape and a.tobytes() == b.tobytes()


# --- msgpack -------------------------------------------------------------------------------


@settings(deadline=None)
@given(arrays)
def test_msgpack_array_round_trip(array: np.ndarray[Any, Any]) -> None:
    decoded = codec.decode_msgpack(codec.encode_msgpack(array))
    assert isinstance(decoded, np.ndarray)
    assert same_array(decoded, array)


@settings(deadline=None)
@given(arrays, st.integers(0, 3))
def test_msgpack_non_contiguous_round_trip(array: np.ndarray[Any, Any], step: int) -> None:
    view = array.T if step == 0 else array[..., :: step + 1] if array.ndim else array
    decoded = codec.decode_msgpack(codec.encode_msgpack({"obs": view, "pair": (view, 1)}))
    assert same_array(decoded["obs"], view.copy(order="C"))
    assert np.array_equal(decoded["pair"][0], view, equal_nan=view.dtype.kind == "f")
    assert decoded["pair"][1] == 1


def test_msgpack_wire_format_is_as_documented() -> None:
    # What a JavaScript client sees, decoded with no extension hook at all.
    array = np.array([[1, 2, 3], [4, 5, 6]], dtype="<u2")[:, ::2]
    ext = msgpack.unpackb(codec.encode_msgpack(array))
    assert isinstance(ext, msgpack.ExtType) and ext.code == 1
    assert msgpack.unpackb(ext.data) == ["<u2", [2, 2], b"\x01\x00\x03\x00\x04\x00\x06\x00"]
    ext = msgpack.unpackb(codec.encode_msgpack(np.array(1.5, "<f4")))
    assert msgpack.unpackb(ext.data) == ["<f4", [], np.float32(1.5).tobytes()]
    ext = msgpack.unpackb(codec.encode_msgpack(np.array([True, False])))
    assert msgpack.unpackb(ext.data) == ["|b1", [2], b"\x01\x00"]


def test_msgpack_decoded_arrays_are_read_only_views() -> None:
    decoded = codec.decode_msgpack(codec.encode_msgpack(np.arange(4, dtype=np.int32)))
    assert not decoded.flags.writeable
    assert decoded.tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("scalar", "kind"),
    [
        (np.float32(0.5), float),
        (np.float64(0.25), float),
        (np.float16(2.0), float),
        (np.int8(-3), int),
        (np.uint64(2**64 - 1), int),
        (np.int64(-(2**63)), int),
        (np.bool_(True), bool),
        (np.str_("hi"), str),
    ],
)
def test_msgpack_numpy_scalars_become_python_scalars(scalar: Any, kind: type) -> None:
    decoded = codec.decode_msgpack(codec.encode_msgpack([scalar]))[0]
    assert type(decoded) is kind
    assert decoded == scalar.item()


def test_msgpack_nonfinite_floats_travel_natively() -> None:
    decoded = codec.decode_msgpack(codec.encode_msgpack([math.inf, -math.inf, math.nan, np.float32("nan")]))
    assert decoded[:2] == [math.inf, -math.inf]
    assert math.isnan(decoded[2]) and math.isnan(decoded[3])


def test_msgpack_containers() -> None:
    value = {
        "tuple": (1, (2.5, "x")),
        "ordered": OrderedDict(b=1, a=2),
        1: None,
        np.int64(2): True,
        "graph": GraphInstance(np.zeros((2, 1), np.float32), None, None),
        "enum": Colour.RED,
        "bytes": b"\x00\xff",
    }
    decoded = codec.decode_msgpack(codec.encode_msgpack(value))
    assert decoded["tuple"] == [1, [2.5, "x"]]
    assert list(decoded["ordered"].items()) == [("b", 1), ("a", 2)]
    assert decoded["1"] is None and decoded["2"] is True
    assert set(decoded["graph"]) == {"nodes", "edges", "edge_links"}
    assert same_array(decoded["graph"]["nodes"], np.zeros((2, 1), np.float32))
    assert decoded["graph"]["edges"] is None and decoded["graph"]["edge_links"] is None
    assert decoded["enum"] == 1 and decoded["bytes"] == b"\x00\xff"


def test_msgpack_str_arrays_travel_as_lists() -> None:
    assert codec.decode_msgpack(codec.encode_msgpack(np.array([["a", "bc"]]))) == [["a", "bc"]]


class Colour(IntEnum):
    RED = 1


@pytest.mark.parametrize(
    "value",
    [
        np.array([1, "a", None], dtype=object),
        np.zeros(2, dtype=[("x", "f4")]),
        np.array(["2020-01-01"], dtype="datetime64[D]"),
        object(),
        {"nested": [1, {2, 3}]},
        np.complex64(1j).item(),
    ],
    ids=["object-array", "structured-array", "datetime-array", "object", "set", "complex"],
)
def test_msgpack_refuses_unknown(value: Any) -> None:
    with pytest.raises(TypeError, match="not msgpack serializable"):
        codec.encode_msgpack(value)


def ext(payload: Any, code: int = 1) -> bytes:
    return msgpack.packb(msgpack.ExtType(code, msgpack.packb(payload)))


MALFORMED = {
    "unknown code": (ext(["<f4", [1], b"\x00" * 4], code=2), "Unknown msgpack extension type 2"),
    "not an array": (ext({"dtype": "<f4"}), "3-element array"),
    "two items": (ext(["<f4", [1]]), "3-element array"),
    "dtype not str": (ext([4, [1], b"\x00" * 4]), "dtype must be a string"),
    "dtype nonsense": (ext(["<q9", [1], b"\x00" * 4]), "is not a NumPy dtype"),
    "dtype object": (ext(["|O", [1], b"\x00" * 8]), "not bool, integer, float or complex"),
    "dtype str": (ext(["<U1", [1], b"\x00" * 4]), "not bool, integer, float or complex"),
    "dtype structured": (ext(["|V4", [1], b"\x00" * 4]), "not bool, integer, float or complex"),
    "shape not array": (ext(["<f4", 1, b"\x00" * 4]), "shape must be an array"),
    "shape negative": (ext(["<f4", [-1], b""]), "non-negative ints"),
    "shape float": (ext(["<f4", [1.0], b"\x00" * 4]), "non-negative ints"),
    "shape bool": (ext(["<f4", [True], b"\x00" * 4]), "non-negative ints"),
    "data str": (ext(["<f4", [1], "abcd"]), "must be bin"),
    "too few bytes": (ext(["<f4", [2], b"\x00" * 4]), "has 4 bytes, 8 expected"),
    "too many bytes": (ext(["<f4", [1], b"\x00" * 5]), "has 5 bytes, 4 expected"),
    "empty shape wrong bytes": (ext(["<f8", [0, 3], b"\x00"]), "has 1 bytes, 0 expected"),
    "bool not 0 or 1": (ext(["|b1", [2], b"\x00\x02"]), "bytes other than 0 and 1"),
    "non-str map key": (msgpack.packb({1: 2}), "not allowed for map key"),
    "truncated": (msgpack.packb([1, 2, 3])[:-1], "incomplete input"),
    "extra data": (msgpack.packb(1) + msgpack.packb(2), None),
    "reserved byte": (b"\xc1", None),
}


@pytest.mark.parametrize(("data", "message"), MALFORMED.values(), ids=MALFORMED.keys())
def test_msgpack_refuses_malformed(data: bytes, message: str | None) -> None:
    with pytest.raises(ValueError, match=message):
        codec.decode_msgpack(data)


def packb_reference(value: Any) -> bytes:
    """gymie's msgpack as it was made before Frames: every array copied into an ExtType."""

    def default(obj: Any) -> Any:
        if isinstance(obj, np.ndarray):
            payload = msgpack.packb([obj.dtype.str, list(obj.shape), obj.tobytes()])
            return msgpack.ExtType(1, payload)
        return obj.item()

    return msgpack.packb(codec._packable(value), default=default, use_bin_type=True)


large_arrays = hnp.arrays(
    dtype=st.sampled_from([np.dtype(d) for d in [*DTYPES, "complex64"]]),
    shape=st.tuples(st.integers(256, 9000)) | st.tuples(st.integers(1, 70), st.integers(30, 40), st.just(3)),
)


@settings(deadline=None, max_examples=60)
@given(large_arrays, st.integers(0, 2))
def test_msgpack_frames_are_the_same_bytes_without_the_copies(array: np.ndarray[Any, Any], how: int) -> None:
    view = array if how == 0 else array[::2] if how == 1 else array.T  # contiguous or not
    value = {"obs": view, "reward": 1.0, "info": {"small": np.arange(3), "big": view}, "id": "x"}
    frame = codec.encode_msgpack_frame(value)
    assert bytes(frame) == codec.encode_msgpack(value) == packb_reference(value)
    if view.nbytes >= codec.HOLE_BYTES:
        assert isinstance(frame, codec.Frame) and len(frame) == len(bytes(frame))
        if view.flags.c_contiguous:  # the array's own memory is one of the buffers
            assert any(isinstance(b, memoryview) and b.obj is view for b in frame.buffers)
    decoded = codec.decode_msgpack(frame)
    assert same_array(decoded["obs"], np.ascontiguousarray(view))
    assert same_array(decoded["info"]["big"], np.ascontiguousarray(view))
    writable = codec.decode_msgpack(frame, writable=True)["obs"]
    assert writable.flags.writeable and writable.flags.aligned and same_array(writable, decoded["obs"])


def test_msgpack_large_payloads_are_viewed_in_place_and_checked_the_same() -> None:
    array = np.arange(4096, dtype="<f4")
    data = codec.encode_msgpack(array)
    view = codec.decode_msgpack(data)
    assert same_array(view, array) and not view.flags.writeable
    big = b"\x00" * 8192
    assert not codec.decode_msgpack(ext(["|u1", [8192], big])).flags.writeable
    for payload, message in [
        (["<f4", [2049], big], "has 8192 bytes, 8196 expected"),
        (["|b1", [8192], b"\x02" * 8192], "bytes other than 0 and 1"),
        (["<q9", [2048], big], "is not a NumPy dtype"),
        (["|O", [1024], big], "not bool, integer, float or complex"),
        (["<f4", [-2048], big], "non-negative ints"),
    ]:
        with pytest.raises(ValueError, match=message):
            codec.decode_msgpack(ext(payload))
    truncated = bytearray(ext(["<f4", [2048], big]))
    with pytest.raises(ValueError):
        codec.decode_msgpack(truncated[:-100])


# --- JSON ---------------------------------------------------------------------------------


@settings(deadline=None)
@given(arrays)
def test_json_array_round_trip(array: np.ndarray[Any, Any]) -> None:
    text = codec.encode_json(array)
    back = np.asarray(from_wire_floats(strict_loads(text)), dtype=array.dtype)
    if array.size == 0:  # nested lists cannot say how long the inner axes of an empty array are
        assert back.size == 0
        back = back.reshape(array.shape)
    assert back.shape == array.shape
    assert np.array_equal(back, array, equal_nan=array.dtype.kind == "f")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_encode_json_matches_json_dumps(value: Any) -> None:
    # Default separators (", " and ": "): byte-compatible with gymie 0.5.4's json.dumps.
    assert codec.encode_json(value) == json.dumps(value)
    assert codec.decode_json(codec.encode_json(value)) == value


def test_encode_json_of_an_env_step() -> None:
    step = (np.array([0.1, 0.2]), np.float64(1.0), np.bool_(False), {})
    assert codec.encode_json(step) == json.dumps([[0.1, 0.2], 1.0, False, {}])
    assert codec.encode_json(step) == "[[0.1, 0.2], 1.0, false, {}]"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (math.inf, "Infinity"),
        (-math.inf, "-Infinity"),
        (math.nan, "NaN"),
        (np.float32("inf"), "Infinity"),
        (np.float64("-inf"), "-Infinity"),
        (np.array([1.5, np.nan, -np.inf], np.float32), [1.5, "NaN", "-Infinity"]),
        (np.array([[np.inf], [2.0]]), [["Infinity"], [2.0]]),
        (np.array(np.nan), "NaN"),
        ([1.0, (math.inf,)], [1.0, ["Infinity"]]),
        (np.array([*np.zeros(99), np.nan]), [0.0] * 99 + ["NaN"]),  # long: NumPy check
        (np.array([1e308, 1e308, -np.inf]), [1e308, 1e308, "-Infinity"]),
        (np.array([1e308, 1e308]), [1e308, 1e308]),  # sum overflows, values do not
    ],
)
def test_jsonable_nonfinite(value: Any, expected: Any) -> None:
    assert codec.jsonable(value) == expected
    assert strict_loads(codec.encode_json(value)) == expected


def test_json_nonfinite_is_strict_json() -> None:
    text = codec.encode_json({"obs": np.array([np.inf, -np.inf, np.nan]), "reward": -math.inf})
    assert text == '{"obs": ["Infinity", "-Infinity", "NaN"], "reward": "-Infinity"}'
    assert strict_loads(text)["reward"] == "-Infinity"


@pytest.mark.parametrize(
    ("scalar", "kind"),
    [
        (np.float32(0.5), float),
        (np.float16(0.5), float),
        (np.int16(-4), int),
        (np.uint64(2**64 - 1), int),
        (np.bool_(False), bool),
        (np.str_("s"), str),
        (Colour.RED, int),
    ],
)
def test_jsonable_scalars_become_python(scalar: Any, kind: type) -> None:
    result = codec.jsonable(scalar)
    assert type(result) is kind and result == scalar


@pytest.mark.parametrize("value", ["text", 7, 2.5, True, None])
def test_jsonable_plain_values_come_back_as_is(value: Any) -> None:
    assert codec.jsonable(value) is value


def test_jsonable_arrays_give_python_lists() -> None:
    result = codec.jsonable(np.arange(6, dtype=np.uint8).reshape(2, 3))
    assert result == [[0, 1, 2], [3, 4, 5]]
    assert type(result[0][0]) is int
    assert codec.jsonable(np.zeros((0, 2))) == []
    assert codec.jsonable(np.array([True])) == [True]


def test_jsonable_containers() -> None:
    value = {
        "t": (1, np.int64(2)),
        3: "int key",
        2.5: "float key",
        True: "bool key",
        None: "none key",
        np.int32(7): "numpy key",
        "graph": GraphInstance(np.ones((1, 2)), np.array([3]), np.array([[0, 0]])),
    }
    assert codec.jsonable(value) == {
        "t": [1, 2],
        "3": "int key",
        "2.5": "float key",
        "true": "bool key",
        "null": "none key",
        "7": "numpy key",
        "graph": {"nodes": [[1.0, 1.0]], "edges": [3], "edge_links": [[0, 0]]},
    }


def test_jsonable_keys_match_json_dumps() -> None:
    keys: dict[Any, int] = {1: 0, 2.5: 1, False: 2, None: 3, "s": 4}
    assert codec.encode_json(keys) == json.dumps(keys)


def test_jsonable_object_arrays_element_wise() -> None:
    array = np.array([np.float32(1.5), (1, 2), {"k": np.inf}, None], dtype=object)
    assert codec.jsonable(array) == [1.5, [1, 2], {"k": "Infinity"}, None]


@pytest.mark.parametrize(
    "value",
    [
        object(),
        b"bytes",
        {1, 2},
        1j,
        np.array([1j]),
        np.array([object()], dtype=object),
        np.array(["2020-01-01"], dtype="datetime64[D]"),
        [1, {"deep": object()}],
    ],
    ids=["object", "bytes", "set", "complex", "complex-array", "object-array", "datetime-array", "nested"],
)
def test_jsonable_refuses_unknown(value: Any) -> None:
    with pytest.raises(TypeError, match="is not JSON serializable"):
        codec.encode_json(value)


def test_decode_json_reads_str_and_utf8_bytes() -> None:
    assert codec.decode_json('{"a": [1, "é"]}') == {"a": [1, "é"]}
    assert codec.decode_json('{"a": [1, "é"]}'.encode()) == {"a": [1, "é"]}
    with pytest.raises(ValueError):
        codec.decode_json(b"\xff\xfe")
    with pytest.raises(ValueError):
        codec.decode_json("{not json")
