"""What runs inside a worker process: build the env, then a command loop until ``close`` or EOF.

Like Gymnasium's ``_async_worker``: each command ``(method, args, kwargs, encoding)`` gets
``(True, result)`` or ``(False, error_info)`` back, and the env is closed in ``finally``.
Exceptions travel as :data:`ErrorInfo` (their pickle when they have one, plus type, message
and traceback).

Big results are encoded here, not on the server's event loop: with an ``encoding``, arrays of
:data:`ENCODE_BYTES` or more come back as :class:`~gymie.encoded.Encoded` JSON text or msgpack
bytes, and the :data:`DESCRIBE` command returns a space's description already encoded. Both are
refused (ReplyTooLarge) when they would pass ``max_reply_size``. ``memory_mb`` caps the worker's
address space (``RLIMIT_AS``): an allocation past it raises MemoryError in the env; one that
escapes the command loop ends the worker with status :data:`OUT_OF_MEMORY`.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import pickle
import resource
import signal
import sys
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, NamedTuple

import numpy as np

from gymie import limits, logs, spaces
from gymie.codec import encode_json, encode_json_compact, encode_msgpack
from gymie.encoded import Encoded

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
by the proxy without a round trip; those that are missing or do not pickle are left out, and so
are observation spaces whose pickle passes :data:`SNAPSHOT_BYTES` (a 1024-env Atari batch's bounds
are 200 MB: the server only ever needs their description, which :data:`DESCRIBE` makes here)."""
SNAPSHOT_BYTES = 1 << 20
DESCRIBE = "gymie.describe"
"""The command that describes and encodes a space; not an attribute name, so no env method."""
ENCODE_BYTES = 64 * 1024
"""Arrays this large in a result are encoded in the worker (given the session's encoding)."""
OUT_OF_MEMORY = 75
"""Exit status of a worker whose MemoryError escaped its command loop."""
ENCODERS: dict[str, Callable[[Any], str | bytes]] = {
    "legacy": encode_json,  # 0.5.4's exact text
    "json": encode_json_compact,
    "msgpack": encode_msgpack,
}
"""How each wire encodes: what ``make`` told the proxy (``wire_encoding``), or a ``describe`` asks."""


class WorkerOptions(NamedTuple):
    """What a worker is told at start: modules to import, log level, and its limits."""

    imports: list[str]
    log_level: int
    max_reply_size: int
    memory_mb: int | None = None


ErrorInfo = tuple[bytes | None, str, str, str]
"""An exception as a worker sends it (:func:`error_info`); ``remote.rebuild`` raises it again."""


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


def worker_main(conn: Connection, factory: bytes, options: WorkerOptions) -> None:
    """A worker's life: build the env, answer commands until ``close`` or EOF, close the env."""
    _become_worker(options)
    env: Any = None
    closed = False
    try:
        try:
            env = build_env(options.imports, factory)
            _reply(conn, (True, snapshot(env)))
        except Exception as exc:
            _reply(conn, (False, error_info(exc)))
            return
        closed = _serve(conn, env, options.max_reply_size)
    except MemoryError:
        os._exit(OUT_OF_MEMORY)  # past RLIMIT_AS even the clean-up could fail: say why we end
    finally:
        if env is not None and not closed:
            try:
                env.close()
            except Exception:
                log.exception("closing the env failed")
        conn.close()


def _serve(conn: Connection, env: Any, max_reply_size: int) -> bool:
    """Answer commands; return whether the env was closed by a ``close`` command."""
    global _busy
    while True:
        try:
            method, args, kwargs, encoding = conn.recv()
        except EOFError:  # the server is gone
            return False
        _busy = True
        try:
            if method == "close":
                _reply(conn, reported(env.close))
                return True
            if method == DESCRIBE:
                _reply(conn, reported(describe, env, *args))
            else:
                _reply(conn, answer(env, method, args, kwargs, encoding, max_reply_size))
        finally:
            _busy = False
        if _stop:
            return False


def build_env(imports: list[str], factory: bytes) -> Any:
    """Import the ``--import`` modules, then build the env with the pickled factory."""
    for module in imports:
        importlib.import_module(module)
    return pickle.loads(factory)()


def answer(
    env: Any,
    method: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    encoding: str | None,
    max_reply_size: int,
) -> tuple[bool, Any]:
    """A call of ``env``'s public ``method``, reported; with ``encoding``, its big arrays encoded."""
    if not isinstance(method, str) or method.startswith("_"):
        return False, error_info(AttributeError(f"no method {method!r}"))
    result = reported(getattr(env, method), *args, **kwargs)
    if encoding is not None and result[0]:
        result = reported(encode_arrays, result[1], encoding, max_reply_size, method)
    return result


def describe(env: Any, name: str, wire: str, limit: int) -> Encoded:
    """The description of ``env``'s space ``name`` as ``wire`` sends it (legacy: finite bounds)."""
    space = getattr(env, name)
    limits.check_reply(limits.description_floor(space, wire != "msgpack"), limit, name)
    desc = spaces.describe(space)
    data = ENCODERS[wire](spaces.finite_bounds(desc) if wire == "legacy" else desc)
    limits.check_reply(len(data), limit, name, exact=True)
    return Encoded(data)


def encode_arrays(result: Any, wire: str, limit: int, method: str) -> Any:
    """``result`` with its big arrays encoded as ``wire`` sends them, refused if it would pass ``limit``."""
    limits.check_reply(limits.reply_floor(result, wire != "msgpack"), limit, method)
    return _encoded(result, ENCODERS[wire])


def _encoded(value: Any, encode: Callable[[Any], str | bytes]) -> Any:
    if isinstance(value, np.ndarray):
        return Encoded(encode(value)) if value.nbytes >= ENCODE_BYTES else value
    if type(value) is dict:
        return {key: _encoded(item, encode) for key, item in value.items()}
    if type(value) in (list, tuple):
        return type(value)(_encoded(item, encode) for item in value)
    return value


def reported(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[bool, Any]:
    """``(True, fn(...))``, or ``(False, error_info)`` when it raised: one command's reply."""
    try:
        return True, fn(*args, **kwargs)
    except Exception as exc:
        return False, error_info(exc)


def _reply(conn: Connection, message: tuple[bool, Any]) -> None:
    try:
        conn.send(message)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:  # a result that does not pickle
        conn.send((False, error_info(exc)))


def snapshot(built: Any) -> dict[str, Any]:
    """The :data:`STATIC_ATTRIBUTES` of what a factory built, for the server's proxy to serve."""
    attributes = {}
    for name in STATIC_ATTRIBUTES:
        for source in (built, getattr(built, "env", None)):
            try:
                value = getattr(source, name)
                size = len(pickle.dumps(value))
            except Exception:
                continue
            if size <= SNAPSHOT_BYTES or not name.endswith("observation_space"):
                attributes[name] = value
            break
    return attributes


def _become_worker(options: WorkerOptions) -> None:
    logs.configure(options.log_level)
    if options.memory_mb is not None:
        limit = options.memory_mb * 1024 * 1024
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
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
