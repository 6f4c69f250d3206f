"""The dashboard's watch API: ``ws://HOST:PORT/watch``, read-only, JSON-RPC 2.0 (JSON or msgpack).

A watcher calls ``watch`` (the tables: this process's connections and instances) and
``watch_frames`` (one instance's frames); the server then pushes JSON-RPC notifications:

- ``tables``: the same snapshot as ``watch``'s result, every :data:`TABLES_INTERVAL` seconds;
- ``frame``: ``{instance_id, seq, png, width, height, problem, stats}`` at most
  :data:`~gymie.server.frames.MAX_FPS` times a second, and only when the instance stepped;
- ``frames_ended``: ``{instance_id, reason}`` once the watched instance is gone.

There is no method that acts on an env: a watcher can read, never reset, step or close.

Who runs what (eventlet green threads): a watcher's own connection thread answers its requests;
one tables thread and one thread per watched instance (:class:`FrameSource`) build what is
pushed; each watcher's sender thread sends the latest of each kind, so a slow watcher skips
frames instead of holding anyone up. Frames are rendered when the hub is free (an in-process
env never renders during an agent's step) and within :class:`~gymie.server.frames.FrameBudget`.
"""

from __future__ import annotations

import inspect
import itertools
import logging
import os
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import eventlet

from gymie import __version__, codec
from gymie.core import Session
from gymie.exceptions import GymieError, InvalidMessage, InvalidParams, InvalidRequest, MethodNotFound
from gymie.protocol import MSGPACK_SUBPROTOCOL, parse_jsonrpc, request_id, rpc_error, rpc_result
from gymie.registry import EnvRegistry, Instance
from gymie.server.frames import MAX_FPS, FrameBudget
from gymie.server.tables import connection_row, instance_row, session_protocol
from gymie.server.watchers import FrameSource, Rate, Watcher
from gymie.settings import Settings

log = logging.getLogger("gymie")

TABLES_INTERVAL = 0.5
"""Seconds between two ``tables`` notifications."""
MAX_WATCH_MESSAGE = 64 * 1024
"""Largest request a watcher may send (they are all small)."""


class Peer(Protocol):
    """One open WebSocket of the server, as the tables show it (``session`` None: a watcher)."""

    ws: Any
    session: Session | None
    opened: float
    messages: int


