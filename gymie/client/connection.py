"""Client transports: send one JSON-RPC call, get its result back or its error raised.

:class:`Connection` is what :mod:`gymie.client` needs. :class:`WebSocketConnection` speaks to a
server over :mod:`gymie.client.websocket` (a blocking socket, no eventlet); :class:`InMemoryConnection`
hands the same encoded frames straight to a :class:`~gymie.core.Dispatcher`, so a client can be
tested without sockets. Both encode with :mod:`gymie.codec`: msgpack (binary frames, ndarrays as
extension type 1, via the ``gymie.msgpack`` subprotocol) or JSON (text frames).
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol
from urllib.parse import urlsplit, urlunsplit

import msgpack
from websockets.exceptions import InvalidStatus

from gymie import codec, protocol
from gymie.client.transport import Transport, open_websocket
from gymie.exceptions import InvalidMessage, from_wire

if TYPE_CHECKING:
    from gymie.core import Dispatcher, Session

log = logging.getLogger("gymie.client")

Encoding = Literal["msgpack", "json"]
Params = Mapping[str, Any] | Sequence[Any]
MSGPACK_SUBPROTOCOL = protocol.MSGPACK_SUBPROTOCOL
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_SIZE = 2**28
"""Largest reply accepted (websockets' own default, 1 MiB, is below one batch of Atari frames)."""


class Connection(Protocol):
    """A way to call the server's methods (``dm_env_rpc``'s ``ConnectionType``, for gymie)."""

    def call(self, method: str, params: Params | None = None, *, timeout: float | None = None) -> Any:
        """Call ``method`` and return its result; raise the server's error as its GymieError class."""
        ...

    def close(self) -> None:
        """Release the connection; the server then closes every env made through it."""
        ...


def decode_reply(frame: str | bytes | bytearray | memoryview | codec.Frame) -> Any:
    """One reply frame: a binary frame is msgpack, a text frame JSON; arrays come back writable.

    Raises:
        InvalidMessage: the frame does not decode.
    """
    try:
        if isinstance(frame, codec.Frame) and frame.text:
            frame = bytes(frame).decode("utf-8")
        if isinstance(frame, str):
            return codec.decode_json(frame)
        return codec.decode_msgpack(frame, writable=True)
    except ValueError:
        head = frame[:80] if isinstance(frame, str) else bytes(frame)[:80]
        raise InvalidMessage(repr(head)) from None


def wrong_path_message(url: str, status: int) -> str:
    """What to say when the server answered a handshake with a page instead of a WebSocket.

    A gymie server answers 404 naming ``/gym`` (0.5.4 answered 200 ``Gymie is running...``).
    """
    parts = urlsplit(url)
    suggestion = urlunsplit((parts.scheme, parts.netloc, "/gym", parts.query, ""))
    return f"{url} answered HTTP {status}, not a WebSocket: gymie serves WebSockets at /gym ({suggestion})"


def result_of(reply: Any) -> Any:
    """The ``result`` of a JSON-RPC response, or its ``error`` raised as the matching GymieError."""
    if not isinstance(reply, dict) or ("result" not in reply and "error" not in reply):
        raise InvalidMessage(repr(reply)[:80])
    if "error" in reply:
        error = reply["error"] if isinstance(reply["error"], dict) else {}
        raise from_wire(error.get("code", 0), str(error.get("message", "")), error.get("data"))
    return reply["result"]


class _Calls:
    """Request ids and the frame shape shared by both transports."""

    def __init__(self, encoding: Encoding) -> None:
        if encoding not in ("msgpack", "json"):
            raise ValueError(f"encoding must be 'msgpack' or 'json', not {encoding!r}")
        self.encoding: Encoding = encoding
        self._ids = itertools.count(1)
        self._heads: dict[str, bytes] = {}

    def request(self, method: str, params: Params | None) -> tuple[int, str | bytes]:
        rid = next(self._ids)
        params = {} if params is None else params
        if self.encoding == "json":
            message = {"jsonrpc": "2.0", "method": method, "params": params, "id": rid}
            return rid, codec.encode_json_compact(message)
        # The msgpack of {"jsonrpc": "2.0", "method": method, "params": params, "id": rid}, from a
        # head made once per method: only the params and the id are packed per call.
        head = self._heads.get(method)
        if head is None:
            head = self._heads[method] = _MSGPACK_HEAD + _pack(method) + _pack("params")
        return rid, b"".join((head, codec.encode_msgpack(params), _MSGPACK_ID, _pack(rid)))


_pack = msgpack.Packer().pack
_MSGPACK_HEAD = b"\x84" + _pack("jsonrpc") + _pack("2.0") + _pack("method")
_MSGPACK_ID = _pack("id")


class WebSocketConnection:
    """A :class:`Connection` over one WebSocket; safe to share between threads (calls take turns).

    Attributes:
        encoding: ``"msgpack"`` or ``"json"``, as the server agreed (a server without the
            ``gymie.msgpack`` subprotocol gets JSON).
        timeout: Default seconds to wait for each reply.
    """

    def __init__(
        self,
        url: str,
        *,
        encoding: Encoding = "msgpack",
        timeout: float | None = DEFAULT_TIMEOUT,
        token: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Open the WebSocket; ``kwargs`` go to ``websockets.sync.client.connect``.

        Compression is off unless ``compression="deflate"`` is passed: deflating every
        observation costs more than it saves on a LAN.

        Raises:
            ConnectionError: the URL answered with a page, not a WebSocket (its path is not
                ``/gym``); the message names the URL to use.
        """
        calls = _Calls(encoding)
        headers = dict(kwargs.pop("additional_headers", None) or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        kwargs.setdefault("compression", None)
        kwargs.setdefault("max_size", DEFAULT_MAX_SIZE)
        kwargs.setdefault("open_timeout", timeout)
        subprotocols = [MSGPACK_SUBPROTOCOL] if encoding == "msgpack" else None
        try:
            self.ws: Transport = open_websocket(url, subprotocols, additional_headers=headers, **kwargs)
        except InvalidStatus as exc:
            if exc.response.status_code not in (200, 404):
                raise
            raise ConnectionError(wrong_path_message(url, exc.response.status_code)) from exc
        if encoding == "msgpack" and self.ws.subprotocol != MSGPACK_SUBPROTOCOL:
            log.warning("%s does not speak %s; falling back to JSON", url, MSGPACK_SUBPROTOCOL)
            calls = _Calls("json")
        self._calls = calls
        self.encoding = calls.encoding
        self.timeout = timeout
        self.closed = False
        self.borrow = True  # large replies are decoded from the transport's buffer, not a copy
        self._lock = threading.Lock()

    def call(self, method: str, params: Params | None = None, *, timeout: float | None = None) -> Any:
        """Send one request and wait for its reply (``timeout`` seconds, the default if None).

        Raises:
            GymieError: the server answered with an error (its own class: InstanceNotFound...).
            TimeoutError: no reply in time; a late reply is skipped by the next call.
            ConnectionError: the server closed the connection.
        """
        rid, frame = self._calls.request(method, params)
        with self._lock:
            self.ws.send(frame)
            reply = self._receive(rid, self.timeout if timeout is None else timeout)
        return result_of(reply)

    def _receive(self, rid: int, timeout: float | None) -> Any:
        while True:
            reply = decode_reply(self.ws.recv(timeout, borrow=self.borrow))
            # Replies to calls that timed out earlier carry smaller ids; an id of None
            # is the server failing to read our request at all.
            if not isinstance(reply, dict) or reply.get("id") in (rid, None):
                return reply
            log.debug("skipping a late reply to request %r", reply.get("id"))

    def close(self) -> None:
        """Close the WebSocket (idempotent)."""
        self.closed = True
        self.ws.close()

    def __enter__(self) -> WebSocketConnection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class InMemoryConnection:
    """A :class:`Connection` that feeds encoded frames to a Dispatcher directly: no sockets, no timeouts."""

    def __init__(self, dispatcher: Dispatcher, *, encoding: Encoding = "msgpack") -> None:
        """Open a session on ``dispatcher``, with the msgpack subprotocol for ``encoding="msgpack"``."""
        self._calls = _Calls(encoding)
        self.encoding = encoding
        self.dispatcher = dispatcher
        subprotocol = MSGPACK_SUBPROTOCOL if encoding == "msgpack" else None
        self.session: Session | None = dispatcher.open_session(subprotocol)

    def call(self, method: str, params: Params | None = None, *, timeout: float | None = None) -> Any:
        """Handle one request in this thread (``timeout`` is ignored) and return its result.

        Raises:
            GymieError: the dispatcher answered with an error.
            ConnectionError: the connection was closed, or the dispatcher closed it.
        """
        if self.session is None:
            raise ConnectionError("connection is closed")
        _, frame = self._calls.request(method, params)
        reply = self.dispatcher.handle(frame, self.session)
        if reply.close is not None:
            self.close()
            raise ConnectionError(f"gymie server closed the connection: {reply.close}")
        return result_of(decode_reply(reply.frames[0]))

    def close(self) -> None:
        """End the session, closing the envs it made (idempotent)."""
        if self.session is not None:
            self.dispatcher.end_session(self.session)
            self.session = None

    def __enter__(self) -> InMemoryConnection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
