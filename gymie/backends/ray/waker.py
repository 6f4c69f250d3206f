"""Waiting for Ray results without blocking the eventlet hub (and without threads per call).

A call's ``ObjectRef`` gives a ``concurrent.futures.Future``; its completion callback runs on a
Ray thread and writes a byte to a pipe, which the waiting green thread is parked on through
the server's Runtime (``wait_readable``). Unlike ``eventlet.tpool`` this holds no thread per
pending call, so one slow env never delays the replies of others. Nothing here imports Ray or
eventlet: a ref is anything with ``future()``, the Runtime (``gymie.backends.remote.Runtime``)
is handed in. :class:`DeathWatch` uses the same callbacks to notice actors that die while no
call waits on them.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any, Protocol

from gymie.backends.remote import Runtime

__all__ = ["DeathWatch", "Runtime", "Waker", "wait"]


class Mortal(Protocol):
    """What :class:`DeathWatch` needs of an actor's proxy (``proxy.ActorEnv``)."""

    dead: bool

    def fell(self, error: BaseException) -> None:
        """The actor died (``error``, from one of its calls): mark the proxy dead."""


def wait(runtime: Runtime, refs: Sequence[Any], timeout: float | None) -> list[Future[Any]] | None:
    """The futures of ``refs`` once all are done, or None when ``timeout`` passed first.

    Each wait has a pipe of its own, open only while it waits: no descriptors held per actor.
    """
    waker = Waker(runtime)
    try:
        return waker.wait(refs, timeout)
    finally:
        waker.close()


class Waker:
    """A pipe that Ray's completion callbacks write a byte to, for one waiting (green) thread."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)
        self._guard = threading.Lock()  # a late callback must not write to a closed (reused) fd
        self._closed = False

    def wait(self, refs: Sequence[Any], timeout: float | None) -> list[Future[Any]] | None:
        """The futures of ``refs`` once all are done, or None when ``timeout`` passed first."""
        futures: list[Future[Any]] = [ref.future() for ref in refs]
        for future in futures:
            future.add_done_callback(self._poke)
        deadline = None if timeout is None else time.monotonic() + timeout
        while not all(future.done() for future in futures):
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return None
            self._runtime.wait_readable(self._read, remaining)
            with contextlib.suppress(BlockingIOError):
                os.read(self._read, 4096)
        return futures

    def close(self) -> None:
        """Release the pipe; callbacks still to come do nothing."""
        with self._guard:
            if self._closed:
                return
            self._closed = True
        self._runtime.notify_close(self._read)
        os.close(self._read)
        os.close(self._write)

    def _poke(self, future: Future[Any]) -> None:
        with self._guard:
            if not self._closed:
                with contextlib.suppress(BlockingIOError):  # full: a wake-up is pending anyway
                    os.write(self._write, b"\0")


class DeathWatch:
    """Notices actors that die while idle, as the server notices a worker process's exit.

    Each actor has one call pending for its whole life (``EnvHost.linger``, in a concurrency
    group of its own) whose reference fails when the actor dies. Its completion callback (on a
    Ray thread) queues the proxy and writes to one pipe the Runtime watches; on the hub,
    :meth:`_check` marks each queued proxy dead, and returning True tells the server to forget
    its instance (``GreenRuntime.on_exit``). Actors the server killed or closed itself are not
    queued. Under a Runtime that cannot watch, a dead actor is found at its next call as before.
    """

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)
        self._fallen: deque[tuple[Mortal, BaseException]] = deque()
        self._armed = False

    def follow(self, proxy: Mortal, linger: Any) -> None:
        """Watch ``proxy``'s actor through ``linger``, the reference of its pending linger call."""
        if not self._armed:
            self._armed = True
            self._runtime.watch(self._read, self._check)
        linger.future().add_done_callback(lambda future: self._fell(proxy, future))

    def _fell(self, proxy: Mortal, future: Future[Any]) -> None:
        error = None if future.cancelled() else future.exception()
        if proxy.dead or error is None:  # killed by us, closed, or Ray shut down: nothing to tell
            return
        self._fallen.append((proxy, error))
        with contextlib.suppress(BlockingIOError):
            os.write(self._write, b"\0")

    def _check(self) -> bool:
        with contextlib.suppress(BlockingIOError):
            os.read(self._read, 4096)
        died = False
        while self._fallen:
            proxy, error = self._fallen.popleft()
            if not proxy.dead:
                proxy.fell(error)
                died = True
        self._runtime.watch(self._read, self._check)
        return died
