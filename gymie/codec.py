r"""Value encodings: strict JSON and msgpack, with NumPy arrays handled explicitly.

JSON (the legacy text protocol, and JSON-RPC in text frames)
    :func:`jsonable` turns whatever an env returns into plain Python values;
    arrays become nested lists. Strict JSON has no ``Infinity`` or ``NaN``, so
    non-finite floats travel as the *strings* ``"Infinity"``, ``"-Infinity"``
    and ``"NaN"`` (JavaScript's ``Number(s)`` reads each back). Map keys are
    strings, converted the way :func:`json.dumps` converts them. Enum members
    travel as their value, UUIDs as their canonical string.

    The text is made by orjson and read by msgspec, both in C (``bench/json_libs.py``
    measured each against the other and the stdlib; ``bench/RESULTS.md``, "JSON library"):

    - :func:`encode_json` gives ``json.dumps(jsonable(value))``'s text byte for byte: the
      ``", "``/``": "`` separators, ASCII with ``\uXXXX`` escapes and ``repr()`` floats of
      gymie 0.5.4's frames. orjson writes the compact text of everything but large arrays;
      an ndarray of more than 64 bool/int/float values is written by orjson's NumPy
      serialiser (float64 first, so a float32 reads as ``tolist()`` gives it) and its
      text spliced in. Then separators are spaced outside strings, and the rare numbers
      below 1e-4 that orjson spells otherwise (``0.00001``, ``1e-7``) are mended. The
      stdlib path (``jsonable`` + ``json``) takes over whenever that could differ: a
      ``null`` in the text (a None, or a non-finite float orjson would write as null),
      a string that json.dumps escapes (non-ASCII, control characters, quote, backslash,
      DEL), a non-string key, an int past 64 bits, more than 254 levels, an unknown type.
      An array holding a non-finite value goes through ``tolist()``.
    - :func:`encode_json_compact` gives the same values with no spaces and UTF-8 strings:
      for JSON-RPC, where no test or client compares the text.
    - :func:`decode_json` gives :func:`json.loads`' values and errors: msgspec reads the
      text, and whatever it refuses goes to :func:`json.loads`, which reads what only it
      accepts (``NaN``/``Infinity`` literals, ``1e400`` as inf, lone surrogate escapes,
      nesting past msgspec's depth) or raises as before. msgspec, not orjson: orjson reads
      an integer past 64 bits as a float, silently, and guarding against that cost more
      than json.loads itself.

msgpack (the binary protocol)
    Plain values travel natively (non-finite floats included). An ndarray of a
    bool, integer, float or complex dtype is an *extension* value::

        ExtType(code=1, data=msgpack([dtype, shape, raw]))

    - ``dtype``: NumPy's ``dtype.str``, byte order first: ``"|b1"`` bool,
      ``"|i1" "<i2" "<i4" "<i8"``, ``"|u1" "<u2" "<u4" "<u8"``,
      ``"<f2" "<f4" "<f8"``, ``"<c8" "<c16"`` (``"<"`` little, ``">"`` big
      endian, ``"|"`` not applicable);
    - ``shape``: array of non-negative ints, ``[]`` for a 0-d array;
    - ``raw``: bin, the elements in C (row-major) order,
      ``prod(shape) * itemsize`` bytes.

    A JavaScript client registers type 1 in an ``ExtensionCodec`` of
    ``@msgpack/msgpack``: decode the payload, then view ``raw`` as the matching
    typed array (``"<f4"`` -> ``Float32Array``, ``"|u1"`` -> ``Uint8Array``...)
    of ``shape``. Map keys must be strings. Arrays of str dtype travel as nested
    lists of str; object arrays and unknown objects are refused.

NumPy scalars become Python scalars, tuples become lists and a Gymnasium
``GraphInstance`` becomes ``{"nodes", "edges", "edge_links"}`` in both encodings.
An :class:`~gymie.encoded.Encoded` value (encoded ahead, by a worker) is spliced in as it is.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable
from enum import Enum
from typing import Any
from uuid import UUID

import msgpack
import msgspec
import numpy as np
import orjson
from gymnasium.spaces import GraphInstance

from gymie import encoded
from gymie.encoded import Encoded

NDARRAY_EXT = 1
"""The msgpack extension type code of an ndarray."""

NONFINITE: dict[str, float] = {"Infinity": math.inf, "-Infinity": -math.inf, "NaN": math.nan}
"""The strings that stand for non-finite floats in JSON, and their values."""

_PACKED_KINDS = "biufc"


def jsonable(value: Any) -> Any:
    """Convert ``value`` into plain values that :func:`json.dumps` encodes as strict JSON.

    Raises:
        TypeError: ``value`` holds something with no JSON form.
    """
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        return _float(value)
    if kind is dict:
        return {_key(k): jsonable(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [jsonable(v) for v in value]
    if kind is np.ndarray:
        return _array_jsonable(value)
    if isinstance(value, np.ndarray):
        return _array_jsonable(value)
    return _other_jsonable(value)


def _other_jsonable(value: Any) -> Any:
    # Subclasses and rarer types; kept out of jsonable() to keep its fast path short.
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, GraphInstance):
        return jsonable(graph_dict(value))
    if isinstance(value, Enum):  # its value, as json.dumps (and orjson) write an IntEnum or a StrEnum
        return jsonable(value.value)
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {_key(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, int):  # bool is final: only int subclasses get here
        return int(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, float):
        return _float(float(value))
    if isinstance(value, UUID):  # as orjson writes one
        return str(value)
    if isinstance(value, Encoded):
        return _encoded_jsonable(value)
    raise TypeError(f"{value!r} of type {type(value).__name__} is not JSON serializable")


def _encoded_jsonable(value: Encoded) -> Any:
    data = value.data
    if isinstance(data, str):
        return encoded.splice().json_placeholder(data)
    return jsonable(decode_msgpack(data))  # encoded for msgpack (another session's env, shared): decode it


def _float(value: float) -> float | str:
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"


def _nonfinite(nested: Any) -> Any:
    if isinstance(nested, list):
        return [_nonfinite(v) for v in nested]
    return _float(nested)


def _array_jsonable(array: np.ndarray[Any, Any]) -> Any:
    kind = array.dtype.kind
    if kind in "biuU":
        return array.tolist()
    if kind == "f":
        # One check for the whole array; the element walk only runs when something is non-finite.
        values = array.tolist()
        return values if _all_finite(array, values) else _nonfinite(values)
    if kind == "O":
        return jsonable(array.tolist())
    raise TypeError(f"ndarray of dtype {array.dtype} is not JSON serializable")


def _all_finite(array: np.ndarray[Any, Any], values: Any) -> bool:
    if array.ndim == 1 and array.size <= 64:
        # Cheaper than a NumPy call on a few elements; an inf or NaN anywhere makes the sum
        # non-finite (an overflowing sum only costs the walk, which then changes nothing).
        return math.isfinite(sum(values))
    return bool(np.isfinite(array).all())


def _key(key: Any) -> str:
    # The key json.dumps would write: "true", "false", "null", "Infinity"; str() otherwise.
    if isinstance(key, str):
        return key
    if isinstance(key, np.generic):
        key = key.item()
    if key is None or isinstance(key, bool):
        return json.dumps(key)
    if isinstance(key, float) and not math.isfinite(key):
        return str(_float(key))
    return str(key)


def graph_dict(graph: GraphInstance) -> dict[str, Any]:
    """Return a graph instance as ``{"nodes", "edges", "edge_links"}``."""
    return {"nodes": graph.nodes, "edges": graph.edges, "edge_links": graph.edge_links}


def encode_json(value: Any) -> str:
    r"""Encode ``value`` as strict JSON, byte for byte as ``json.dumps(jsonable(value))`` does.

    Default separators (``", "`` and ``": "``), ASCII only (``\uXXXX`` escapes) and
    Python's float repr: the text of gymie 0.5.4's frames. See the module docstring for how.

    Raises:
        TypeError: ``value`` holds something with no JSON form.
    """
    fragments: list[bytes] = []
    try:
        raw = orjson.dumps(value, default=lambda obj: _default(obj, fragments, True), option=_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError too: a non-str key, an int past 64 bits, ...
        return _slow(_encode_strict, value)
    text = _spaced(raw)
    if text is None:
        return _slow(_encode_strict, value)
    return _join(text, fragments).decode("ascii")


def encode_json_compact(value: Any) -> str:
    """Encode ``value`` as strict JSON with no spaces: the same values as :func:`encode_json`.

    For JSON-RPC replies and requests, where nothing compares the text: ``,`` and ``:``
    separators, non-ASCII characters as they are, and numbers spelled by orjson (``1e-05``
    may come out as ``0.00001``), each parsing to the same float.

    Raises:
        TypeError: ``value`` holds something with no JSON form.
    """
    fragments: list[bytes] = []
    try:
        raw = orjson.dumps(value, default=lambda obj: _default(obj, fragments, False), option=_OPTIONS)
    except TypeError:
        return _slow(_encode_compact, value)
    if b"null" in raw:  # a None, or a non-finite float that orjson wrote as null
        return _slow(_encode_compact, value)
    return _join(raw, fragments).decode()


def _slow(encode: Callable[[Any], str], value: Any) -> str:
    """``encode(jsonable(value))``, the json.dumps way, with Encoded values spliced in."""
    try:
        text = encode(jsonable(value))
    except BaseException:
        encoded.take_splice()
        raise
    spliced = encoded.take_splice()
    return text if spliced is None else spliced.into_json(text)


# One encoder for every call: json.dumps(..., allow_nan=False) builds a new JSONEncoder each time.
_encode_strict = json.JSONEncoder(allow_nan=False).encode
_encode_compact = json.JSONEncoder(allow_nan=False, separators=(",", ":")).encode

# Subclasses of str/int/float/dict/list, dataclasses and datetimes go to _default (which refuses
# what jsonable refuses) instead of being written orjson's own way. Enums and UUIDs orjson writes
# itself, as jsonable does: the member's value, the canonical string.
_OPTIONS = (
    orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME
)

# Where a large ndarray's own text goes: a NUL byte, which orjson never writes (it escapes control
# characters in strings), so the rest is checked and spaced without reading the array's text.
_HOLE = orjson.Fragment(b"\x00")
_INLINE = 64  # arrays up to this size go through tolist(): cheaper than NumPy calls on a few values


def _default(obj: Any, fragments: list[bytes], spaced: bool) -> Any:
    """The default hook: a large ndarray's text goes to ``fragments``, the rest becomes plain."""
    if isinstance(obj, np.ndarray):
        if obj.size <= _INLINE or obj.dtype.kind not in "biuf":
            return _array_jsonable(obj)  # lists (a 0-d array: a scalar); TypeError for refusals
        fragments.append(_array_json(obj, spaced))
        return _HOLE
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Encoded):  # encoded by a worker: its text goes in as it is
        if isinstance(obj.data, str):
            fragments.append(obj.data.encode())
            return _HOLE
        return decode_msgpack(obj.data)  # encoded for msgpack (another session's env, shared)
    if isinstance(obj, GraphInstance):
        return graph_dict(obj)
    if isinstance(obj, dict):
        return dict(obj)
    if isinstance(obj, (list, tuple)):
        return list(obj)
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, str):
        return str(obj)
    if isinstance(obj, float):
        return float(obj)
    raise TypeError(f"{type(obj).__name__} goes the slow way")  # where jsonable says what is wrong


