"""Value encodings: strict JSON and msgpack, with NumPy arrays handled explicitly.

JSON (the legacy text protocol)
    :func:`jsonable` turns whatever an env returns into plain Python values;
    arrays become nested lists. Strict JSON has no ``Infinity`` or ``NaN``, so
    non-finite floats travel as the *strings* ``"Infinity"``, ``"-Infinity"``
    and ``"NaN"`` (JavaScript's ``Number(s)`` reads each back). Map keys are
    strings, converted the way :func:`json.dumps` converts them.

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
"""

from __future__ import annotations

import json
import math
import threading
from typing import Any

import msgpack
import numpy as np
from gymnasium.spaces import GraphInstance

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
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {_key(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, int):  # bool is final: only int subclasses such as IntEnum get here
        return int(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, float):
        return _float(float(value))
    raise TypeError(f"{value!r} of type {type(value).__name__} is not JSON serializable")


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
    """Encode ``value`` as strict JSON, with :func:`json.dumps`' default separators.

    Raises:
        TypeError: ``value`` holds something with no JSON form.
    """
    return _encode_strict(jsonable(value))


# One encoder for every call: json.dumps(..., allow_nan=False) builds a new JSONEncoder each time.
_encode_strict = json.JSONEncoder(allow_nan=False).encode


def decode_json(raw: str | bytes) -> Any:
    """Decode a JSON text; bytes are read as UTF-8.

    Raises:
        ValueError: ``raw`` is not valid JSON (or not UTF-8).
    """
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8")
    return json.loads(raw)


def encode_msgpack(value: Any) -> bytes:
    """Encode ``value`` as msgpack, ndarrays as extension type 1 (see the module docstring).

    Raises:
        TypeError: ``value`` holds an object array or an object with no msgpack form.
    """
    packer = getattr(_packers, "packer", None)
    if packer is None:
        packer = _packers.packer = msgpack.Packer(default=_pack_default, use_bin_type=True)
    packed: bytes = packer.pack(_packable(value))
    return packed


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
