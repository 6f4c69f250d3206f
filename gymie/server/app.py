"""One server process's WSGI app: ``/gym`` WebSockets fed to the core, health, metrics, shutdown.

Paths: ``/gym`` the WebSocket; ``/healthz`` JSON status; ``/metrics`` Prometheus text; ``/ui``
the dashboard and ``/watch`` its read-only WebSocket (``gymie.server.ui``, ``gymie.server.watch``);
any other path answers ``Gymie is running...`` as 0.5.4 did, except a WebSocket handshake, which
gets 404 naming ``/gym`` (a client that forgot the path learns it). Importing this module imports eventlet.

Shutdown (SIGTERM or SIGINT; a second one cuts it short): stop accepting, answer the
requests in flight, close every WebSocket with 1001, close every env, return, all within
``shutdown_timeout`` seconds (a watchdog ends the process if the hub itself is stuck).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import eventlet
from eventlet import greenthread, hubs
from greenlet import GreenletExit

from gymie import __version__
from gymie.core import Dispatcher, Session
from gymie.protocol import SUBPROTOCOLS
from gymie.server import security, ui
from gymie.server.accept import request_arrived, serve_http
from gymie.server.green import GreenRuntime, SignalWatch
from gymie.server.metrics import Metrics
from gymie.server.responses import StartResponse, apply, refuse, respond
from gymie.server.tables import peer_address
from gymie.server.watch import MAX_WATCH_MESSAGE, WatchHub
from gymie.server.websocket import GymieWebSocketWSGI, SendTimeout

log = logging.getLogger("gymie")

RUNNING_TEXT = b"Gymie is running..."
NOT_HERE = b"Not found: gymie serves WebSockets at /gym, e.g. ws://HOST:PORT/gym"
GOING_AWAY = (1001, "Server shutting down")


class _Interrupted(BaseException):
    """Thrown into a connection's green thread to end it (BaseException: eventlet and core let it pass)."""


class _Idle(BaseException):
    """The idle timeout of a connection fired."""


@dataclasses.dataclass(eq=False)
class _Connection:
    ws: Any
    greenlet: Any
    idle: bool = False
    session: Session | None = None  # None: a /watch connection
    opened: float = dataclasses.field(default_factory=time.monotonic)
    messages: int = 0


