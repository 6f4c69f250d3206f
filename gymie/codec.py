r"""Value encodings: strict JSON and msgpack, with NumPy arrays handled explicitly.

JSON (the legacy text protocol, and JSON-RPC in text frames)
    :func:`encode_json` gives ``json.dumps(jsonable(value))``'s text byte for byte (gymie
    0.5.4's frames), :func:`encode_json_compact` the same values without spaces (JSON-RPC),
    :func:`decode_json` ``json.loads``' values and errors, all in C (orjson writes, msgspec
    reads): :mod:`gymie.json_text` says how. :func:`encode_json_frame` gives a large text
    as a :class:`Frame` of pieces, to be sent without being joined.

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
    :func:`encode_msgpack_frame` leaves large arrays out of the packed bytes: a
    :class:`Frame` whose buffers include the array's own memory.

NumPy scalars become Python scalars, tuples become lists and a Gymnasium
``GraphInstance`` becomes ``{"nodes", "edges", "edge_links"}`` in both encodings.
An :class:`~gymie.encoded.Encoded` value (encoded ahead, by a worker) is spliced in as it is.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import msgpack
import numpy as np
from gymnasium.spaces import GraphInstance

from gymie import msgpack_ext
from gymie.encoded import Encoded
from gymie.json_text import decode_json, encode_parts
from gymie.jsonable import NONFINITE, graph_dict, jsonable
from gymie.jsonable import map_key as _key
from gymie.msgpack_ext import NDARRAY_EXT, PACKED_KINDS

__all__ = [
    "NDARRAY_EXT",
    "NONFINITE",
    "Frame",
    "decode_json",
    "decode_msgpack",
    "encode_json",
    "encode_json_compact",
    "encode_json_frame",
    "encode_msgpack",
    "encode_msgpack_frame",
    "graph_dict",
    "jsonable",
]


def encode_json(value: Any) -> str:
    r"""Encode ``value`` as strict JSON, byte for byte as ``json.dumps(jsonable(value))`` does.

    Default separators (``", "`` and ``": "``), ASCII only (``\uXXXX`` escapes) and
    Python's float repr: the text of gymie 0.5.4's frames.

    Raises:
        TypeError: ``value`` holds something with no JSON form.
    """
    return b"".join(encode_parts(value, spaced=True)).decode("ascii")


def encode_json_compact(value: Any) -> str:
    """Encode ``value`` as strict JSON with no spaces: the same values as :func:`encode_json`.

    For JSON-RPC replies and requests, where nothing compares the text: ``,`` and ``:``
    separators, non-ASCII characters as they are, and numbers spelled by orjson (``1e-05``
    may come out as ``0.00001``), each parsing to the same float.

    Raises:
        TypeError: ``value`` holds something with no JSON form.
    """
    return b"".join(encode_parts(value, spaced=False)).decode()


def encode_json_frame(value: Any, *, spaced: bool = True) -> str | Frame:
    """:func:`encode_json`'s text (``spaced=False``: :func:`encode_json_compact`'s), maybe in pieces.

    A large text (an image's rows) comes as a text :class:`Frame` of pieces: joining and
    decoding it cost more than writing it.

    Raises:
        TypeError: ``value`` holds something with no JSON form.
    """
    parts = encode_parts(value, spaced=spaced)
    if len(parts) == 1 or sum(map(len, parts)) < JSON_FRAME_BYTES:
        return b"".join(parts).decode("ascii" if spaced else "utf-8")
    return Frame(parts, text=True)


JSON_FRAME_BYTES = 1 << 16
"""JSON texts at least this long are returned as Frames by :func:`encode_json_frame`."""


class Frame:
    """A message as the buffers it is made of: sent in order, never joined.

    :func:`encode_msgpack_frame` returns a binary one when the value holds a large ndarray
    (the array's own memory is one of the buffers), :func:`encode_json_frame` a text one (UTF-8)
    for a large JSON text. ``len()`` is the message's size in bytes and ``bytes()`` joins it.
    """

    __slots__ = ("buffers", "nbytes", "text")

    def __init__(self, buffers: list[bytes | memoryview] | list[bytes], text: bool = False) -> None:
        self.buffers: tuple[bytes | memoryview, ...] = tuple(buffers)
        self.nbytes = sum(len(b) for b in buffers)
        self.text = text

    def __len__(self) -> int:
        return self.nbytes

    def __bytes__(self) -> bytes:
        return b"".join(self.buffers)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Frame) and self.text == other.text and bytes(self) == bytes(other)

    def __hash__(self) -> int:
        return hash(bytes(self))

    def __repr__(self) -> str:
        return f"Frame({self.nbytes} bytes in {len(self.buffers)} buffers{', text' if self.text else ''})"


def encode_msgpack(value: Any) -> bytes:
    """Encode ``value`` as msgpack, ndarrays as extension type 1 (see the module docstring).

    Raises:
        TypeError: ``value`` holds an object array or an object with no msgpack form.
    """
    frame = encode_msgpack_frame(value)
    return frame if isinstance(frame, bytes) else bytes(frame)


def encode_msgpack_frame(value: Any) -> bytes | Frame:
    """:func:`encode_msgpack`'s bytes, as a :class:`Frame` when ``value`` holds a large ndarray.

    The Frame's buffers are the msgpack around each large array and the array's own memory
    (a C-contiguous array is not copied): send them with one ``sendmsg``.

    Raises:
        TypeError: ``value`` holds an object array or an object with no msgpack form.
    """
    packer = getattr(_packers, "packer", None)
    if packer is None:
        packer = _packers.packer = _FramePacker()
    return packer.pack(value if _plain(value) else _packable(value))


HOLE_BYTES = 2048
"""ndarrays of at least this many bytes go into a :class:`Frame` as they are, not copied."""


class _FramePacker:
    """A long-lived Packer and the large arrays it left out of the current message.

    packb() makes a new Packer per call, whose buffer for a large reply is fresh memory from
    the OS each time (the page faults made a 100 KB Atari frame cost ~130 µs instead of ~10):
    one per thread, because the ``default`` hook runs Python code. Each large array is packed
    as a nil (one byte, at the offset the hook sees), and later replaced by the ext header and
    the array's memory; an :class:`~gymie.encoded.Encoded` msgpack value (a worker's) by its bytes.
    """

    def __init__(self) -> None:
        self.packer = msgpack.Packer(default=self._default, use_bin_type=True, autoreset=False)
        self.holes: list[tuple[int, bytes, bytes | memoryview]] = []

    def pack(self, value: Any) -> bytes | Frame:
        try:
            self.packer.pack(value)
            packed: bytes = self.packer.bytes()
        except BaseException:
            self.holes = []
            raise
        finally:
            self.packer.reset()
        if not self.holes:
            return packed
        holes, self.holes = self.holes, []
        buffers: list[bytes | memoryview] = []
        start = 0
        for at, head, data in holes:
            buffers += (packed[start:at] + head, data)
            start = at + 1
        buffers.append(packed[start:])
        return Frame(buffers)

    def _default(self, obj: Any) -> Any:
        if type(obj) is np.ndarray and obj.nbytes >= HOLE_BYTES and obj.dtype.kind in PACKED_KINDS:
            array = obj if obj.flags.c_contiguous else np.ascontiguousarray(obj)
            data = memoryview(array).cast("B")  # type: ignore[arg-type]
            self.holes.append((len(self.packer.bytes()), msgpack_ext.ext_head(array), data))
            return None
        if type(obj) is Encoded and isinstance(obj.data, bytes):
            self.holes.append((len(self.packer.bytes()), b"", obj.data))
            return None
        return _pack_default(obj)


# One long-lived _FramePacker per thread (see there).
_packers = threading.local()


_LEAVES = frozenset({str, int, float, bool, type(None), bytes, np.ndarray})
"""Types msgpack packs as they are (ndarrays: through the default hook)."""


def _plain(value: Any) -> bool:
    """Whether msgpack may pack ``value`` as it is: str keys only, no tuple or dict subclasses.

    Checked before :func:`_packable` rebuilds anything: a step's reply rarely needs it.
    """
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or (type(item) not in _LEAVES and not _plain(item)):
                return False
        return True
    if kind is list:
        return all(type(item) in _LEAVES or _plain(item) for item in value)
    return kind in _LEAVES or not isinstance(value, (dict, list, tuple))


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
        if obj.dtype.kind in PACKED_KINDS:
            return msgpack_ext.ndarray_ext(obj)
        if obj.dtype.kind == "U":
            return obj.tolist()
        raise TypeError(f"ndarray of dtype {obj.dtype} is not msgpack serializable")
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Encoded):  # encoded for JSON (another session's env, shared): decode it
        return _packable(json.loads(obj.data))
    raise TypeError(f"{obj!r} of type {type(obj).__name__} is not msgpack serializable")


def decode_msgpack(data: bytes | bytearray | memoryview | Frame, *, writable: bool = False) -> Any:
    """Decode msgpack; map keys must be strings.

    An ndarray comes back as a read-only view on the extension's bytes (not copied), or
    with ``writable=True`` as an array of its own (one copy).

    Raises:
        ValueError: ``data`` is not valid msgpack, has a non-string map key, or
            holds an unknown extension type or a malformed ndarray.
    """
    if isinstance(data, Frame):
        data = bytes(data)
    return msgpack_ext.decode_msgpack(data, writable=writable)
