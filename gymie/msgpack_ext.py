"""gymie's msgpack extension type 1, an ndarray: its header written, and read back without copies.

The format is in :mod:`gymie.codec`'s docstring. Here: the bytes before an array's raw data
(cached per dtype and shape, so a small array's extension costs a ``tobytes()`` and a
concatenation), and :func:`decode_msgpack`, which reads a large payload's header by hand and
views the raw bytes in place (``msgpack.unpackb`` of the payload would copy them).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import msgpack
import numpy as np

NDARRAY_EXT = 1
"""The msgpack extension type code of an ndarray."""
PACKED_KINDS = "biufc"
"""The dtype kinds that travel as extension type 1: bool, signed and unsigned int, float, complex."""


def ext_head(array: np.ndarray[Any, Any]) -> bytes:
    """The bytes msgpack writes for ``ndarray_ext(array)`` up to the raw data (ext, then payload header).

    ``array.nbytes`` must be above 255 (ext 16 or ext 32 then, as msgpack picks).
    """
    head = _payload_head(array)
    size = len(head) + array.nbytes  # > 255: ext 16 or ext 32, as msgpack picks
    ext = b"\xc8" + size.to_bytes(2, "big") if size < 1 << 16 else b"\xc9" + size.to_bytes(4, "big")
    return ext + NDARRAY_EXT.to_bytes(1, "big") + head


def _payload_head(array: np.ndarray[Any, Any]) -> bytes:
    """The extension payload up to the raw data: ``[dtype, shape, bin header``; cached per dtype and shape."""
    key = (array.dtype, array.shape)
    head = _PAYLOAD_HEADS.get(key)
    if head is None:
        dims: bytes = _PAYLOAD_PACKER.pack([array.dtype.str, list(array.shape)])  # fixarray 2: 1-byte head
        head = b"\x93" + dims[1:] + _bin_head(array.nbytes)
        if len(_PAYLOAD_HEADS) >= 1024:  # a bound, for envs whose shapes keep changing
            _PAYLOAD_HEADS.clear()
        _PAYLOAD_HEADS[key] = head
    return head


_PAYLOAD_HEADS: dict[tuple[np.dtype[Any], tuple[int, ...]], bytes] = {}


def _bin_head(n: int) -> bytes:
    if n < 1 << 8:
        return b"\xc4" + n.to_bytes(1, "big")
    if n < 1 << 16:
        return b"\xc5" + n.to_bytes(2, "big")
    return b"\xc6" + n.to_bytes(4, "big")


# Packs the dtype and shape of ndarray payloads: packb() allocates a 256 KiB buffer per call. This Packer
# has no `default`, so it runs no Python code while packing and sharing it is safe under the GIL.
_PAYLOAD_PACKER = msgpack.Packer(use_bin_type=True)


def ndarray_ext(array: np.ndarray[Any, Any]) -> msgpack.ExtType:
    """An ndarray (of a kind in :data:`PACKED_KINDS`) as msgpack's extension value."""
    # tobytes() copies into C order whatever the array's own layout. ExtType's own __new__
    # checks its arguments in Python (a third of the cost of a small array): these are right.
    return _new_ext((NDARRAY_EXT, _payload_head(array) + array.tobytes()))


_new_ext = functools.partial(tuple.__new__, msgpack.ExtType)


def decode_msgpack(data: bytes | bytearray | memoryview, *, writable: bool = False) -> Any:
    """Decode msgpack; map keys must be strings.

    An ndarray comes back as a read-only view on the extension's bytes (not copied), or
    with ``writable=True`` as an array of its own (one copy).

    Raises:
        ValueError: ``data`` is not valid msgpack, has a non-string map key, or
            holds an unknown extension type or a malformed ndarray.
    """
    return msgpack.unpackb(data, ext_hook=_unpack_writable if writable else _unpack_ext, raw=False)


def _unpack_writable(code: int, data: bytes) -> np.ndarray[Any, Any]:
    return _unpack_ext(code, data, copy=True)


_DIRECT = 1024
"""Extension payloads at least this large have their header read here, and no bytes copied."""


def _unpack_ext(code: int, data: bytes, copy: bool = False) -> np.ndarray[Any, Any]:
    if code != NDARRAY_EXT:
        raise ValueError(f"Unknown msgpack extension type {code}, only {NDARRAY_EXT} (ndarray) is known")
    simple = _simple_header(data) if len(data) >= _DIRECT else None
    if simple is None:
        payload = msgpack.unpackb(data, raw=False)
        if not (isinstance(payload, list) and len(payload) == 3):
            raise ValueError("ndarray payload must be a 3-element array [dtype, shape, bytes]")
        dtype_str, shape, raw = payload
        offset = 0
    else:
        dtype_str, shape, offset = simple
        raw = data
    dtype = _dtype(dtype_str)
    if not (isinstance(shape, list) and all(type(d) is int and d >= 0 for d in shape)):
        raise ValueError(f"ndarray shape must be an array of non-negative ints, got {shape!r}")
    if not isinstance(raw, bytes):
        raise ValueError(f"ndarray data must be bin, got {type(raw).__name__}")
    expected = math.prod(shape) * dtype.itemsize
    if len(raw) - offset != expected:
        got = len(raw) - offset
        raise ValueError(f"ndarray data has {got} bytes, {expected} expected for {dtype.str} {shape}")
    array = np.frombuffer(raw, dtype=dtype, count=expected // dtype.itemsize, offset=offset)
    if dtype.kind == "b" and array.view(np.uint8).max(initial=0) > 1:
        raise ValueError("bool ndarray data holds bytes other than 0 and 1")
    if copy or not array.flags.aligned:  # a view into the payload may start anywhere
        array = array.copy()
    return array.reshape(shape)


def _simple_header(data: bytes) -> tuple[str, list[int], int] | None:
    """``(dtype, shape, where the raw bytes start)`` of a payload packed as gymie packs one; else None.

    The generic path (``msgpack.unpackb``) would copy the raw bytes; this reads only the header,
    or finds it among the last few read (an env sends the same dtype and shape every step).
    """
    for head, known in _RECENT:
        if data.startswith(head):
            return known
    try:
        found = _read_header(data)
    except (IndexError, UnicodeDecodeError):  # truncated: the generic path says what is wrong
        return None
    if found is not None:
        _RECENT.insert(0, (data[: found[2]], found))
        del _RECENT[8:]
    return found


_RECENT: list[tuple[bytes, tuple[str, list[int], int]]] = []
"""The last headers read: ``(its bytes, what they say)``; the bin header in them fixes the length."""


def _read_header(data: bytes) -> tuple[str, list[int], int] | None:
    if data[0] != 0x93 or not 0xA0 <= data[1] <= 0xBF:
        return None
    at = 2 + data[1] - 0xA0
    dtype_str = data[2:at].decode("utf-8")
    ndim = data[at] - 0x90
    if not 0 <= ndim <= 15:
        return None
    at += 1
    shape = []
    for _ in range(ndim):
        size = _UINT_SIZES.get(data[at])
        if size is None:
            if data[at] > 0x7F:
                return None
            shape.append(data[at])
            at += 1
        else:
            shape.append(int.from_bytes(data[at + 1 : at + 1 + size], "big"))
            at += 1 + size
    size = _BIN_SIZES.get(data[at], 0)
    if not size or at + 1 + size > len(data):
        return None
    length = int.from_bytes(data[at + 1 : at + 1 + size], "big")
    at += 1 + size
    return (dtype_str, shape, at) if at + length == len(data) else None


_UINT_SIZES = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8}
_BIN_SIZES = {0xC4: 1, 0xC5: 2, 0xC6: 4}


def _dtype(dtype_str: Any) -> np.dtype[Any]:
    if not isinstance(dtype_str, str):
        raise ValueError(f"ndarray dtype must be a string, got {dtype_str!r}")
    try:
        dtype = np.dtype(dtype_str)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"ndarray dtype {dtype_str!r} is not a NumPy dtype") from exc
    if dtype.kind not in PACKED_KINDS:
        raise ValueError(f"ndarray dtype {dtype_str!r} is not bool, integer, float or complex")
    return dtype
