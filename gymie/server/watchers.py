"""The moving parts of the watch API (``gymie.server.watch``): watchers, frame sources and rates."""

from __future__ import annotations

import base64
import contextlib
import logging
import socket
import time
from typing import Any, Protocol

import eventlet
from eventlet import greenthread
from eventlet.event import Event

from gymie import codec
from gymie.registry import Instance
from gymie.server.frames import MAX_FPS, FrameBudget, as_image, encode_png, render_mode, render_problem
from gymie.server.tables import env_id, stats_row

log = logging.getLogger("gymie")

SEND_TIMEOUT = 10.0
"""Seconds a send to a watcher may make no progress before the watcher is dropped."""
RATE_WINDOW = 0.5
"""Shortest window, in seconds, over which a rate is measured."""


class Hub(Protocol):
    """What a :class:`FrameSource` needs of the hub (``gymie.server.watch.WatchHub``)."""

    budget: FrameBudget

    def instance(self, instance_id: str) -> Instance | None:
        """The live instance of that id, or None."""

    def source_ended(self, source: FrameSource) -> None:
        """``source`` stopped."""


class Rate:
    """Events a second over the last window of at least :data:`RATE_WINDOW` seconds."""

    __slots__ = ("count", "time", "value")

    def __init__(self, count: int, now: float) -> None:
        self.count, self.time = count, now
        self.value: float | None = None

    def update(self, count: int, now: float) -> float | None:
        """Take a new total; return the rate (None until a window has passed)."""
        if now - self.time >= RATE_WINDOW:
            self.value = round((count - self.count) / (now - self.time), 1)
            self.count, self.time = count, now
        return self.value


class Watcher:
    """One ``/watch`` connection: what it subscribed to, and a sender thread for what is pushed.

    :meth:`post` keeps only the latest message of each kind (``tables``, ``frame``...) until the
    sender gets to it: a watcher slower than the pushes skips some instead of queueing them.
    """

    def __init__(self, watcher_id: str, ws: Any, msgpack: bool) -> None:
        self.id = watcher_id
        self.ws = ws
        self.msgpack = msgpack
        self.opened = time.monotonic()
        self.messages = 0
        self.tables = False
        self.fps = MAX_FPS
        self.source: FrameSource | None = None
        self.pending: dict[str, Any] = {}
        self._wake = Event()
        self._sender = eventlet.spawn(self._send_loop)

    @property
    def protocol(self) -> str:
        """How the tables name this connection's protocol."""
        return "watch (msgpack)" if self.msgpack else "watch (json)"

    def encode(self, message: dict[str, Any]) -> str | bytes:
        """A JSON-RPC message in this watcher's encoding; in JSON, ``bytes`` params travel as base64."""
        if self.msgpack:
            return codec.encode_msgpack(message)
        params = message.get("params")
        if isinstance(params, dict) and any(isinstance(v, bytes) for v in params.values()):
            b64 = {
                k: base64.b64encode(v).decode("ascii") if isinstance(v, bytes) else v
                for k, v in params.items()
            }
            message = {**message, "params": b64}
        return codec.encode_json(message)

    def post(self, kind: str, params: dict[str, Any]) -> None:
        """Queue the notification ``kind`` (replacing one of that kind not sent yet)."""
        self.pending[kind] = params
        if not self._wake.ready():
            self._wake.send()

    def send_now(self, frame: str | bytes) -> None:
        """Send a frame; a watcher that takes no frame for :data:`SEND_TIMEOUT` s is disconnected."""
        timer = eventlet.Timeout(SEND_TIMEOUT)
        try:
            self.ws.send(frame)
        except eventlet.Timeout as exc:
            if exc is not timer:
                raise
            log.info("watcher %s took no data for %g s: disconnected", self.id, SEND_TIMEOUT)
            with contextlib.suppress(OSError):
                self.ws.socket.shutdown(socket.SHUT_RDWR)  # its connection thread then ends
        finally:
            timer.cancel()

    def _send_loop(self) -> None:
        try:
            while True:
                self._wake.wait()
                self._wake.reset()
                while self.pending:
                    kind = next(iter(self.pending))
                    params = self.pending.pop(kind)
                    self.send_now(self.encode({"jsonrpc": "2.0", "method": kind, "params": params}))
        except OSError as err:  # the watcher went away; its connection thread cleans up
            log.debug("watcher %s: %s", self.id, err)

    def stop(self) -> None:
        """Stop pushing (the connection itself is closed by the server)."""
        self.pending.clear()
        self._sender.kill()