def _array_json(array: np.ndarray[Any, Any], spaced: bool) -> bytes:
    """The JSON text of a bool, int or float ndarray of ndim >= 1, as json.dumps writes its tolist()."""
    if array.dtype.kind != "f":
        if not (array.flags.c_contiguous and array.dtype.isnative):
            array = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("="))
        text = orjson.dumps(array, option=orjson.OPT_SERIALIZE_NUMPY)
        return text.replace(b",", b", ") if spaced else text
    if not np.isfinite(array).all():
        values = _nonfinite(array.tolist())
        return (_encode_strict if spaced else _encode_compact)(values).encode("ascii")
    # float64 first, as tolist() does: a float32 0.1 is written 0.10000000149011612.
    text = orjson.dumps(np.ascontiguousarray(array, dtype=np.float64), option=orjson.OPT_SERIALIZE_NUMPY)
    return _python_floats(text.replace(b",", b", ")) if spaced else text


def _spaced(raw: bytes) -> bytes | None:
    """The compact text of orjson as json.dumps writes it; None when only json.dumps can say it."""
    if b"null" in raw:  # a None, or a non-finite float that orjson wrote as null
        return None
    if b'"' not in raw:  # no strings (so no maps either): every comma is a separator
        return _python_floats(raw.replace(b",", b", "))
    if b"\\" in raw or b"\x7f" in raw or not raw.isascii():
        return None  # a string that json.dumps escapes differently (or at all)
    # No escapes: every quote opens or closes a string, so the even pieces are outside strings.
    # Join those on a byte that orjson never writes (\x01 is escaped in strings), mend them in
    # one go, and put them back.
    pieces = raw.split(b'"')
    outside = b"\x01".join(pieces[::2]).replace(b",", b", ").replace(b":", b": ")
    pieces[::2] = _python_floats(outside).split(b"\x01")
    return b'"'.join(pieces)