class WatchHub:
    """The watch API of one server process: its watchers, tables thread and frame sources."""

    def __init__(
        self, envs: EnvRegistry, peers: Callable[[], Iterable[Peer]], settings: Settings, started: float
    ) -> None:
        self.envs = envs
        self.peers = peers
        self.settings = settings
        self.started = started
        self.budget = FrameBudget()
        self.watchers: set[Watcher] = set()
        self.sources: dict[str, FrameSource] = {}
        self.rates: dict[Any, Rate] = {}
        self._ids = itertools.count(1)
        self._tables: Any = None
        self._methods: dict[str, Callable[..., Any]] = {
            "watch": self.watch,
            "watch_frames": self.watch_frames,
            "ping": lambda watcher: True,
        }

    # -- one watcher's connection ---------------------------------------------

    def converse(self, ws: Any, receive: Callable[[], str | bytes | None]) -> None:
        """Answer one watcher's requests until it closes (runs on its connection's green thread)."""
        watcher = Watcher(f"w{next(self._ids)}", ws, getattr(ws, "protocol", None) == MSGPACK_SUBPROTOCOL)
        self.watchers.add(watcher)
        try:
            while (message := receive()) is not None:
                watcher.messages += 1
                reply = self.handle(watcher, message)
                if reply is not None:
                    watcher.send_now(reply)
        finally:
            self._forget(watcher)

    def handle(self, watcher: Watcher, raw: str | bytes) -> str | bytes | None:
        """One request in, its encoded reply out (None for a notification)."""
        try:
            message = (
                codec.decode_msgpack(raw)
                if watcher.msgpack and isinstance(raw, bytes)
                else codec.decode_json(raw)
            )
        except Exception:
            text = raw if isinstance(raw, str) else raw.decode("utf-8", errors="replace")
            return watcher.encode(rpc_error(None, InvalidMessage(text[:100])))
        try:
            request = parse_jsonrpc(message)
        except InvalidRequest as err:
            return watcher.encode(rpc_error(request_id(message), err))
        try:
            result = self._call(watcher, request.method, request.params)
        except GymieError as err:
            return None if request.notification else watcher.encode(rpc_error(request.id, err))
        return None if request.notification else watcher.encode(rpc_result(request.id, result))

    def _call(self, watcher: Watcher, method: str, params: dict[str, Any] | list[Any]) -> Any:
        handler = self._methods.get(method)
        if handler is None:
            raise MethodNotFound(method)
        args, kwargs = (params, {}) if isinstance(params, list) else ((), params)
        try:
            inspect.signature(handler).bind(watcher, *args, **kwargs)
        except TypeError:
            raise InvalidParams(params) from None
        return handler(watcher, *args, **kwargs)

    # -- methods ----------------------------------------------------------------

    def watch(self, watcher: Watcher, tables: bool = True) -> dict[str, Any]:
        """Push the tables to this watcher from now on (``tables=False``: stop); return them now."""
        if not isinstance(tables, bool):
            raise InvalidParams({"tables": tables})
        watcher.tables = tables
        if tables and self._tables is None:
            self._tables = eventlet.spawn(self._tables_loop)
        return self.snapshot()

    def watch_frames(self, watcher: Watcher, instance_id: Any, fps: Any = MAX_FPS) -> dict[str, Any] | None:
        """Push one instance's frames to this watcher (``instance_id`` None: stop); say if it renders."""
        if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0 < fps:
            raise InvalidParams({"fps": fps})
        self._unsubscribe_frames(watcher)
        if instance_id is None:
            return None
        instance = self.envs.instance(instance_id)
        source = self.sources.get(instance_id)
        if source is None or source.instance is not instance:
            source = self.sources[instance_id] = FrameSource(self, instance_id, instance)
        watcher.fps = min(float(fps), MAX_FPS)
        source.add(watcher)
        return source.describe(watcher.fps)

    # -- tables -----------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """This process's connections and instances, with their rates."""
        now = time.monotonic()
        instances = [(instance_id, self.envs.instance(instance_id)) for instance_id in list(self.envs)]
        owned: dict[Any, int] = {}
        for _, instance in instances:
            owned[instance.owner] = owned.get(instance.owner, 0) + 1
        connections = []
        for peer in self.peers():
            if peer.session is not None:
                key, protocol = peer.session.id, session_protocol(peer.session, peer.messages)
                rate = self._rate(key, peer.messages, now)
                connections.append(
                    connection_row(key, peer.ws, protocol, peer.opened, peer.messages, now, rate, owned)
                )
        for w in self.watchers:
            rate = self._rate(w.id, w.messages, now)
            connections.append(connection_row(w.id, w.ws, w.protocol, w.opened, w.messages, now, rate, owned))
        rows = [
            instance_row(key, inst, now, self._rate(key, inst.stats.steps, now)) for key, inst in instances
        ]
        return {
            "server": {
                "version": __version__,
                "pid": os.getpid(),
                "isolation": self.settings.isolation,
                "uptime": round(time.time() - self.started, 1),
                "idle_timeout": self.settings.idle_timeout,
                "max_fps": MAX_FPS,
                "frame_budget": self.budget.share,
                "frames_rendered": self.budget.frames,
                "frame_ms": round(1000 * self.budget.spent / self.budget.frames, 2)
                if self.budget.frames
                else None,
            },
            "connections": sorted(connections, key=lambda row: row["age"], reverse=True),
            "instances": sorted(rows, key=lambda row: row["age"], reverse=True),
        }

    def _rate(self, key: Any, count: int, now: float) -> float | None:
        rate = self.rates.get(key)
        if rate is None:
            rate = self.rates[key] = Rate(count, now)
        return rate.update(count, now)

    def _tables_loop(self) -> None:
        try:
            while any(w.tables for w in self.watchers):
                snapshot = self.snapshot()
                self._prune_rates(snapshot)
                for watcher in self.watchers:
                    if watcher.tables:
                        watcher.post("tables", snapshot)
                eventlet.sleep(TABLES_INTERVAL)
        finally:
            self._tables = None

    def _prune_rates(self, snapshot: dict[str, Any]) -> None:
        live = {row["id"] for row in snapshot["connections"]} | {row["id"] for row in snapshot["instances"]}
        for key in [key for key in self.rates if key not in live]:
            del self.rates[key]

    # -- lifetimes ----------------------------------------------------------------

    def instance(self, instance_id: str) -> Instance | None:
        """The live instance of that id, or None."""
        try:
            return self.envs.instance(instance_id)
        except GymieError:
            return None

    def source_ended(self, source: FrameSource) -> None:
        """A frame source has no watcher left, or its instance is gone."""
        if self.sources.get(source.instance_id) is source:
            del self.sources[source.instance_id]

    def _unsubscribe_frames(self, watcher: Watcher) -> None:
        if watcher.source is not None:
            watcher.source.remove(watcher)
            watcher.source = None

    def _forget(self, watcher: Watcher) -> None:
        self._unsubscribe_frames(watcher)
        self.watchers.discard(watcher)
        watcher.stop()

    def close(self) -> None:
        """Stop every thread of the hub (at shutdown; the connections are closed by the server)."""
        for source in list(self.sources.values()):
            source.stop()
        for watcher in list(self.watchers):
            watcher.stop()
        if self._tables is not None:
            self._tables.kill()
