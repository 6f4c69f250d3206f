"""The eventlet pieces the server is built from; importing this module imports eventlet.

- :class:`GreenRuntime`: how a green thread waits for a worker process without blocking the hub,
  and notices at once when an idle worker dies;
- :class:`SignalWatch`: SIGTERM/SIGINT delivered to a green thread through a wakeup pipe;
- :func:`watch_parent`: SIGTERM to this process once its supervisor is gone.

Accepting connections is ``gymie.server.accept``; the WebSocket is ``gymie.server.websocket``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from collections.abc import Callable
from typing import Any

import eventlet
from eventlet import hubs, semaphore

log = logging.getLogger("gymie")


class _TimedOut(Exception):
    pass


class GreenRuntime:
    """The ``gymie.backends.remote.Runtime`` of a server: waits park the green thread, not the hub.

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
