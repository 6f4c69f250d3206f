r"""Strict JSON for gymie's frames, written by orjson and read by msgspec, both in C.

The text is that of ``json.dumps`` over :func:`~gymie.jsonable.jsonable`'s values (non-finite
floats as strings, keys as json.dumps converts them). (``bench/json_libs.py`` measured orjson,
msgspec and the stdlib against each other; ``bench/RESULTS.md``, "JSON library".)

- :func:`encode_parts` with ``spaced=True`` gives ``json.dumps(jsonable(value))``'s text byte
  for byte: the ``", "``/``": "`` separators, ASCII with ``\uXXXX`` escapes and ``repr()``
  floats of gymie 0.5.4's frames. orjson writes the compact text of everything but large
  arrays; an ndarray of more than 64 bool/int/float values is written by orjson's NumPy
  serialiser (float64 first, so a float32 reads as ``tolist()`` gives it; the rows of an
  integer array once per distinct row) and its text spliced in. Then separators are spaced
  outside strings, and the rare numbers below 1e-4 that orjson spells otherwise
  (``0.00001``, ``1e-7``) are mended. The stdlib path (``jsonable`` + ``json``) takes over
  whenever that could differ: a ``null`` in the text (a None, or a non-finite float orjson
  would write as null), a string that json.dumps escapes (non-ASCII, control characters,
  quote, backslash, DEL), a non-string key, an int past 64 bits, more than 254 levels, an
  unknown type. An array holding a non-finite value goes through ``tolist()``. With
  ``spaced=False`` it gives the same values with no spaces and UTF-8 strings (JSON-RPC).
  The text comes as pieces (an image's rows among them), for a transport to send unjoined.
  An :class:`~gymie.encoded.Encoded` text (a worker's) is spliced in as it is.
- :func:`decode_json` gives :func:`json.loads`' values and errors: msgspec reads the text,
  and whatever it refuses goes to :func:`json.loads`, which reads what only it accepts
  (``NaN``/``Infinity`` literals, ``1e400`` as inf, lone surrogate escapes, nesting past
  msgspec's depth) or raises as before. msgspec, not orjson: orjson reads an integer past
  64 bits as a float, silently, and guarding against that cost more than json.loads itself.

:mod:`gymie.codec` is the public face of this module.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import msgspec
import numpy as np
import orjson
from gymnasium.spaces import GraphInstance

from gymie import encoded
from gymie.encoded import Encoded
from gymie.jsonable import array_jsonable, graph_dict, jsonable, nonfinite
from gymie.msgpack_ext import decode_msgpack


def encode_parts(value: Any, *, spaced: bool) -> list[bytes]:
    """The JSON text of ``value`` in pieces: joined, ``json.dumps(jsonable(value))``'s text.

    ``spaced=True``: that text byte for byte (ASCII); ``spaced=False``: the same values with no
    spaces and UTF-8 strings. A large array's text is pieces of its own (one per row of an image,
    repeated rows the same object), so joining is left to whoever needs one string.

    Raises:
        TypeError: ``value`` holds something with no JSON form.
    """
    fragments: list[list[bytes]] = []
    try:
        raw = orjson.dumps(value, default=lambda obj: _default(obj, fragments, spaced), option=_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError too: a non-str key, an int past 64 bits, ...
        return [_stdlib_text(value, spaced)]
    text = _spaced(raw) if spaced else None if b"null" in raw else raw
    if text is None:  # a None, or a non-finite float that orjson wrote as null; an escaped string
        return [_stdlib_text(value, spaced)]
    return _join(text, fragments)


def _stdlib_text(value: Any, spaced: bool) -> bytes:
    """``json.dumps(jsonable(value))``'s text, with Encoded values spliced in."""
    try:
        text = (_encode_strict if spaced else _encode_compact)(jsonable(value))
    except BaseException:
        encoded.take_splice()
        raise
    spliced = encoded.take_splice()
    return (text if spliced is None else spliced.into_json(text)).encode("ascii")


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


def _default(obj: Any, fragments: list[list[bytes]], spaced: bool) -> Any:
    """The default hook: a large ndarray's text goes to ``fragments``, the rest becomes plain."""
    if isinstance(obj, np.ndarray):
        if obj.size <= _INLINE or obj.dtype.kind not in "biuf":
            return array_jsonable(obj)  # lists (a 0-d array: a scalar); TypeError for refusals
        fragments.append(_array_json(obj, spaced))
        return _HOLE
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Encoded):  # encoded by a worker: its text goes in as it is
        if isinstance(obj.data, str):
            fragments.append([obj.data.encode()])
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


def _array_json(array: np.ndarray[Any, Any], spaced: bool) -> list[bytes]:
    """The JSON text of a bool, int or float ndarray of ndim >= 1, as json.dumps writes its tolist()."""
    if array.dtype.kind != "f":
        if not (array.flags.c_contiguous and array.dtype.isnative):
            array = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("="))
        if array.ndim >= 2 and len(array) > 1:
            return _rows_json(array, spaced)
        text = orjson.dumps(array, option=orjson.OPT_SERIALIZE_NUMPY)
        return [text.replace(b",", b", ") if spaced else text]
    if not np.isfinite(array).all():
        values = nonfinite(array.tolist())
        return [(_encode_strict if spaced else _encode_compact)(values).encode("ascii")]
    # float64 first, as tolist() does: a float32 0.1 is written 0.10000000149011612.
    text = orjson.dumps(np.ascontiguousarray(array, dtype=np.float64), option=orjson.OPT_SERIALIZE_NUMPY)
    return [_python_floats(text.replace(b",", b", ")) if spaced else text]


def _rows_json(array: np.ndarray[Any, Any], spaced: bool) -> list[bytes]:
    """The text of a C-contiguous bool or int array of ndim >= 2, each distinct row written once.

    The rows of an image repeat (an Atari frame has ~9 distinct rows of 210): a Pong frame
    is written in ~0.2 ms instead of ~3. A frame with no repeated row costs the same as before.
    """
    count = len(array)
    rows = array.reshape(count, -1).view(np.dtype((np.void, array[0].nbytes))).ravel()
    keys: list[bytes] = rows.tolist()  # type: ignore[assignment]  # void items are bytes
    texts = dict.fromkeys(keys, b"")
    for key in texts:
        row = np.frombuffer(key, dtype=array.dtype).reshape(array.shape[1:])
        text = orjson.dumps(row, option=orjson.OPT_SERIALIZE_NUMPY)
        texts[key] = text.replace(b",", b", ") if spaced else text
    parts = [b"["]
    separator = b", " if spaced else b","
    for key in keys:
        parts += (texts[key], separator)
    parts[-1] = b"]"
    return parts


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


def _join(text: bytes, fragments: list[list[bytes]]) -> list[bytes]:
    """``text`` with each hole (a NUL byte) replaced by the next fragment's pieces."""
    if not fragments:
        return [text]
    pieces = text.split(b"\x00")
    out = [pieces[0]]
    for fragment, piece in zip(fragments, pieces[1:], strict=True):
        out += fragment
        out.append(piece)
    return out


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