def _join(text: bytes, fragments: list[bytes]) -> bytes:
    if not fragments:
        return text
    pieces = text.split(b"\x00")
    out = [pieces[0]]
    for fragment, piece in zip(fragments, pieces[1:], strict=True):
        out += (fragment, piece)
    return b"".join(out)


def _python_floats(text: bytes) -> bytes:
    """Numbers (outside strings) as repr() spells them.

    orjson and repr() write the same shortest digits, except below 1e-4 where orjson writes
    ``0.00001234`` and ``1.5e-7`` for repr()'s ``1.234e-05`` and ``1.5e-07`` (checked over
    7 M floats of every scale and random bits). Such numbers are rare: find them, then mend each.
    """
    if b"0.0000" in text:
        text = _mend(text, b"0.0000", _decimal_to_exponent)
    if b"e-" in text:
        text = _mend(text, b"e-", _two_digit_exponent)
    return text


def _mend(text: bytes, marker: bytes, fix: Callable[[bytes, int], tuple[int, bytes | None]]) -> bytes:
    out: list[bytes] = []
    done = 0
    at = text.find(marker)
    while at >= 0:
        end, replacement = fix(text, at)
        if replacement is not None:
            out += (text[done:at], replacement)
            done = end
        at = text.find(marker, max(end, at + 1))
    out.append(text[done:])
    return b"".join(out)


