"""The I/O-free core: a message goes in, a Reply comes out.

``Dispatcher.handle(raw, session)`` decodes, finds the method, calls it and turns
every exception into a reply; this is the only place that happens. A transport
feeds it the frames it receives and applies the Replies it gets back.

Work per message is bounded: a batch holds at most ``max_batch`` requests (and the
transport's ``yield_hook`` runs between them), a reply at most ``max_reply_size``
bytes (refused before it is built when its arrays alone pass that).
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from gymie import codec, limits
from gymie.envs import Backend
from gymie.exceptions import (
    GymieError,
    InvalidMessage,
    InvalidParams,
    InvalidRequest,
    MethodNotFound,
    StepTimeout,
    WorkerCrashed,
)
from gymie.excerpts import EXCERPT_BYTES
from gymie.logs import RateLimit
from gymie.methods import METHODS, Context
from gymie.params import ParamsCheck
from gymie.protocol import (
    JSONRPC,
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
from gymie.replies import as_gymie_error, encode_response, join_batch, whole
from gymie.settings import Settings

__all__ = [
    "MSGPACK_SUBPROTOCOL",
    "SUBPROTOCOLS",
    "Dispatcher",
    "Observer",
    "RateLimit",
    "Session",
    "as_gymie_error",
]

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
        yield_hook: Callable[[], None] | None = None,
    ) -> None:
        self.envs = envs
        self.overrides = overrides
        self.settings = settings or Settings()
        self.backend = backend
        self.methods = methods
        self.observer = observer
        self.yield_hook = yield_hook
        """Called between the requests of a batch: the transport lets other connections run there."""
        self._signatures = {name: ParamsCheck(m.handler) for name, m in methods.items()}

    def open_session(self, subprotocol: str | None = None) -> Session:
        """Start a connection; the msgpack subprotocol implies JSON-RPC from the first message."""
        ctx = Context(self.envs, self.overrides, self.settings, self.backend, methods=self.methods)
        session = Session(ctx)
        ctx.owner = session.id
        session.msgpack = session.rpc = subprotocol == MSGPACK_SUBPROTOCOL
        ctx.encoding = "msgpack" if session.msgpack else "json"
        ctx.legacy = not session.rpc
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
                return self._encode(rpc_error(None, err), session)
            return Reply.closing(err.close_code, err.close_reason)
        if type(message) is dict:
            reply = self._plain_step(message, session)
            if reply is not None:
                return reply
        if is_jsonrpc(message) or session.rpc:
            session.rpc, session.ctx.legacy = True, False
            return self._handle_rpc(message, session)
        return self._handle_legacy(message, raw, session)

    # -- the hot path: a plain step, in either protocol --------------------

    def _plain_step(self, message: dict[str, Any], session: Session) -> Reply | None:
        """Answer a plain step, or return None for any other message.

        A plain step is ``{"method": "step", "params": {"instance_id", "action"}}`` (in JSON-RPC,
        with ``"jsonrpc": "2.0"`` and a str or 64-bit int ``id``) and nothing else. What parsing,
        the method lookup and the params check would find is known, so the step runs at once:
        the same handler, formatter, limits, errors and observer as the general path.
        """
        params = message.get("params")
        if message.get("method") != "step" or type(params) is not dict or params.keys() != _STEP_PARAMS:
            return None
        rpc = session.rpc or "jsonrpc" in message
        rid = message.get("id")
        if rpc and not (len(message) == 4 and message.get("jsonrpc") == JSONRPC and _plain_id(rid)):
            return None
        if not rpc and len(message) != 2:
            return None
        method = self.methods.get("step")
        if method is None or (not rpc and method.legacy is None):
            return None
        legacy = None if rpc else method.legacy
        started, ctx, limit = time.perf_counter(), session.ctx, self.settings.max_reply_size
        if rpc:  # as the general path: the session is JSON-RPC from here on, whatever the step does
            session.rpc, ctx.legacy = True, False
        try:
            result = self._run(method, ctx, (), params)
            if legacy is not None:
                answer: Any = self._legacy_frame(legacy, ctx, result, "step")
            else:
                if not session.msgpack and (floor := limits.reply_floor(result, True)) > limit:
                    limits.check_reply(floor, limit, "step")  # JSON: refused before it is built
                answer = rpc_result(rid, method.rpc(ctx, result))
        except Exception as exc:
            err = as_gymie_error(exc)
            self._observe("step", started, err)
            if rpc:
                return self._encode(rpc_error(rid, err), session)
            return Reply.closing(err.close_code, err.close_reason)
        self._observe("step", started, None)
        return self._encode(answer, session) if rpc else Reply.send(answer)

    # -- legacy (0.5.4) ---------------------------------------------------

    def _handle_legacy(self, message: Any, raw: str | bytes, session: Session) -> Reply:
        started, name = time.perf_counter(), ""
        try:
            if not isinstance(message, dict):
                raise InvalidMessage(_text(raw))
            request = parse_legacy(message)
            name = request.method
            method = self.methods.get(name)
            if method is None or method.legacy is None:
                raise MethodNotFound(name)
            result = self._call(method, request, session.ctx)
            reply = Reply.send(self._legacy_frame(method.legacy, session.ctx, result, name))
        except Exception as exc:
            err = as_gymie_error(exc)
            self._observe(name, started, err)
            return Reply.closing(err.close_code, err.close_reason)
        self._observe(name, started, None)
        return reply

    def _legacy_frame(
        self, formatter: Callable[[Context, Any], Any], ctx: Context, result: Any, name: str
    ) -> str | codec.Frame:
        """``result`` as 0.5.4's frame, refused when it passes ``--max-reply-size``.

        JSON builds a list per array: a result whose floor passes the limit is refused before.
        """
        limit = self.settings.max_reply_size
        if (floor := limits.reply_floor(result, True)) > limit:
            limits.check_reply(floor, limit, name)
        frame = formatter(ctx, result)
        if len(frame) > limit:
            limits.check_reply(len(frame), limit, name, exact=True)
        return frame  # type: ignore[no-any-return]

    # -- JSON-RPC 2.0 -----------------------------------------------------

    def _handle_rpc(self, message: Any, session: Session) -> Reply:
        if not isinstance(message, list):
            reply = self._rpc_one(message, session)
            return self._encode(reply, session) if reply is not None else Reply()
        if not message or len(message) > self.settings.max_batch:
            most = self.settings.max_batch
            detail = f"a batch holds 1 to {most} requests (--max-batch), got {len(message)}"
            err = InvalidRequest("[]" if not message else f"[{len(message)} requests]", detail=detail)
            self._observe("", 0.0, err)
            return self._encode(rpc_error(None, err), session)
        frames: list[str | bytes] = []
        room = self.settings.max_reply_size
        for i, item in enumerate(message):
            if i and self.yield_hook is not None:
                self.yield_hook()
            reply = self._rpc_one(item, session)
            if reply is not None:
                frames.append(whole(encode_response(reply, session.msgpack, room)))
                room -= len(frames[-1])
        return Reply.send(join_batch(frames, session.msgpack)) if frames else Reply()

    def _rpc_one(self, message: Any, session: Session) -> dict[str, Any] | None:
        started = time.perf_counter()
        try:
            request = parse_jsonrpc(message, session.msgpack)
        except InvalidRequest as err:
            self._observe("", started, err)
            return rpc_error(request_id(message, session.msgpack), err)
        try:
            method = self.methods.get(request.method)
            if method is None:
                raise MethodNotFound(request.method)
            result = method.rpc(session.ctx, self._call(method, request, session.ctx))
            # JSON would build a list per array: refuse a reply too large before. msgpack only
            # copies bytes; encode_response refuses it once built (a worker checks before, off the hub).
            limit = self.settings.max_reply_size
            if not session.msgpack and (floor := limits.reply_floor(result, True)) > limit:
                limits.check_reply(floor, limit, request.method)
        except Exception as exc:
            error = as_gymie_error(exc)
            self._observe(request.method, started, error)
            return None if request.notification else rpc_error(request.id, error)
        self._observe(request.method, started, None)
        return None if request.notification else rpc_result(request.id, result)

    # -- shared -----------------------------------------------------------

    def _call(self, method: Method, request: Request, ctx: Context) -> Any:
        params = request.params
        args, kwargs = (params, {}) if isinstance(params, list) else ((), params)
        check = self._signatures[method.name]
        try:
            check.bind(ctx, *args, **kwargs)
        except TypeError:
            raise InvalidParams(params, detail=check.problem(method.name, args, kwargs)) from None
        return self._run(method, ctx, args, kwargs)

    def _run(self, method: Method, ctx: Context, args: Any, kwargs: dict[str, Any]) -> Any:
        try:
            return method.handler(ctx, *args, **kwargs)
        except (WorkerCrashed, StepTimeout):
            self.drop_dead_instances()
            raise

    def drop_dead_instances(self) -> None:
        """Forget instances whose worker process is gone (a backend's proxy sets ``dead``)."""
        for instance_id in list(self.envs):
            instance = self.envs.instance(instance_id)
            if getattr(instance.adapter, "dead", False):
                self._close([instance_id])
                reason = getattr(instance.adapter, "exit_reason", "died")
                log.warning("instance %s removed: its worker %s", instance_id, reason)

    def _observe(self, method: str, started: float, error: GymieError | None) -> None:
        if error is not None and log.isEnabledFor(logging.DEBUG):  # the client's mistake: no traceback
            log.debug("%s refused: %s: %s", method or "message", type(error).__name__, error.reason)
        if self.observer is not None:
            self.observer.request(method, time.perf_counter() - started if started else 0.0, error)

    def _decode(self, raw: str | bytes, session: Session) -> Any:
        try:
            if session.msgpack and isinstance(raw, bytes):
                return codec.decode_msgpack(raw)
            return codec.decode_json(raw)
        except Exception:
            raise InvalidMessage(_text(raw)) from None

    def _encode(self, payload: dict[str, Any], session: Session) -> Reply:
        return Reply.send(encode_response(payload, session.msgpack, self.settings.max_reply_size))


_STEP_PARAMS = frozenset({"instance_id", "action"})


def _plain_id(rid: Any) -> bool:
    """A str, or an int that both encodings carry back (the general path judges the others)."""
    return type(rid) is str or (type(rid) is int and -(2**63) <= rid < 2**64)


def _text(raw: str | bytes) -> str:
    # Only the start: an error quotes an excerpt of the message, never all of it.
    head = raw[: 4 * EXCERPT_BYTES]
    return head if isinstance(head, str) else head.decode("utf-8", errors="replace")
