"""The process backend: each environment in its own worker process (``--isolation process``).

:class:`ProcessBackend` is the :class:`~gymie.envs.Backend`; its :func:`launch` starts a worker
(``gymie.backends.worker``) that builds its env with a picklable factory and answers commands
over a pipe. The server holds a :class:`~gymie.backends.worker_env.WorkerEnv`: an EnvAdapter
whose calls cross that pipe, so ``core`` and ``methods`` use it like any other adapter.

Waiting for a reply goes through a :class:`~gymie.backends.remote.Runtime`. The default one
blocks; the server hands the backend one that parks the green thread on the pipe's fd, so the
eventlet hub keeps serving other connections while a worker computes.
"""

from __future__ import annotations

import logging
import multiprocessing
import pickle
from collections.abc import Callable, Mapping
from typing import Any

from gymie.backends.remote import BlockingRuntime, Runtime
from gymie.backends.worker import WorkerOptions, worker_main
from gymie.backends.worker_env import WorkerEnv
from gymie.compat import EnvAdapter
from gymie.exceptions import InternalError
from gymie.settings import Settings

__all__ = ["ProcessBackend", "WorkerEnv", "launch"]

STARTUP_TIMEOUT = 60.0
"""Seconds a worker may take to build its env (or the step timeout, if longer)."""


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
    proxy.wait_built(max(STARTUP_TIMEOUT, settings.step_timeout or 0.0))
    return proxy


def _noop() -> None:
    pass


def _context(imports: list[str]) -> Any:
    # forkserver: each worker forks from a clean preloaded process (fast, and no eventlet state);
    # spawn where forkserver does not exist. Never fork: the server has eventlet loaded.
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["gymie.backends.worker", "gymie.api", *imports])
        return context
    return multiprocessing.get_context("spawn")