def _number_end(text: bytes, at: int) -> int:
    while at < len(text) and text[at] in _DIGITS:
        at += 1
    return at


_DIGITS = frozenset(b"0123456789")


def _decimal_to_exponent(text: bytes, at: int) -> tuple[int, bytes | None]:
    # 0.00001234 -> 1.234e-05; not the 0.0000 inside 10.00001 or 0.100001
    if at and (text[at - 1] in _DIGITS or text[at - 1] == 0x2E):
        return at + 1, None
    end = _number_end(text, at + 2)
    fraction = text[at + 2 : end]
    digits = fraction.lstrip(b"0")
    if not digits:
        return end, None
    mantissa = digits[:1] + (b"." + digits[1:] if len(digits) > 1 else b"")
    return end, mantissa + b"e-%02d" % (len(fraction) - len(digits) + 1)


def _two_digit_exponent(text: bytes, at: int) -> tuple[int, bytes | None]:
    # 1.5e-7 -> 1.5e-07
    end = _number_end(text, at + 2)
    if end - at != 3 or not (at and text[at - 1] in _DIGITS):
        return end, None
    return end, b"e-0" + text[at + 2 : end]


def decode_json(raw: str | bytes) -> Any:
    """Decode a JSON text, bytes as UTF-8, to the same values as :func:`json.loads`.

    Raises:
        ValueError: ``raw`` is not valid JSON (or not UTF-8).
    """
    try:
        return _decode_fast(raw)
    except (msgspec.DecodeError, RecursionError, UnicodeEncodeError):
        # Or what only json.loads reads: NaN and Infinity, 1e400 (inf), "\ud800", 1,000 levels deep;
        # msgspec cannot even take a str holding a lone surrogate (UnicodeEncodeError).
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8")
        return json.loads(raw)


_decode_fast = msgspec.json.Decoder().decode


def encode_msgpack(value: Any) -> bytes:
    """Encode ``value`` as msgpack, ndarrays as extension type 1 (see the module docstring).

    Raises:
        TypeError: ``value`` holds an object array or an object with no msgpack form.
    """
    packer = getattr(_packers, "packer", None)
    if packer is None:
        packer = _packers.packer = msgpack.Packer(default=_pack_default, use_bin_type=True)
    try:
        packed: bytes = packer.pack(_packable(value))
    except BaseException:
        encoded.take_splice()
        raise
    spliced = encoded.take_splice()
    return packed if spliced is None else spliced.into_msgpack(packed)


