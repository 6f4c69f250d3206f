"""The process backend: each environment in its own worker process (``--isolation process``).

:class:`ProcessBackend` is the :class:`~gymie.envs.Backend`; its :func:`launch` starts a worker
(``gymie.backends.worker``) that builds its env with a picklable factory and answers commands
over a pipe. The server holds a :class:`WorkerEnv`: an EnvAdapter whose calls cross that pipe,
so ``core`` and ``methods`` use it like any other adapter.

How failures show on the server side:

- the env raises: the exception is pickled back and raised again, its remote traceback
  as ``__cause__`` (so ``methods.step`` still turns it into WrongAction);
- the worker dies (segfault, ``os._exit``, SIGKILL): the pipe reaches EOF → WorkerCrashed;
- no reply within the timeout: the worker is killed → StepTimeout.

After the last two the WorkerEnv is ``dead`` and the dispatcher drops its instance. A worker
that dies while idle is noticed at once where the Runtime can watch its exit (the server's
can): it is reaped, so ``live_workers`` stays exact.

Waiting for a reply goes through a :class:`Runtime`. The default one blocks; the server
hands the backend one that parks the green thread on the pipe's fd, so the eventlet hub keeps
serving other connections while a worker computes. Pickles only ever travel between the
server and its own workers; nothing from the wire is unpickled.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import multiprocessing
import pickle
import signal
import socket
import threading
from collections.abc import Callable, Mapping
from multiprocessing.connection import Connection, wait
from typing import Any, Protocol

from gymie.backends.worker import (
    DESCRIBE,
    OUT_OF_MEMORY,
    ErrorInfo,
    RemoteError,
    RemoteTraceback,
    WorkerOptions,
    worker_main,
)
from gymie.compat import EnvAdapter
from gymie.exceptions import InternalError, LimitExceeded, StepTimeout, WorkerCrashed
from gymie.settings import Settings

log = logging.getLogger("gymie")

STARTUP_TIMEOUT = 60.0
"""Seconds a worker may take to build its env (or the step timeout, if longer)."""
CLOSE_TIMEOUT = 10.0
"""Seconds ``env.close()`` may take in a worker (or the step timeout, if set)."""
EXIT_TIMEOUT = 5.0
"""Seconds a worker has to exit after its env is closed, before it is killed."""


class Runtime(Protocol):
    """How the server side waits: blocking by default, green threads in the server."""

    def wait_readable(self, fileno: int, timeout: float | None) -> bool:
        """Wait until ``fileno`` is readable (data or EOF); False when the timeout passed first."""

    def lock(self) -> contextlib.AbstractContextManager[Any]:
        """A lock that serialises the requests to one worker."""

    def notify_close(self, fileno: int) -> None:
        """Say that ``fileno`` is about to be closed."""

    def watch(self, fileno: int, callback: Callable[[], bool]) -> None:
        """Call ``callback`` once, soon after ``fileno`` (a process sentinel) becomes readable.

        ``callback`` returns True when the exit was unexpected (a worker that died while idle).
        May do nothing: then a dead worker is found at its next call.
        """


class BlockingRuntime:
    """The Runtime for plain threads: waits block the calling thread."""

    def wait_readable(self, fileno: int, timeout: float | None) -> bool:
        """Block until readable or the timeout."""
        return bool(wait([fileno], timeout))

    def lock(self) -> contextlib.AbstractContextManager[Any]:
        """A threading lock."""
        return threading.Lock()

    def notify_close(self, fileno: int) -> None:
        """Nothing to do."""

    def watch(self, fileno: int, callback: Callable[[], bool]) -> None:
        """Nothing: a plain thread finds a dead worker at its next call."""


_live: set[WorkerEnv] = set()
"""Every worker of this process not reaped yet, whichever backend started it (killed at exit)."""


class ProcessBackend:
    """Runs each env in a worker process started from a forkserver; one per server process."""

    processes_per_env = 1

    def __init__(self, settings: Settings, runtime: Runtime | None = None) -> None:
        self.settings = settings
        self.runtime: Runtime = runtime or BlockingRuntime()
        self.workers: set[WorkerEnv] = set()

    def start(
        self, factory: Callable[[], EnvAdapter], *, resources: Mapping[str, float] | None = None
    ) -> WorkerEnv:
        """Launch a worker that builds the env; see :func:`launch` (``resources``: refused by the methods)."""
        return launch(factory, self.settings, self.runtime, self.workers)

    def live_workers(self) -> int:
        """Workers started by this backend and not reaped yet."""
        return len(self.workers)

    def warm_up(self) -> None:
        """Start the forkserver (and its imports) now, so that the first ``make`` does not wait for it."""
        process = _context(self.settings.imports).Process(target=_noop, name="gymie-warm-up")
        process.start()
        process.join()

    def kill_all(self) -> None:
        """Kill every worker at once; their proxies find out on their next call."""
        for proxy in list(self.workers):
            proxy.process.kill()


def rebuild(info: ErrorInfo) -> Exception:
    """The exception a worker reported, with its remote traceback as cause."""
    blob, name, message, tb = info
    exc: Any = None
    if blob is not None:
        try:
            exc = pickle.loads(blob)
        except Exception:
            exc = None
    if not isinstance(exc, Exception):
        exc = RemoteError(message, name)
    exc.__cause__ = RemoteTraceback(tb)
    return exc  # type: ignore[no-any-return]


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


class WorkerEnv(EnvAdapter):
    """An EnvAdapter whose env lives in a worker process; make one with :func:`launch`.

    Calls are serialised (one request at a time per worker). ``dead`` turns True when the
    worker crashed or was killed; every later call raises WorkerCrashed.

    ``wire_encoding`` (``"json"``/``"msgpack"``, set by ``make``) lets the worker encode the big
    arrays of its results itself, and :meth:`describe_space` describes spaces there: the
    server's event loop then only moves bytes.
    """

    wire_encoding: str | None = None
    _ENCODED = frozenset({"reset", "step", "render", "sample_action"})

    def __init__(
        self,
        process: Any,
        conn: Connection,
        timeout: float | None = None,
        runtime: Runtime | None = None,
        registry: set[WorkerEnv] | None = None,
    ) -> None:
        # No super().__init__(): the env, its spaces and its seed live in the worker.
        self.env = self
        self.process = process
        self.pid: int = process.pid
        self.timeout = timeout
        self.dead = False
        self.exitcode: int | None = None
        self.exit_reason = ""
        self._conn = conn
        self._runtime: Runtime = runtime or BlockingRuntime()
        self._registry = registry if registry is not None else set()
        self._registry.add(self)
        _live.add(self)
        self._lock = self._runtime.lock()
        self._attributes: dict[str, Any] = {}
        self._runtime.watch(process.sentinel, self._exited)

    def __getattr__(self, name: str) -> Any:
        attributes = self.__dict__.get("_attributes", {})
        if name in attributes:
            return attributes[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset the env in the worker."""
        return self.call("reset", seed=seed, options=options)  # type: ignore[no-any-return]

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        """Step the env in the worker."""
        return self.call("step", action)  # type: ignore[no-any-return]

    def sample_action(self) -> Any:
        """Sample an action with the worker env's own RNG."""
        return self.call("sample_action")

    def render(self) -> Any:
        """Render in the worker."""
        return self.call("render")

    def render_frame(self) -> Any:
        """Render in the worker and return the frame itself, never pre-encoded (the dashboard's frames)."""
        return self._roundtrip("render", (), {}, None)

    def location(self) -> dict[str, Any]:
        """The worker's host and pid."""
        return {"node_id": None, "hostname": socket.gethostname(), "pid": self.pid}

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call ``method`` on the worker's env and return its result.

        Raises:
            WorkerCrashed: the worker died (now or before).
            StepTimeout: no reply within ``timeout``; the worker was killed.
            Exception: whatever the env raised, rebuilt.
        """
        encoding = self.wire_encoding if method in self._ENCODED else None
        return self._roundtrip(method, args, kwargs, encoding)

    def _roundtrip(
        self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any], encoding: str | None
    ) -> Any:
        with self._lock:
            self._send((method, args, kwargs, encoding))
            ok, payload = self._receive(self.timeout)
        if not ok:
            raise _memory_error(rebuild(payload))
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
                self._reap(EXIT_TIMEOUT)
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

    def _start(self, timeout: float) -> None:
        with self._lock:
            ok, payload = self._receive(timeout)
        if not ok:
            self._reap(EXIT_TIMEOUT)
            raise rebuild(payload)
        self._attributes = payload
        self.observation_space = payload.get("observation_space")
        self.action_space = payload.get("action_space")

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

    def _reap(self, grace: float = EXIT_TIMEOUT) -> None:
        """Mark dead, wait for the exit (killing after ``grace`` seconds) and release the pipe."""
        if not self.dead:
            self.dead = True
            if not self._runtime.wait_readable(self.process.sentinel, grace):
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


def launch(
    factory: Callable[[], Any],
    settings: Settings,
    runtime: Runtime | None = None,
    registry: set[WorkerEnv] | None = None,
) -> WorkerEnv:
    """Start a worker that builds its env with ``factory()`` and return the proxy to it.

    ``factory`` must pickle (a module-level function, or a ``functools.partial`` of one) and
    return an object with the adapter interface (``reset``, ``step``, ``close``... and the
    spaces); ``make`` sends ``partial(gymie.envs.make_adapter, get_env, env_id, kwargs)``.
    ``registry`` is the set the proxy stays in until its worker is reaped.

    Raises:
        InternalError: the factory does not pickle, or no process could be started.
        WorkerCrashed, StepTimeout: the worker died or hung while building the env.
        Exception: what the factory raised (EnvironmentNotFound, TypeError...), rebuilt.
    """
    try:
        blob = pickle.dumps(factory)
    except Exception as exc:
        raise InternalError(f"the environment factory cannot be sent to a worker process: {exc}") from exc
    context = _context(settings.imports)
    parent, child = context.Pipe()
    level = logging.getLogger("gymie").getEffectiveLevel()
    options = WorkerOptions(list(settings.imports), level, settings.max_reply_size, settings.worker_memory)
    process = context.Process(target=worker_main, args=(child, blob, options), name="gymie-worker")
    try:
        # Blocks for a few ms (the forkserver forks); not in a thread: multiprocessing polls its
        # children's sentinels in start() and join(), and two threads doing so race.
        process.start()
    except Exception as exc:
        parent.close()
        raise InternalError(f"a worker process could not be started: {exc}") from exc
    finally:
        child.close()
    proxy = WorkerEnv(process, parent, settings.step_timeout, runtime, registry)
    try:
        proxy._start(max(STARTUP_TIMEOUT, settings.step_timeout or 0.0))
    except MemoryError as exc:
        raise _memory_error(exc) from exc
    return proxy


def _memory_error(exc: Exception) -> Exception:
    """A worker's MemoryError as the clear error a client gets (``--worker-memory`` was reached)."""
    if isinstance(exc, MemoryError):
        error = LimitExceeded("the environment ran out of memory (--worker-memory)")
        error.__cause__ = exc
        return error
    return exc


def _noop() -> None:
    pass


@atexit.register
def _kill_live_workers() -> None:
    # Runs before multiprocessing's own exit hook, which would wait forever for a hung worker.
    for proxy in list(_live):
        with contextlib.suppress(Exception):
            proxy.process.kill()


def _context(imports: list[str]) -> Any:
    # forkserver: each worker forks from a clean preloaded process (fast, and no eventlet state);
    # spawn where forkserver does not exist. Never fork: the server has eventlet loaded.
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["gymie.backends.worker", "gymie.api", *imports])
        return context
    return multiprocessing.get_context("spawn")
