"""What the core answers with: any exception as a GymieError, and responses encoded within a limit.

:func:`as_gymie_error` is the one place an unexpected exception is logged; :func:`encode_response`
encodes one JSON-RPC response, or an error in its place when it does not encode or is too large;
:func:`whole` and :func:`join_batch` make a batch's reply of them.
"""

from __future__ import annotations

import logging
from typing import Any

import msgpack

from gymie import codec, limits
from gymie.exceptions import GymieError, InternalError
from gymie.excerpts import excerpt
from gymie.logs import RateLimit
from gymie.protocol import rpc_error

log = logging.getLogger("gymie")


def as_gymie_error(exc: BaseException) -> GymieError:
    """Every exception becomes a GymieError; unexpected ones are logged with their traceback.

    The same unexpected error (type and message) is logged at most once a minute, with a count
    of the ones left out: a client repeating a request that trips a bug cannot flood the log.
    """
    if isinstance(exc, GymieError):
        return exc
    message = excerpt(_safe_str(exc))
    suppressed = _unexpected.admit((type(exc).__name__, message))
    if suppressed is not None:
        more = f" ({suppressed} more like it in the last minute not logged)" if suppressed else ""
        log.error("unexpected error: %s: %s%s", type(exc).__name__, message, more, exc_info=exc)
    return InternalError(message)


_unexpected = RateLimit()


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:
        return f"<{type(exc).__name__}>"


def encode_response(payload: dict[str, Any], binary: bool, room: int) -> str | bytes | codec.Frame:
    """One response, encoded; an error in its place if it does not encode or takes over ``room`` bytes.

    ``binary``: msgpack, else compact JSON. A large one comes as a :class:`~gymie.codec.Frame`
    (its arrays' memory or its text's pieces, not joined).
    """
    encode = codec.encode_msgpack_frame if binary else _encode_json_compact
    try:
        frame = encode(payload)
    except (TypeError, ValueError, OverflowError, RecursionError) as exc:
        error: GymieError = InternalError(f"reply could not be encoded: {excerpt(str(exc))}")
    else:
        if len(frame) <= room:
            return frame
        error = limits.too_large(len(frame), room, "", exact=True)
    try:
        return encode(rpc_error(payload.get("id"), error))
    except (TypeError, ValueError, OverflowError):  # the id itself (an int past 64 bits in msgpack)
        return encode(rpc_error(None, error))


def _encode_json_compact(value: Any) -> str | codec.Frame:
    return codec.encode_json_frame(value, spaced=False)


def whole(frame: str | bytes | codec.Frame) -> str | bytes:
    """A batch's member in one piece (a batch reply is one array of them)."""
    if not isinstance(frame, codec.Frame):
        return frame
    return bytes(frame).decode("utf-8") if frame.text else bytes(frame)


def join_batch(frames: list[str | bytes], binary: bool) -> str | bytes:
    """Encoded responses as one batch reply: a (compact) JSON array or a msgpack array."""
    if binary:
        header: bytes = msgpack.Packer().pack_array_header(len(frames))
        return header + b"".join(frame for frame in frames if isinstance(frame, bytes))
    return "[" + ",".join(frame for frame in frames if isinstance(frame, str)) + "]"
