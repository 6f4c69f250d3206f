"""WorkerEnv: the server's side of a worker process, an EnvAdapter whose calls cross a pipe.

How failures show on the server side:

- the env raises: the exception is pickled back and raised again, its remote traceback
  as ``__cause__`` (so ``methods.step`` still turns it into WrongAction);
- the worker dies (segfault, ``os._exit``, SIGKILL): the pipe reaches EOF → WorkerCrashed;
- no reply within the timeout: the worker is killed → StepTimeout.

After the last two the WorkerEnv is ``dead`` and the dispatcher drops its instance. A worker
that dies while idle is noticed at once where the Runtime can watch its exit (the server's
can): it is reaped, so ``live_workers`` stays exact. Pickles only ever travel between the
server and its own workers; nothing from the wire is unpickled.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import signal
import socket
from multiprocessing.connection import Connection
from typing import Any

from gymie.backends.remote import BlockingRuntime, RemoteAdapter, Runtime, rebuild
from gymie.backends.worker import DESCRIBE, OUT_OF_MEMORY
from gymie.exceptions import InternalError, LimitExceeded, StepTimeout, WorkerCrashed

log = logging.getLogger("gymie")

CLOSE_TIMEOUT = 10.0
"""Seconds ``env.close()`` may take in a worker (or the step timeout, if set)."""
EXIT_TIMEOUT = 5.0
"""Seconds a worker has to exit after its env is closed, before it is killed."""

_live: set[WorkerEnv] = set()
"""Every worker of this process not reaped yet, whichever backend started it (killed at exit)."""


def describe_exit(code: int | None) -> str:
    """A process exit code in words: ``killed by SIGSEGV``, ``exited with status 3``."""
    if code is None:
        return "is unresponsive"
    if code == OUT_OF_MEMORY:
        return "ran out of memory (--worker-memory)"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with status {code}"


class WorkerEnv(RemoteAdapter):
    """An EnvAdapter whose env lives in a worker process; ``gymie.backends.process.launch`` makes one.

    Calls are serialised (one request at a time per worker). ``dead`` turns True when the
    worker crashed or was killed; every later call raises WorkerCrashed. :meth:`describe_space`
    describes spaces in the worker.
    """

    def __init__(
        self,
        process: Any,
        conn: Connection,
        timeout: float | None = None,
        runtime: Runtime | None = None,
        registry: set[WorkerEnv] | None = None,
    ) -> None:
        super().__init__()
        self.process = process
        self.pid: int = process.pid
        self.timeout = timeout
        self.exitcode: int | None = None
        self._conn = conn
        self._runtime: Runtime = runtime or BlockingRuntime()
        self._registry = registry if registry is not None else set()
        self._registry.add(self)
        _live.add(self)
        self._lock = self._runtime.lock()
        self._runtime.watch(process.sentinel, self._exited)

    def location(self) -> dict[str, Any]:
        """The worker's host and pid."""
        return {"node_id": None, "hostname": socket.gethostname(), "pid": self.pid}

    def _request(
        self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any], encoding: str | None
    ) -> Any:
        """One round trip to the worker (see :meth:`RemoteAdapter.call`)."""
        with self._lock:
            self._send((method, args, kwargs, encoding))
            ok, payload = self._receive(self.timeout)
        if not ok:
            raise memory_error(rebuild(payload))
        return payload

    def describe_space(self, name: str, wire: str, limit: int) -> Any:
        """The description of the worker env's space ``name``, described and encoded in the worker.

        ``wire`` is ``"legacy"``, ``"json"`` or ``"msgpack"``; an Encoded value comes back.

        Raises:
            ReplyTooLarge: the description would take more than ``limit`` bytes.
        """
        return self.call(DESCRIBE, name, wire, limit)

    def close(self) -> None:
        """Close the env, then let the worker exit (killed if it lingers); calling it twice is fine."""
        with self._lock:
            if self.dead:
                self._reap()
                return
            reply: tuple[bool, Any] = (True, None)
            try:
                self._send(("close", (), {}, None))
                reply = self._receive(CLOSE_TIMEOUT if self.timeout is None else self.timeout)
            except (WorkerCrashed, StepTimeout) as err:
                log.warning("closing the env of worker %d: %s", self.pid, err)
            finally:
                self._reap()
        if not reply[0]:
            raise rebuild(reply[1])

    # -- the pipe -----------------------------------------------------------

    def _exited(self) -> bool:
        """The worker process ended: reap it now unless a call did (a call in flight holds the lock).

        Returns whether it was reaped here, that is, it died while idle.
        """
        with self._lock:
            if self.dead:
                return False
            self._reap()
            log.warning("worker %d %s while idle", self.pid, self.exit_reason)
            return True

    def wait_built(self, timeout: float) -> None:
        """Wait for the worker's env (its snapshot of attributes); on failure the worker is reaped."""
        with self._lock:
            ok, payload = self._receive(timeout)
        if not ok:
            self._reap()
            raise memory_error(rebuild(payload))
        self._adopt(payload)

    def _send(self, message: tuple[Any, ...]) -> None:
        if self.dead:
            raise WorkerCrashed(f"worker {self.pid} {self.exit_reason}")
        try:
            self._conn.send(message)
        except (OSError, ValueError):
            self._reap()
            raise WorkerCrashed(f"worker {self.pid} {self.exit_reason}") from None

    def _receive(self, timeout: float | None) -> Any:
        if not self._runtime.wait_readable(self._conn.fileno(), timeout):
            self.process.kill()
            self._reap()
            raise StepTimeout(f"no reply within {timeout:g} s, worker {self.pid} killed")
        try:
            return self._conn.recv()
        except (EOFError, OSError):
            self._reap()
            raise WorkerCrashed(f"worker {self.pid} {self.exit_reason}") from None
        except Exception as exc:  # a reply that does not unpickle here; the pipe is still in step
            raise InternalError(f"the worker's reply could not be read: {exc}") from exc

    def _reap(self) -> None:
        """Mark dead, wait for the exit (killing after :data:`EXIT_TIMEOUT` seconds), release the pipe."""
        if not self.dead:
            self.dead = True
            if not self._runtime.wait_readable(self.process.sentinel, EXIT_TIMEOUT):
                self.process.kill()
                self._runtime.wait_readable(self.process.sentinel, EXIT_TIMEOUT)
            self.process.join(1.0)
            self.exitcode = self.process.exitcode
            self.exit_reason = describe_exit(self.exitcode)
            if self.exitcode is not None:
                self.process.close()  # its sentinel fd, now rather than whenever the GC runs
            self._runtime.notify_close(self._conn.fileno())
            self._conn.close()
            self._registry.discard(self)
            _live.discard(self)


def memory_error(exc: Exception) -> Exception:
    """A worker's MemoryError as the clear error a client gets (``--worker-memory`` was reached)."""
    if isinstance(exc, MemoryError):
        error = LimitExceeded("the environment ran out of memory (--worker-memory)")
        error.__cause__ = exc
        return error
    return exc


@atexit.register
def _kill_live_workers() -> None:
    # Runs before multiprocessing's own exit hook, which would wait forever for a hung worker.
    for proxy in list(_live):
        with contextlib.suppress(Exception):
            proxy.process.kill()
