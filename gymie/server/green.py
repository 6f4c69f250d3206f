"""The eventlet pieces the server is built from; importing this module imports eventlet.

- :class:`GreenRuntime`: how a green thread waits for a worker process without blocking the hub,
  and notices at once when an idle worker dies;
- :class:`DeadlinePool`: a green pool whose connections must finish their HTTP request in time,
  and where a new connection pushes out the oldest one still sending its request when full;
- :class:`SteadyListener`: a listening socket whose ``accept()`` waits out descriptor exhaustion;
- :class:`SignalWatch`: SIGTERM/SIGINT delivered to a green thread through a wakeup pipe;
- :func:`watch_parent`: SIGTERM to this process once its supervisor is gone.

The WebSocket itself is in ``gymie.server.websocket``.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import eventlet
from eventlet import greenthread, hubs, semaphore

log = logging.getLogger("gymie")

EXHAUSTED = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
"""accept() errors that mean "out of a resource": wait for some to be freed, then go on."""
TRANSIENT = frozenset({errno.ECONNABORTED, errno.EPROTO, errno.EPERM, errno.EAGAIN})
"""accept() errors that concern only the connection being accepted: skip it."""
BACKOFF = (0.05, 1.0)
"""First and longest pause, in seconds, between accept() attempts while descriptors are exhausted."""


class _TimedOut(Exception):
    pass


class GreenRuntime:
    """The ``gymie.backends.process.Runtime`` of a server: waits park the green thread, not the hub.

    ``on_exit``, when set, runs after a watched worker died while idle (the server uses it to
    forget that worker's instance at once).
    """

    def __init__(self) -> None:
        self.on_exit: Callable[[], None] | None = None

    def wait_readable(self, fileno: int, timeout: float | None) -> bool:
        """Park until ``fileno`` is readable (a reply, or EOF when the worker died) or the timeout."""
        try:
            hubs.trampoline(fileno, read=True, timeout=timeout, timeout_exc=_TimedOut)
        except _TimedOut:
            return False
        return True

    def lock(self) -> contextlib.AbstractContextManager[Any]:
        """A green lock: a second request to the same worker waits its turn."""
        return semaphore.Semaphore()  # type: ignore[no-any-return]

    def notify_close(self, fileno: int) -> None:
        """Tell the hub the fd is going away."""
        hubs.notify_close(fileno)

    def watch(self, fileno: int, callback: Callable[[], bool]) -> None:
        """Run ``callback`` in a green thread once ``fileno`` (a process sentinel) is readable.

        The thread waits on a duplicate of ``fileno`` (the hub allows one reader per fd, and
        the caller may wait on the original), closed once the callback has run.
        """
        eventlet.spawn_n(self._watch, os.dup(fileno), callback)

    def _watch(self, dup: int, callback: Callable[[], bool]) -> None:
        try:
            hubs.trampoline(dup, read=True)
        finally:
            hubs.notify_close(dup)
            os.close(dup)
        try:
            if callback() and self.on_exit is not None:
                self.on_exit()
        except Exception:
            log.exception("handling the exit of a worker process failed")


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
        self.pushed_out = 0
        self._pending: dict[Any, eventlet.Timeout] = {}  # green thread -> its deadline, oldest first

    def spawn(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Spawn ``function`` under the deadline, first dropping the oldest pending connection if full."""
        if not self.free():
            eventlet.sleep(0)  # connections spawned just now start, so become pending
            if not self.free() and self._pending:
                thread, timer = next(iter(self._pending.items()))
                del self._pending[thread]
                self.pushed_out += 1
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
        self.bursts = 0
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
            self.bursts += 1
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


def watch_parent(fileno: int) -> None:
    """Send SIGTERM to this process (a graceful shutdown) once ``fileno`` reaches end of file.

    ``fileno`` is the read end of a pipe whose only write end the parent holds: it reaches
    EOF when the parent dies, however it dies (``kill -9`` included).
    """

    def wait() -> None:
        hubs.trampoline(fileno, read=True)
        log.warning("the supervisor process is gone: shutting down")
        os.kill(os.getpid(), signal.SIGTERM)

    eventlet.spawn_n(wait)


class SignalWatch:
    """SIGTERM and SIGINT, delivered to green threads through ``signal.set_wakeup_fd``.

    The Python-level handler only starts a watchdog thread that ends the process if the
    graceful shutdown overruns (say, an in-process env hangs the hub); the green side reads
    the signal numbers from the pipe, so the hub wakes at once.
    """

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self, watchdog_seconds: float) -> None:
        self._watchdog_seconds = watchdog_seconds
        self._watchdog: threading.Timer | None = None
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)
        self._previous = {sig: signal.signal(sig, self._on_signal) for sig in self.SIGNALS}
        self._previous_fd = signal.set_wakeup_fd(self._write)

    def _on_signal(self, signum: int, frame: Any) -> None:
        if self._watchdog is None:
            self._watchdog = threading.Timer(self._watchdog_seconds, _overrun, (self._watchdog_seconds,))
            self._watchdog.daemon = True
            self._watchdog.start()

    def wait(self) -> int:
        """Park until a signal arrives; return its number."""
        while True:
            hubs.trampoline(self._read, read=True)
            try:
                data = os.read(self._read, 64)
            except BlockingIOError:
                continue
            if data:
                return data[-1]

    def close(self) -> None:
        """Put the previous handlers back (the watchdog, if started, keeps running)."""
        signal.set_wakeup_fd(self._previous_fd)
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        hubs.notify_close(self._read)
        os.close(self._read)
        os.close(self._write)

    def cancel_watchdog(self) -> None:
        """The shutdown finished in time."""
        if self._watchdog is not None:
            self._watchdog.cancel()


def _overrun(seconds: float) -> None:
    log.error("graceful shutdown took more than %g s; exiting now", seconds)
    logging.shutdown()
    os._exit(1)
