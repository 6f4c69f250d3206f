"""The I/O-free core: a message goes in, a Reply comes out.

``Dispatcher.handle(raw, session)`` decodes, finds the method, calls it and turns
every exception into a reply; this is the only place that happens. A transport
feeds it the frames it receives and applies the Replies it gets back.
"""

from __future__ import annotations

import inspect
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from gymie import codec
from gymie.envs import Backend
from gymie.exceptions import (
    ERRORS,
    GymieError,
    InternalError,
    InvalidMessage,
    InvalidParams,
    InvalidRequest,
    MethodNotFound,
    StepTimeout,
    WorkerCrashed,
)
from gymie.methods import METHODS, Context
from gymie.protocol import (
    MSGPACK_SUBPROTOCOL,
    SUBPROTOCOLS,
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

__all__ = ["MSGPACK_SUBPROTOCOL", "SUBPROTOCOLS", "Dispatcher", "Observer", "Session", "as_gymie_error"]

log = logging.getLogger("gymie")
_session_ids = itertools.count(1)


@dataclass
class Session:
    """Per-connection state: who it is, how it encodes, and whether it speaks JSON-RPC."""

    ctx: Context
    id: int = field(default_factory=lambda: next(_session_ids))
    msgpack: bool = False
    rpc: bool = False


class Observer(Protocol):
    """Told about every request once it is answered (the server's metrics)."""

    def request(self, method: str, seconds: float, error: GymieError | None) -> None:
        """``method`` is ``""`` when the message named none; ``error`` is what the client was told."""


class ParamsCheck:
    """``inspect.Signature.bind`` with a fast path: named params checked against two frozensets.

    ``bind`` costs several µs a request; the common case (params an object, a handler without
    ``*args``/``**kwargs``) needs only two set comparisons.
    """

    def __init__(self, handler: Callable[..., Any]) -> None:
        self.signature = inspect.signature(handler)
        params = list(self.signature.parameters.values())[1:]  # the Context comes first
        simple = all(p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) for p in params)
        self.allowed = frozenset(p.name for p in params) if simple else None
        self.required = frozenset(p.name for p in params if p.default is p.empty)

    def bind(self, ctx: Any, *args: Any, **kwargs: Any) -> None:
        """Raise TypeError exactly when ``Signature.bind`` would."""
        if not args and self.allowed is not None and self.required <= kwargs.keys() <= self.allowed:
            return
        self.signature.bind(ctx, *args, **kwargs)


