"""The I/O-free core: a message goes in, a Reply comes out.

``Dispatcher.handle(raw, session)`` decodes, finds the method, calls it and turns
every exception into a reply; this is the only place that happens. A transport
feeds it the frames it receives and applies the Replies it gets back.
"""

from __future__ import annotations

import inspect
import itertools
import logging
from dataclasses import dataclass, field
from typing import Any

from gymie import codec
from gymie.exceptions import (
    GymieError,
    InternalError,
    InvalidMessage,
    InvalidParams,
    InvalidRequest,
    MethodNotFound,
)
from gymie.methods import METHODS, Context
from gymie.protocol import (
    Reply,
    Request,
    is_jsonrpc,
    parse_jsonrpc,
    parse_legacy,
    request_id,
    rpc_error,
    rpc_result,
)
from gymie.registry import EnvRegistry, Method, MethodRegistry, OverrideRegistry
from gymie.settings import Settings

log = logging.getLogger("gymie")

MSGPACK_SUBPROTOCOL = "gymie.msgpack"
SUBPROTOCOLS = (MSGPACK_SUBPROTOCOL,)
_session_ids = itertools.count(1)


@dataclass
class Session:
    """Per-connection state: who it is, how it encodes, and whether it speaks JSON-RPC."""

    ctx: Context
    id: int = field(default_factory=lambda: next(_session_ids))
    msgpack: bool = False
    rpc: bool = False


class Dispatcher:
    """Turns messages into Replies for the connections of one server process."""

    def __init__(
        self,
        envs: EnvRegistry,
        overrides: OverrideRegistry,
        settings: Settings | None = None,
        methods: MethodRegistry = METHODS,
    ) -> None:
        self.envs = envs
        self.overrides = overrides
        self.settings = settings or Settings()
        self.methods = methods
        self._signatures = {name: inspect.signature(m.handler) for name, m in methods.items()}

    def open_session(self, subprotocol: str | None = None) -> Session:
        """Start a connection; the msgpack subprotocol implies JSON-RPC from the first message."""
        session = Session(Context(self.envs, self.overrides, self.settings))
        session.ctx.owner = session.id
        session.msgpack = session.rpc = subprotocol == MSGPACK_SUBPROTOCOL
        return session

    def end_session(self, session: Session) -> list[str]:
        """Close every environment the connection made (0.5.4 leaked them); return their ids."""
        closed = self.envs.owned_by(session.id)
        for instance_id in closed:
            try:
                self.envs.pop_instance(instance_id).adapter.close()
            except Exception:
                log.exception("closing instance %s failed", instance_id)
        return closed

    def handle(self, raw: str | bytes, session: Session) -> Reply:
        """Decode one frame and answer it."""
        try:
            message = self._decode(raw, session)
        except InvalidMessage as err:
            if session.rpc:
                return self._encode(rpc_error(None, err), session)
            return Reply.closing(err.close_code, err.reason)
        if is_jsonrpc(message) or session.rpc:
            session.rpc = True
            return self._handle_rpc(message, session)
        return self._handle_legacy(message, raw, session)

    # -- legacy (0.5.4) ---------------------------------------------------

    def _handle_legacy(self, message: Any, raw: str | bytes, session: Session) -> Reply:
        try:
            if not isinstance(message, dict):
                raise InvalidMessage(_text(raw))
            request = parse_legacy(message)
            method = self.methods.get(request.method)
            if method is None or method.legacy is None:
                raise MethodNotFound(request.method)
            result = self._call(method, request, session.ctx)
            return Reply.send(method.legacy(session.ctx, result))
        except Exception as exc:
            err = as_gymie_error(exc)
            return Reply.closing(err.close_code, err.reason)

    # -- JSON-RPC 2.0 -----------------------------------------------------

    def _handle_rpc(self, message: Any, session: Session) -> Reply:
        if isinstance(message, list):
            if not message:
                return self._encode(rpc_error(None, InvalidRequest("[]")), session)
            replies = [r for r in (self._rpc_one(m, session) for m in message) if r is not None]
            return self._encode(replies, session) if replies else Reply()
        reply = self._rpc_one(message, session)
        return self._encode(reply, session) if reply is not None else Reply()

    def _rpc_one(self, message: Any, session: Session) -> dict[str, Any] | None:
        try:
            request = parse_jsonrpc(message)
        except InvalidRequest as err:
            return rpc_error(request_id(message), err)
        try:
            method = self.methods.get(request.method)
            if method is None:
                raise MethodNotFound(request.method)
            result = method.rpc(self._call(method, request, session.ctx))
        except Exception as exc:
            return None if request.notification else rpc_error(request.id, as_gymie_error(exc))
        return None if request.notification else rpc_result(request.id, result)

    # -- shared -----------------------------------------------------------

    def _call(self, method: Method, request: Request, ctx: Context) -> Any:
        params = request.params
        args, kwargs = (params, {}) if isinstance(params, list) else ((), params)
        try:
            self._signatures[method.name].bind(ctx, *args, **kwargs)
        except TypeError:
            raise InvalidParams(params) from None
        return method.handler(ctx, *args, **kwargs)

    def _decode(self, raw: str | bytes, session: Session) -> Any:
        try:
            if session.msgpack and isinstance(raw, bytes):
                return codec.decode_msgpack(raw)
            return codec.decode_json(raw)
        except Exception:
            raise InvalidMessage(_text(raw)) from None

    def _encode(self, payload: Any, session: Session) -> Reply:
        encode = codec.encode_msgpack if session.msgpack else codec.encode_json
        try:
            return Reply.send(encode(payload))
        except (TypeError, ValueError) as exc:
            rid = payload.get("id") if isinstance(payload, dict) else None
            return Reply.send(encode(rpc_error(rid, InternalError(f"reply could not be encoded: {exc}"))))


def as_gymie_error(exc: BaseException) -> GymieError:
    """Every exception becomes a GymieError; unexpected ones are logged with their traceback."""
    if isinstance(exc, GymieError):
        return exc
    log.error("unexpected error: %r", exc, exc_info=exc)
    return InternalError(str(exc))


def _text(raw: str | bytes) -> str:
    return raw if isinstance(raw, str) else raw.decode("utf-8", errors="replace")