class Server:
    """One server process: the WSGI app, its open connections, its metrics and its shutdown."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self.settings = dispatcher.settings
        self.backend = dispatcher.backend
        self.connections: set[_Connection] = set()
        self.sockets = 0  # WebSockets open or opening: what max_connections counts
        self.stopping = False
        self.started = time.time()
        self.metrics = Metrics(
            dispatcher.methods,
            lambda: self.sockets,
            lambda: len(dispatcher.envs),
            self.backend.live_workers,
        )
        dispatcher.observer = self.metrics
        dispatcher.yield_hook = eventlet.sleep  # between the requests of a batch: others run too
        self._gym = GymieWebSocketWSGI(
            self.serve_connection, self.settings.max_message_size, self.settings.send_timeout
        )
        self._gym.supported_protocols = list(SUBPROTOCOLS)
        self.watch = WatchHub(dispatcher.envs, lambda: list(self.connections), self.settings, self.started)
        self._watch_ws = GymieWebSocketWSGI(self.serve_watcher, MAX_WATCH_MESSAGE)
        self._watch_ws.supported_protocols = list(SUBPROTOCOLS)
        self._server_gt: Any = None
        self._listener: socket.socket | None = None
        runtime = getattr(self.backend, "runtime", None)
        if isinstance(runtime, GreenRuntime):  # a worker that died while idle: forget its instance now
            runtime.on_exit = dispatcher.drop_dead_instances

    # -- HTTP ---------------------------------------------------------------

    def app(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """The WSGI application.

        Each connection serves one HTTP request (no keep-alive), all of it within the handshake
        timeout; only a WebSocket outlives it.
        """
        path = environ.get("PATH_INFO", "")
        if path == "/gym":
            return self._websocket(environ, start_response, self._gym)
        if path == "/watch" and self.settings.ui:
            return self._websocket(environ, start_response, self._watch_ws)
        if str(environ.get("HTTP_UPGRADE", "")).lower() == "websocket":
            return respond(start_response, "404 Not Found", NOT_HERE)
        try:
            if path == "/ui" or path.startswith("/ui/"):
                return ui.respond(environ, start_response, self.settings)
            if path == "/healthz":
                return self._healthz(start_response)
            if path == "/metrics":
                return self._metrics(environ, start_response)
        except Exception:  # eventlet would log it only in the access log
            log.exception("GET %s failed", path)
            return respond(start_response, "500 Internal Server Error", b"")
        return respond(start_response, "200 OK", RUNNING_TEXT)

    def _websocket(
        self, environ: dict[str, Any], start_response: StartResponse, handler: GymieWebSocketWSGI
    ) -> Iterable[bytes]:
        refusal = security.check_handshake(environ, self.settings)
        if refusal is not None:
            return refuse(start_response, refusal)
        upgrade = str(environ.get("HTTP_UPGRADE", "")).lower() == "websocket"
        limit = self.settings.max_connections
        if upgrade and (self.stopping or (limit is not None and self.sockets >= limit)):
            why = b"Server shutting down" if self.stopping else b"Too many connections"
            return respond(start_response, "503 Service Unavailable", why, headers=[("Retry-After", "1")])
        # Shutdown closes WebSockets itself (with 1001), so eventlet must not treat them as idle.
        environ.pop("eventlet.set_idle", None)
        self.sockets += upgrade
        try:
            return handler(environ, start_response)  # type: ignore[no-any-return]
        finally:
            self.sockets -= upgrade

    def _metrics(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if self.settings.token is not None and not security.token_ok(environ, self.settings.token):
            return refuse(start_response, security.UNAUTHORIZED)
        return respond(start_response, "200 OK", self.metrics.exposition(), self.metrics.content_type)

    def _healthz(self, start_response: StartResponse) -> Iterable[bytes]:
        body = {
            "status": "stopping" if self.stopping else "ok",
            "version": __version__,
            "pid": os.getpid(),
            "connections": self.sockets,
            "envs": len(self.dispatcher.envs),
            "workers": self.backend.live_workers(),
            "isolation": self.settings.isolation,
            "uptime_seconds": round(time.time() - self.started, 3),
        }
        status = "503 Service Unavailable" if self.stopping else "200 OK"
        return respond(start_response, status, json.dumps(body).encode(), "application/json")

    # -- WebSocket ----------------------------------------------------------

    def serve_connection(self, ws: Any) -> None:
        """Feed every message of one WebSocket to the core until either side closes."""
        request_arrived()  # the handshake timeout ends with the handshake
        ws.socket.settimeout(None)
        subprotocol = getattr(ws, "protocol", None)
        session = self.dispatcher.open_session(subprotocol)
        conn = _Connection(ws, greenthread.getcurrent(), session=session)
        self.connections.add(conn)
        peer = peer_address(ws)
        log.info("connection %d opened from %s (subprotocol %s)", session.id, peer, subprotocol or "none")
        try:
            self._converse(conn, session)
        except _Interrupted:
            ws.close(GOING_AWAY)
        except SendTimeout as err:
            log.info("connection %d closed: %s", session.id, err)
        except OSError as err:  # the client went away mid-reply
            log.debug("connection %d: %s", session.id, err)
        except Exception:  # eventlet would log it only in the access log
            log.exception("connection %d failed", session.id)
            ws.close((1011, "Internal server error"))
        finally:
            self.connections.discard(conn)
            kind = "msgpack" if session.msgpack else "jsonrpc" if session.rpc else "legacy"
            kind = kind if conn.messages else "no messages"
            log.info("connection %d closed (%s, %s, %d message(s))", session.id, peer, kind, conn.messages)
            self.dispatcher.end_session(session)  # logs each env it closes

    def _converse(self, conn: _Connection, session: Session) -> None:
        while not self.stopping:
            message = self._receive(conn)
            if message is None:
                return
            conn.messages += 1
            self.metrics.frames_received(message)
            reply = self.dispatcher.handle(message, session)
            self.metrics.frames_sent(reply.frames)
            if apply(reply, conn.ws):
                return
        conn.ws.close(GOING_AWAY)

    def serve_watcher(self, ws: Any) -> None:
        """Answer one ``/watch`` connection (the dashboard's) until either side closes."""
        request_arrived()  # the handshake timeout ends with the handshake
        ws.socket.settimeout(None)
        conn = _Connection(ws, greenthread.getcurrent())
        self.connections.add(conn)
        try:
            self.watch.converse(ws, lambda: None if self.stopping else self._receive(conn))
            if self.stopping:
                ws.close(GOING_AWAY)
        except _Interrupted:
            ws.close(GOING_AWAY)
        except OSError as err:
            log.debug("watcher: %s", err)
        except Exception:
            log.exception("watcher failed")
            ws.close((1011, "Internal server error"))
        finally:
            self.connections.discard(conn)

    def _receive(self, conn: _Connection) -> str | bytes | None:
        """The next message; None once the connection is closed (by the client, idling or shutdown)."""
        idle_timeout = self.settings.idle_timeout
        conn.idle = True
        try:
            if idle_timeout is None:
                return conn.ws.wait()  # type: ignore[no-any-return]
            with eventlet.Timeout(idle_timeout, _Idle):
                return conn.ws.wait()  # type: ignore[no-any-return]
        except _Idle:
            conn.ws.close((1001, f"Idle for {idle_timeout:g} s"))
        except _Interrupted:
            conn.ws.close(GOING_AWAY)
        finally:
            conn.idle = False
        return None

    # -- running and stopping -----------------------------------------------

    def run(self, sock: socket.socket, on_ready: Callable[[], None] | None = None) -> None:
        """Serve on ``sock`` until SIGTERM/SIGINT (main thread only) or the accept loop ends.

        ``on_ready`` is called once the server accepts connections and handles signals.
        """
        self.backend.warm_up()
        self._listener = sock
        self._server_gt = serve_http(sock, self.app, self.settings)
        watch = SignalWatch(self.settings.shutdown_timeout + 5) if _main_thread() else None
        watcher = eventlet.spawn(self._watch, watch) if watch else None
        try:
            if on_ready is not None:
                on_ready()
            self._server_gt.wait()
        except GreenletExit:
            pass
        finally:
            self._finish(watch, watcher)

    def _watch(self, watch: SignalWatch) -> None:
        log.info("received signal %d: shutting down", watch.wait())
        stopper = eventlet.spawn(self.shutdown)
        watch.wait()
        log.warning("second signal: closing every connection now")
        self._cut()
        stopper.wait()

    def shutdown(self) -> None:
        """Stop accepting, let requests in flight finish, then close WebSockets with 1001."""
        if self.stopping:
            return
        self.stopping = True
        self._server_gt.kill()  # leaves the accept loop; the server ends once connections have
        if self._listener is not None:
            self._listener.close()
        for conn in list(self.connections):
            if conn.idle:
                hubs.get_hub().schedule_call_global(0, _interrupt, conn, True)
        timeout = self.settings.shutdown_timeout
        deadline = time.monotonic() + max(timeout - 1.0, timeout / 2)  # leaves time to close envs
        while self.connections and time.monotonic() < deadline:
            eventlet.sleep(0.02)
        if self.connections:
            self._cut()

    def _cut(self) -> None:
        log.warning("cutting %d connection(s) still busy", len(self.connections))
        self.backend.kill_all()
        for conn in list(self.connections):
            hubs.get_hub().schedule_call_global(0, _interrupt, conn, False)

    def _finish(self, watch: SignalWatch | None, watcher: Any) -> None:
        self.watch.close()
        closed = self.dispatcher.close_all()
        if closed:
            log.info("closed %d environment(s) left", len(closed))
        if watcher is not None:
            watcher.kill()
        if watch is not None:
            watch.cancel_watchdog()
            watch.close()
        log.info("Gymie stopped")


def _interrupt(conn: _Connection, only_if_idle: bool) -> None:
    # Runs in the hub, where conn's green thread is parked: idle means parked in ws.wait().
    if (conn.idle or not only_if_idle) and not conn.greenlet.dead:
        conn.greenlet.throw(_Interrupted())


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()
