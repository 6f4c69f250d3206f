"""What runs inside a worker process: build the env, then a command loop until ``close`` or EOF.

Like Gymnasium's ``_async_worker``: each command ``(method, args, kwargs)`` gets ``(True, result)``
or ``(False, error_info)`` back, and the env is closed in ``finally``. Exceptions travel as
:data:`ErrorInfo` (their pickle when they have one, plus type, message and traceback).
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import pickle
import signal
import sys
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from gymie import logs

log = logging.getLogger("gymie")

STATIC_ATTRIBUTES = (
    "observation_space",
    "action_space",
    "single_observation_space",
    "single_action_space",
    "num_envs",
    "autoreset_mode",
    "vectorization_mode",
    "metadata",
    "render_mode",
    "spec",
)
"""Attributes read once from what the factory built (or, failing that, its ``env``), then served
by the proxy without a round trip; those that are missing or do not pickle are left out."""


class RemoteError(Exception):
    """An exception from a worker that could not be sent back as itself; ``str()`` is its message."""

    def __init__(self, message: str, type_name: str) -> None:
        super().__init__(message)
        self.type_name = type_name

    def __str__(self) -> str:
        return str(self.args[0])


class RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker, attached as its ``__cause__``."""

    def __str__(self) -> str:
        return f"\n\n(in the worker process)\n{self.args[0]}"


ErrorInfo = tuple[bytes | None, str, str, str]


def error_info(exc: BaseException) -> ErrorInfo:
    """What a worker sends for an exception: the pickle (if any), type name, message and traceback."""
    try:
        blob: bytes | None = pickle.dumps(exc)
    except Exception:
        blob = None
    name = f"{type(exc).__module__}.{type(exc).__qualname__}"
    return blob, name, str(exc), "".join(traceback.format_exception(exc))


_busy = False
_stop = False


def worker_main(conn: Connection, factory: bytes, imports: list[str], log_level: int) -> None:
    """A worker's life: build the env, answer commands until ``close`` or EOF, close the env."""
    _become_worker(log_level)
    env: Any = None
    closed = False
    try:
        try:
            for module in imports:
                importlib.import_module(module)
            env = pickle.loads(factory)()
            _reply(conn, (True, _snapshot(env)))
        except Exception as exc:
            _reply(conn, (False, error_info(exc)))
            return
        closed = _serve(conn, env)
    finally:
        if env is not None and not closed:
            try:
                env.close()
            except Exception:
                log.exception("closing the env failed")
        conn.close()


def _serve(conn: Connection, env: Any) -> bool:
    """Answer commands; return whether the env was closed by a ``close`` command."""
    global _busy
    while True:
        try:
            method, args, kwargs = conn.recv()
        except EOFError:  # the server is gone
            return False
        _busy = True
        try:
            if method == "close":
                _reply(conn, _call(env.close))
                return True
            if not isinstance(method, str) or method.startswith("_"):
                _reply(conn, (False, error_info(AttributeError(f"no method {method!r}"))))
            else:
                _reply(conn, _call(getattr(env, method), *args, **kwargs))
        finally:
            _busy = False
        if _stop:
            return False


def _call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[bool, Any]:
    try:
        return True, fn(*args, **kwargs)
    except Exception as exc:
        return False, error_info(exc)


def _reply(conn: Connection, message: tuple[bool, Any]) -> None:
    try:
        conn.send(message)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:  # a result that does not pickle
        conn.send((False, error_info(exc)))


def _snapshot(built: Any) -> dict[str, Any]:
    attributes = {}
    for name in STATIC_ATTRIBUTES:
        for source in (built, getattr(built, "env", None)):
            try:
                value = getattr(source, name)
                pickle.dumps(value)
            except Exception:
                continue
            attributes[name] = value
            break
    return attributes


def _become_worker(log_level: int) -> None:
    logs.configure(log_level)
    # Ctrl-C reaches the whole process group: the server decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _on_sigterm)
    if sys.platform == "linux":  # die with the parent even if it is SIGKILLed
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _on_sigterm(signum: int, frame: Any) -> None:
    # Idle: exit now. Busy: finish the command and answer it first.
    global _stop
    if not _busy:
        raise SystemExit(0)
    _stop = True
