"""Accepting connections: eventlet's WSGI server, made safe to face hostile clients.

- :class:`SteadyListener`: a listening socket whose ``accept()`` waits out descriptor
  exhaustion instead of ending the server;
- :class:`DeadlinePool`: a green pool whose connections must finish their HTTP request in time,
  and where a new connection pushes out the oldest one still sending its request when full;
- :func:`serve_http`: the two together under ``wsgi.server``, one request per connection,
  with the connection limit fitted to the file-descriptor limit.

Importing this module imports eventlet.
"""

from __future__ import annotations

import errno
import logging
import socket
import time
from collections.abc import Callable
from typing import Any

import eventlet
from eventlet import greenthread, wsgi

from gymie.server import descriptors
from gymie.settings import Settings

log = logging.getLogger("gymie")

EXHAUSTED = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
"""accept() errors that mean "out of a resource": wait for some to be freed, then go on."""
TRANSIENT = frozenset({errno.ECONNABORTED, errno.EPROTO, errno.EPERM, errno.EAGAIN})
"""accept() errors that concern only the connection being accepted: skip it."""
BACKOFF = (0.05, 1.0)
"""First and longest pause, in seconds, between accept() attempts while descriptors are exhausted."""


def serve_http(sock: socket.socket, app: Callable[..., Any], settings: Settings) -> Any:
    """Run ``wsgi.server`` for ``app`` on ``sock`` in a green thread, and return the thread.

    Each connection serves one request (no keep-alive), all of it within
    ``settings.handshake_timeout`` unless it became a WebSocket (the app calls
    :func:`request_arrived`). ``settings.max_connections`` is first lowered, with one
    warning, to what the file-descriptor limit holds (see ``gymie.server.descriptors``).
    """
    fitted = descriptors.fit(settings)
    if fitted.warning:
        log.warning(fitted.warning)
    settings.max_connections = fitted.max_connections
    access = logging.getLogger("gymie.access")
    access.setLevel(logging.INFO if settings.access_log else logging.WARNING)
    return eventlet.spawn(
        wsgi.server,
        SteadyListener(sock),
        app,
        log=access,
        debug=False,
        custom_pool=DeadlinePool(fitted.max_connections + fitted.headroom, settings.handshake_timeout),
        socket_timeout=settings.handshake_timeout,
        keepalive=False,
    )


class DeadlinePool(eventlet.GreenPool):  # type: ignore[misc]
    """A GreenPool for ``wsgi.server`` that drops connections slow to send their request.

    Every connection is *pending* until :func:`request_arrived` (the server calls it once a
    WebSocket is open); a pending connection still open after ``deadline`` seconds is dropped,
    whatever it is doing (reading headers, a body, or answering a plain HTTP request). When
    the pool is full, a new connection drops the oldest pending one, so slow clients can delay
    a health check or a handshake by at most one round of this, not block it.
    """

    def __init__(self, size: int, deadline: float) -> None:
        super().__init__(size)
        self.deadline = deadline
        self._pending: dict[Any, eventlet.Timeout] = {}  # green thread -> its deadline, oldest first

    def spawn(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Spawn ``function`` under the deadline, first dropping the oldest pending connection if full."""
        if not self.free():
            eventlet.sleep(0)  # connections spawned just now start, so become pending
            if not self.free() and self._pending:
                thread, timer = next(iter(self._pending.items()))
                del self._pending[thread]
                greenthread.kill(thread, timer)
        return super().spawn(self._run, function, *args, **kwargs)

    def arrived(self, thread: Any) -> None:
        """``thread``'s connection is no longer pending: stop its clock."""
        timer = self._pending.pop(thread, None)
        if timer is not None:
            timer.cancel()

    def _run(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        current = greenthread.getcurrent()
        timer = eventlet.Timeout(self.deadline)
        self._pending[current] = timer
        current.gymie_pool = self
        try:
            return function(*args, **kwargs)
        except eventlet.Timeout as exc:
            if exc is not timer:
                raise
            log.debug("dropped a connection: no WebSocket within %g s, or pushed out", self.deadline)
            return None
        finally:
            timer.cancel()
            self._pending.pop(current, None)


def request_arrived() -> None:
    """Stop the request clock of the current connection (it is a WebSocket now)."""
    current = greenthread.getcurrent()
    pool = getattr(current, "gymie_pool", None)
    if pool is not None:
        pool.arrived(current)


class SteadyListener:
    """A listening socket for ``wsgi.server`` whose ``accept()`` never fails for lack of resources.

    eventlet's accept loop ends the server on any unexpected accept() error, and EMFILE (too
    many open files) is one a client can cause. Here EMFILE, ENFILE, ENOBUFS and ENOMEM pause
    the loop (0.05 s, doubling up to 1 s) until a descriptor is free; errors about the one
    connection being accepted skip it. A burst of failures (until ``QUIET`` seconds pass
    without one) logs one warning when it starts and one when it ends. Everything else is the
    wrapped socket's.
    """

    QUIET = 2.0

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._failures = 0
        self._started = self._last = 0.0
        self._ending: Any = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)

    def accept(self) -> tuple[Any, Any]:
        """The next connection, waiting out exhaustion."""
        pause = BACKOFF[0]
        while True:
            try:
                accepted = self._sock.accept()
            except OSError as err:
                if err.errno in TRANSIENT:
                    continue
                if err.errno not in EXHAUSTED:
                    raise
                self._failed(err)
                eventlet.sleep(pause)
                pause = min(pause * 2, BACKOFF[1])
                continue
            if self._failures and self._ending is None:
                self._ending = eventlet.spawn_after(self.QUIET, self._end_burst)
            return accepted

    def _failed(self, err: OSError) -> None:
        self._last = time.monotonic()
        if not self._failures:
            self._started = self._last
            log.warning("cannot accept connections: %s; retrying until some are closed", err.strerror)
        self._failures += 1

    def _end_burst(self) -> None:
        quiet = time.monotonic() - self._last
        if quiet < self.QUIET:
            self._ending = eventlet.spawn_after(self.QUIET - quiet, self._end_burst)
            return
        log.warning(
            "accepting connections again, after %d failed accept() calls over %.1f s",
            self._failures,
            self._last - self._started,
        )
        self._failures, self._ending = 0, None
