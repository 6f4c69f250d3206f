"""Message shapes: requests in, replies out, for 0.5.4's format and for JSON-RPC 2.0.

A 0.5.4 (legacy) message is ``{"method": ..., "params": {...}}``; its reply is a bare
text frame, and any error closes the connection. A JSON-RPC 2.0 message carries
``"jsonrpc": "2.0"``; its replies carry its ``id`` and errors leave the connection open.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gymie.codec import Frame
from gymie.exceptions import GymieError, InvalidParams, InvalidRequest, MethodNotFound
from gymie.excerpts import bounded, excerpt

MSGPACK_SUBPROTOCOL = "gymie.msgpack"
"""The WebSocket subprotocol of msgpack sessions (JSON-RPC from the first message, binary frames)."""
SUBPROTOCOLS = (MSGPACK_SUBPROTOCOL,)
MAX_CLOSE_REASON = 123  # a close frame's payload is at most 125 bytes, 2 of them the code
JSONRPC = "2.0"
_NO_ID = object()


@dataclass(frozen=True)
class Reply:
    """What the transport must do: send ``frames`` in order, then close if ``close`` is set.

    A frame is text (``str``), binary (``bytes``), or a :class:`~gymie.codec.Frame` of buffers
    (a large ndarray's own memory, an image's rows of text) to be sent without joining them.
    """

    frames: tuple[str | bytes | Frame, ...] = ()
    close: tuple[int, str] | None = None

    @classmethod
    def send(cls, *frames: str | bytes | Frame) -> Reply:
        """Reply with frames and keep the connection open."""
        return cls(frames=frames)

    @classmethod
    def closing(cls, code: int, reason: str) -> Reply:
        """Close with a code and a reason cut to the protocol's 123 bytes."""
        return cls(close=(code, truncate_reason(reason)))


def truncate_reason(reason: str, limit: int = MAX_CLOSE_REASON) -> str:
    """Cut ``reason`` to at most ``limit`` UTF-8 bytes without splitting a character."""
    # A lone surrogate (JSON allows "\ud800") cannot travel in a close frame: it becomes "?".
    encoded = reason.encode("utf-8", errors="replace")
    return encoded[:limit].decode("utf-8", errors="ignore")


@dataclass(frozen=True)
class Request:
    """One call: ``id`` is None for legacy messages and JSON-RPC notifications."""

    method: str
    params: dict[str, Any] | list[Any]
    id: Any = None
    jsonrpc: bool = False
    notification: bool = False


def is_jsonrpc(message: Any) -> bool:
    """A JSON-RPC message is an object with a ``jsonrpc`` key, or a non-empty list with one."""
    if isinstance(message, dict):
        return "jsonrpc" in message
    return isinstance(message, list) and any(isinstance(m, dict) and "jsonrpc" in m for m in message)


def parse_legacy(message: dict[str, Any]) -> Request:
    """Read a 0.5.4 message; raise the errors 0.5.4 raised, in its order."""
    if "method" not in message or "params" not in message:
        raise InvalidRequest(excerpt(list(message)))
    method, params = message["method"], message["params"]
    if not isinstance(method, str):
        raise MethodNotFound(method)
    if not isinstance(params, dict):
        raise InvalidParams(params)
    return Request(method, params)


def valid_id(rid: Any, msgpack: bool = False) -> bool:
    """Whether ``rid`` can be a request id: a string, null, or an int the reply's encoding carries back.

    Floats are refused (``1e400`` would come back as ``"Infinity"``, ``1.0`` maybe as ``1``), and
    over msgpack so are ints outside int64/uint64, which it cannot encode.
    """
    kind = type(rid)
    if kind is int:
        return not msgpack or -(2**63) <= rid < 2**64
    return kind is str or rid is None


def request_id(message: Any, msgpack: bool = False) -> Any:
    """The id of a JSON-RPC message, or None when it has none that is valid."""
    if isinstance(message, dict):
        rid = message.get("id")
        if valid_id(rid, msgpack):
            return rid
    return None


def parse_jsonrpc(message: Any, msgpack: bool = False) -> Request:
    """Read one JSON-RPC 2.0 request object; raise InvalidRequest when it is not one.

    ``msgpack``: the reply is msgpack, so the id must be an int msgpack can encode.
    """
    if not isinstance(message, dict) or message.get("jsonrpc") != JSONRPC:
        raise InvalidRequest(_keys(message))
    method = message.get("method")
    params = message.get("params", {})
    rid = message.get("id", _NO_ID)
    if not isinstance(method, str) or not isinstance(params, (dict, list)):
        raise InvalidRequest(_keys(message))
    if rid is not _NO_ID and not valid_id(rid, msgpack):
        ints = "a 64-bit integer" if msgpack else "an integer"
        detail = f"id must be a string, {ints} or null, got {excerpt(rid, 40)}"
        raise InvalidRequest(_keys(message), detail=detail)
    if rid is _NO_ID:
        return Request(method, params, None, jsonrpc=True, notification=True)
    return Request(method, params, rid, jsonrpc=True)


def _keys(message: Any) -> str:
    return excerpt(list(message)) if isinstance(message, dict) else type(message).__name__


def rpc_result(rid: Any, result: Any) -> dict[str, Any]:
    """A JSON-RPC success response."""
    return {"jsonrpc": JSONRPC, "result": result, "id": rid}


def rpc_error(rid: Any, error: GymieError) -> dict[str, Any]:
    """A JSON-RPC error response; ``data`` names the gymie error so clients can re-raise it."""
    data = {"error": type(error).__name__, "subject": error.wire_subject}
    data.update((key, bounded(getattr(error, key))) for key in error.extra)
    return {
        "jsonrpc": JSONRPC,
        "error": {"code": error.code, "message": error.reason, "data": data},
        "id": rid,
    }