# One long-lived Packer per thread: packb() makes a new one per call, whose buffer for a large
# reply is fresh memory from the OS each time; the page faults made a 100 KB Atari frame cost
# ~130 µs to encode instead of ~10. Per thread, because the `default` hook runs Python code.
_packers = threading.local()


def _packable(value: Any) -> Any:
    # Containers only: msgpack packs tuples and GraphInstances as plain arrays and any
    # map key as is, so normalise those here; leaves go to _pack_default.
    if isinstance(value, dict):
        return {_key(k): _packable(v) for k, v in value.items()}
    if isinstance(value, GraphInstance):
        return _packable(graph_dict(value))
    if isinstance(value, (list, tuple)):
        return [_packable(v) for v in value]
    return value


def _pack_default(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind in _PACKED_KINDS:
            return _ndarray_ext(obj)
        if obj.dtype.kind == "U":
            return obj.tolist()
        raise TypeError(f"ndarray of dtype {obj.dtype} is not msgpack serializable")
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Encoded):
        if isinstance(obj.data, bytes):
            return encoded.splice().msgpack_placeholder(obj.data)
        return _packable(json.loads(obj.data))  # encoded for JSON (another session's env, shared)
    raise TypeError(f"{obj!r} of type {type(obj).__name__} is not msgpack serializable")


# One Packer for every ndarray payload: packb() allocates a 256 KiB buffer per call, and nested in the
# outer packb's default hook that malloc churn cost up to 13 µs a step. This Packer has no `default`,
# so it runs no Python code while packing and sharing it is safe under the GIL.
_PAYLOAD_PACKER = msgpack.Packer(use_bin_type=True)


def _ndarray_ext(array: np.ndarray[Any, Any]) -> msgpack.ExtType:
    # tobytes() copies into C order whatever the array's own layout.
    payload = _PAYLOAD_PACKER.pack([array.dtype.str, list(array.shape), array.tobytes()])
    return msgpack.ExtType(NDARRAY_EXT, payload)


def decode_msgpack(data: bytes) -> Any:
    """Decode msgpack; map keys must be strings.

    An ndarray comes back as a view on ``data``: read-only, not copied.

    Raises:
        ValueError: ``data`` is not valid msgpack, has a non-string map key, or
            holds an unknown extension type or a malformed ndarray.
    """
    return msgpack.unpackb(data, ext_hook=_unpack_ext, raw=False)


def _unpack_ext(code: int, data: bytes) -> np.ndarray[Any, Any]:
    if code != NDARRAY_EXT:
        raise ValueError(f"Unknown msgpack extension type {code}, only {NDARRAY_EXT} (ndarray) is known")
    payload = msgpack.unpackb(data, raw=False)
    if not (isinstance(payload, list) and len(payload) == 3):
        raise ValueError("ndarray payload must be a 3-element array [dtype, shape, bytes]")
    dtype_str, shape, raw = payload
    dtype = _dtype(dtype_str)
    if not (isinstance(shape, list) and all(type(d) is int and d >= 0 for d in shape)):
        raise ValueError(f"ndarray shape must be an array of non-negative ints, got {shape!r}")
    if not isinstance(raw, bytes):
        raise ValueError(f"ndarray data must be bin, got {type(raw).__name__}")
    expected = math.prod(shape) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(f"ndarray data has {len(raw)} bytes, {expected} expected for {dtype.str} {shape}")
    if dtype.kind == "b" and raw and np.frombuffer(raw, dtype=np.uint8).max() > 1:
        raise ValueError("bool ndarray data holds bytes other than 0 and 1")
    return np.frombuffer(raw, dtype=dtype).reshape(shape)


def _dtype(dtype_str: Any) -> np.dtype[Any]:
    if not isinstance(dtype_str, str):
        raise ValueError(f"ndarray dtype must be a string, got {dtype_str!r}")
    try:
        dtype = np.dtype(dtype_str)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"ndarray dtype {dtype_str!r} is not a NumPy dtype") from exc
    if dtype.kind not in _PACKED_KINDS:
        raise ValueError(f"ndarray dtype {dtype_str!r} is not bool, integer, float or complex")
    return dtype
