"""The eventlet pieces the server is built from; importing this module imports eventlet.

- :class:`GreenRuntime`: how a green thread waits for a worker process without blocking the hub;
- :class:`GymieWebSocketWSGI`: eventlet's WebSocket handler with the message size capped over
  all fragments (eventlet caps single frames only) and unmasking done in C;
- :class:`DeadlinePool`: a green pool whose connections must finish their HTTP request in time;
- :class:`SignalWatch`: SIGTERM/SIGINT delivered to a green thread through a wakeup pipe.
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
from eventlet import greenthread, hubs, semaphore, websocket

try:
    from websockets.speedups import apply_mask
except ImportError:  # pragma: no cover - websockets built without its C extension
    from websockets.utils import apply_mask

log = logging.getLogger("gymie")
MAX_FRAGMENTS = 1024
"""Most frames one message may be split into (each costs memory even when empty)."""


class _TimedOut(Exception):
    pass


class GreenRuntime:
    """The ``gymie.backends.process.Runtime`` of a server: waits park the green thread, not the hub."""

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


def _apply_mask(data: bytes, mask: Any, length: int | None = None, offset: int = 0) -> bytes:
    # eventlet unmasks one Python generator step per byte (~0.15 µs/byte: 1.2 s for 8 MiB).
    key = bytes(mask)
    if offset % 4:
        key = key[offset % 4 :] + key[: offset % 4]
    return apply_mask(data if length is None or length == len(data) else data[:length], key)


class CappedWebSocket(websocket.RFC6455WebSocket):  # type: ignore[misc]
    """An RFC 6455 WebSocket whose ``max_frame_length`` caps whole messages, not only frames."""

    _apply_mask = staticmethod(_apply_mask)

    class Message(websocket.RFC6455WebSocket.Message):  # type: ignore[misc]
        """eventlet decodes text when the message is complete, outside its 1007 handling."""

        def getvalue(self) -> Any:
            """The message's payload; invalid UTF-8 text fails the connection with 1007."""
            try:
                return super().getvalue()
            except UnicodeDecodeError:
                raise websocket.FailedConnectionError(1007, "Text data must be valid utf-8") from None

    def _recv_frame(self, message: Any = None) -> Any:
        received = super()._recv_frame(message)
        if received.opcode & 8:  # control frame: at most 125 bytes, never fragmented
            return received
        if received.finished and "gymie_frames" not in received.__dict__:
            return received  # a whole message in one frame: eventlet's own frame cap applies
        seen = received.__dict__.get("gymie_seen", 0)
        received.gymie_size = received.__dict__.get("gymie_size", 0) + sum(map(len, received.data[seen:]))
        received.gymie_seen = len(received.data)
        received.gymie_frames = received.__dict__.get("gymie_frames", 0) + 1
        if received.gymie_size > self.max_frame_length:
            raise websocket.FailedConnectionError(
                1009, f"Message is above the limit of {self.max_frame_length} bytes"
            )
        if received.gymie_frames > MAX_FRAGMENTS:
            raise websocket.FailedConnectionError(1009, f"Message is in more than {MAX_FRAGMENTS} frames")
        return received


class GymieWebSocketWSGI(websocket.WebSocketWSGI):  # type: ignore[misc]
    """eventlet's WebSocketWSGI, giving the handler a :class:`CappedWebSocket`.

    The pre-RFC 6455 (hixie-76) handshake is refused: its reader buffers without any limit.
    """

    def __init__(self, handler: Callable[[Any], None], max_message_size: int) -> None:
        super().__init__(handler, max_frame_length=max_message_size)
        self.support_legacy_versions = False

    def _handle_hybi_request(self, environ: dict[str, Any]) -> CappedWebSocket:
        ws = super()._handle_hybi_request(environ)
        return CappedWebSocket(
            ws.socket,
            ws.environ,
            ws.version,
            protocol=ws.protocol,
            extensions=ws.extensions,
            max_frame_length=ws.max_frame_length,
        )


class DeadlinePool(eventlet.GreenPool):  # type: ignore[misc]
    """A GreenPool for ``wsgi.server`` that drops connections slow to send their request.

    A connection that has not sent its whole HTTP request within ``deadline`` seconds is
    dropped; the app calls :func:`request_arrived` to stop the clock.
    """

    def __init__(self, size: int, deadline: float) -> None:
        super().__init__(size)
        self.deadline = deadline

    def spawn(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Spawn ``function`` under the deadline."""
        return super().spawn(self._run, function, *args, **kwargs)

    def _run(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        timer = eventlet.Timeout(self.deadline)
        greenthread.getcurrent().gymie_deadline = timer
        try:
            return function(*args, **kwargs)
        except eventlet.Timeout as exc:
            if exc is not timer:
                raise
            log.debug("dropped a connection that sent no complete request in %g s", self.deadline)
            return None
        finally:
            timer.cancel()


def request_arrived() -> None:
    """Stop the handshake clock of the current connection (its request has been read)."""
    timer = getattr(greenthread.getcurrent(), "gymie_deadline", None)
    if timer is not None:
        timer.cancel()


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