class Dispatcher:
    """Turns messages into Replies for the connections of one server process.

    ``backend`` is where ``make`` runs envs (``gymie.backends.create(settings)`` picks one;
    ``gymie.api.dispatcher()`` builds a Dispatcher over 0.5.4's registries with it).
    """

    def __init__(
        self,
        envs: EnvRegistry,
        overrides: OverrideRegistry,
        settings: Settings | None = None,
        methods: MethodRegistry = METHODS,
        observer: Observer | None = None,
        *,
        backend: Backend,
    ) -> None:
        self.envs = envs
        self.overrides = overrides
        self.settings = settings or Settings()
        self.backend = backend
        self.methods = methods
        self.observer = observer
        self._signatures = {name: ParamsCheck(m.handler) for name, m in methods.items()}

    def open_session(self, subprotocol: str | None = None) -> Session:
        """Start a connection; the msgpack subprotocol implies JSON-RPC from the first message."""
        ctx = Context(self.envs, self.overrides, self.settings, self.backend, methods=self.methods)
        session = Session(ctx)
        ctx.owner = session.id
        session.msgpack = session.rpc = subprotocol == MSGPACK_SUBPROTOCOL
        return session

    def end_session(self, session: Session) -> list[str]:
        """Close every environment the connection made (0.5.4 leaked them); return their ids."""
        return self._close(self.envs.owned_by(session.id))

    def close_all(self) -> list[str]:
        """Close every environment left (at shutdown); return their ids."""
        return self._close(list(self.envs))

    def _close(self, instance_ids: list[str]) -> list[str]:
        for instance_id in instance_ids:
            try:
                self.envs.pop_instance(instance_id).adapter.close()
            except Exception:
                log.exception("closing instance %s failed", instance_id)
        return instance_ids

    def handle(self, raw: str | bytes, session: Session) -> Reply:
        """Decode one frame and answer it."""
        try:
            message = self._decode(raw, session)
        except InvalidMessage as err:
            self._observe("", 0.0, err)
            if session.rpc:
                return self._encode(_rpc_error(None, err), session)
            return Reply.closing(err.close_code, err.reason)
        if is_jsonrpc(message) or session.rpc:
            session.rpc = True
            return self._handle_rpc(message, session)
        return self._handle_legacy(message, raw, session)

    # -- legacy (0.5.4) ---------------------------------------------------

    def _handle_legacy(self, message: Any, raw: str | bytes, session: Session) -> Reply:
        started, name = time.perf_counter(), ""
        try:
            if not isinstance(message, dict):
                raise InvalidMessage(_text(raw))
            request = None if _is_plain_step(message) else parse_legacy(message)
            name = "step" if request is None else request.method
            method = self.methods.get(name)
            if method is None or method.legacy is None:
                raise MethodNotFound(name)
            if request is None:  # the hot path: what parse_legacy and the params check find is known
                result = self._run(method, session.ctx, (), message["params"])
            else:
                result = self._call(method, request, session.ctx)
            reply = Reply.send(method.legacy(session.ctx, result))
        except Exception as exc:
            err = as_gymie_error(exc)
            self._observe(name, started, err)
            return Reply.closing(err.close_code, _reason(err))
        self._observe(name, started, None)
        return reply

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
        started = time.perf_counter()
        try:
            request = parse_jsonrpc(message)
        except InvalidRequest as err:
            self._observe("", started, err)
            return _rpc_error(request_id(message), err)
        try:
            method = self.methods.get(request.method)
            if method is None:
                raise MethodNotFound(request.method)
            result = method.rpc(session.ctx, self._call(method, request, session.ctx))
        except Exception as exc:
            error = as_gymie_error(exc)
            self._observe(request.method, started, error)
            return None if request.notification else _rpc_error(request.id, error)
        self._observe(request.method, started, None)
        return None if request.notification else rpc_result(request.id, result)

    # -- shared -----------------------------------------------------------

    def _call(self, method: Method, request: Request, ctx: Context) -> Any:
        params = request.params
        args, kwargs = (params, {}) if isinstance(params, list) else ((), params)
        try:
            self._signatures[method.name].bind(ctx, *args, **kwargs)
        except TypeError:
            raise InvalidParams(params) from None
        return self._run(method, ctx, args, kwargs)

    def _run(self, method: Method, ctx: Context, args: Any, kwargs: dict[str, Any]) -> Any:
        try:
            return method.handler(ctx, *args, **kwargs)
        except (WorkerCrashed, StepTimeout):
            self._drop_dead_instances()
            raise

    def _drop_dead_instances(self) -> None:
        """Forget instances whose worker process is gone (a backend's proxy sets ``dead``)."""
        for instance_id in list(self.envs):
            instance = self.envs.instance(instance_id)
            if getattr(instance.adapter, "dead", False):
                self._close([instance_id])
                reason = getattr(instance.adapter, "exit_reason", "died")
                log.warning("instance %s removed: its worker %s", instance_id, reason)

    def _observe(self, method: str, started: float, error: GymieError | None) -> None:
        if self.observer is not None:
            self.observer.request(method, time.perf_counter() - started if started else 0.0, error)

    def _decode(self, raw: str | bytes, session: Session) -> Any:
        try:
            if session.msgpack and isinstance(raw, bytes):
                return codec.decode_msgpack(raw)
            return codec.decode_json(raw)
        except Exception:
            raise InvalidMessage(_text(raw)) from None

    def _encode(self, payload: Any, session: Session) -> Reply:
        encode = codec.encode_msgpack if session.msgpack else codec.encode_json_compact
        try:
            return Reply.send(encode(payload))
        except (TypeError, ValueError, OverflowError, RecursionError) as exc:
            error = InternalError(f"reply could not be encoded: {exc}")
            rid = payload.get("id") if isinstance(payload, dict) else None
            try:
                return Reply.send(encode(rpc_error(rid, error)))
            except (TypeError, ValueError, OverflowError):  # the id itself (an int past 64 bits in msgpack)
                return Reply.send(encode(rpc_error(None, error)))


_STEP_PARAMS = frozenset({"instance_id", "action"})


def _is_plain_step(message: dict[str, Any]) -> bool:
    """``{"method": "step", "params": {"instance_id": ..., "action": ...}}`` and nothing else."""
    if message.get("method") != "step" or len(message) != 2:
        return False
    params = message.get("params")
    return type(params) is dict and params.keys() == _STEP_PARAMS


def as_gymie_error(exc: BaseException) -> GymieError:
    """Every exception becomes a GymieError; unexpected ones are logged with their traceback."""
    if isinstance(exc, GymieError):
        return exc
    log.error("unexpected error: %r", exc, exc_info=exc)
    return InternalError(str(exc))


def _rpc_error(rid: Any, err: GymieError) -> dict[str, Any]:
    try:
        return rpc_error(rid, err)
    except RecursionError:  # see _reason
        return rpc_error(rid, type(err)("..."))


def _reason(err: GymieError) -> str:
    # A subject can defeat str() (a list nested 10,000 deep): say which error it was all the same.
    try:
        return err.reason
    except Exception:
        return ERRORS[type(err)].template.format("...")


def _text(raw: str | bytes) -> str:
    return raw if isinstance(raw, str) else raw.decode("utf-8", errors="replace")