class FrameSource:
    """Renders one instance for its watchers: at most at their fps, within the hub's budget.

    It renders only when the instance stepped since the last frame, and runs on its own green
    thread: an in-process env is never rendered during a step (a step does not yield to the hub).
    """

    def __init__(self, hub: Hub, instance_id: str, instance: Instance) -> None:
        self.hub = hub
        self.instance_id = instance_id
        self.instance = instance
        self.watchers: set[Watcher] = set()
        self.problem = render_problem(instance)
        self.seq = 0
        self._sent_steps = -1
        self._rate = Rate(instance.stats.steps, time.monotonic())
        self._thread: Any = None
        self._rendering = False

    def describe(self, fps: float) -> dict[str, Any]:
        """``watch_frames``' result: whether and how this instance renders."""
        return {
            "instance_id": self.instance_id,
            "env_id": env_id(self.instance),
            "render_mode": render_mode(self.instance),
            "renderable": self.problem is None,
            "problem": self.problem,
            "fps": fps,
        }

    def add(self, watcher: Watcher) -> None:
        """Send this instance's frames to ``watcher`` too."""
        self.watchers.add(watcher)
        watcher.source = self
        if self._thread is None:
            self._thread = eventlet.spawn(self._run)

    def remove(self, watcher: Watcher) -> None:
        """Stop sending to ``watcher``; with no watcher left, stop."""
        self.watchers.discard(watcher)
        if not self.watchers:
            self.stop()

    def stop(self) -> None:
        """End the thread: now if it waits, else once its render returns.

        A render is never interrupted: in a worker process that would leave its reply in the
        pipe, to be read as the answer to the agent's next call.
        """
        self.watchers.clear()
        self.hub.source_ended(self)
        thread, self._thread = self._thread, None
        if thread is not None and not self._rendering and thread is not greenthread.getcurrent():
            thread.kill()

    def _run(self) -> None:
        last = 0.0
        while self.watchers:
            interval = 1.0 / max(w.fps for w in self.watchers)
            budget = self.hub.budget.wait_time() if self.problem is None else 0.0
            eventlet.sleep(max(last + interval - time.monotonic(), budget, 0.0))
            if self.hub.instance(self.instance_id) is not self.instance:
                self._publish("frames_ended", {"instance_id": self.instance_id, "reason": "closed"})
                break
            last = time.monotonic()
            if self.instance.stats.steps != self._sent_steps:
                self._sent_steps = self.instance.stats.steps
                self._publish("frame", self._frame())
        self._thread = None
        self.hub.source_ended(self)

    def _publish(self, kind: str, params: dict[str, Any]) -> None:
        for watcher in list(self.watchers):
            watcher.post(kind, params)

    def _frame(self) -> dict[str, Any]:
        png, shape, problem = None, (None, None), self.problem
        if problem is None:
            started = time.perf_counter()
            self._rendering = True
            try:
                adapter = self.instance.adapter  # a worker's proxy would pre-encode render() for its session
                image, problem = as_image(getattr(adapter, "render_frame", adapter.render)())
                if image is not None:
                    png, shape = encode_png(image), image.shape[:2]
            except Exception as err:  # the env's own error (e.g. render before reset): shown, not fatal
                problem = f"render() failed: {type(err).__name__}: {err}"
            finally:
                self._rendering = False
            if self.seq:  # the first render may set the renderer up (pygame: ~80 ms): not a frame's cost
                self.hub.budget.charge(time.perf_counter() - started)
        self.seq += 1
        stats = self.instance.stats
        return {
            "instance_id": self.instance_id,
            "seq": self.seq,
            "png": png,
            "height": shape[0],
            "width": shape[1],
            "problem": problem,
            "stats": {
                **stats_row(stats, self._rate.update(stats.steps, time.monotonic())),
                "returns": list(stats.returns),
            },
        }
