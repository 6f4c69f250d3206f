"""The per-step changes bench/RESULTS.md proposes, applied as monkeypatches so they can be measured.

bench/ may not edit gymie/; each patch here is the proposed edit, installed at run time in a
benchmark process only. ``apply("packer,bind")`` installs some; ``PATCHES`` lists them all.
Each docstring names the file the change belongs in.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np


def fast_apply_mask(data: bytes, mask: Any, length: int | None = None, offset: int = 0) -> bytes:
    """eventlet's ``_apply_mask(data, mask, length, offset)`` with websockets' C ``apply_mask``."""
    from websockets.frames import apply_mask

    key = bytes(mask)
    if offset % 4:
        key = key[offset % 4 :] + key[: offset % 4]
    return apply_mask(data if length is None or length == len(data) else data[:length], key)


def packer() -> None:
    """gymie/codec.py: pack the ndarray payload with one long-lived Packer, not a new one per array.

    ``msgpack.packb`` builds a Packer with a 256 KiB buffer per call; called again inside the
    outer ``packb``'s ``default`` hook, the two buffers' malloc/free churn costs ~13 µs per
    step. A Packer without ``default`` runs no Python code while packing, so one module-level
    instance is safe under the GIL and eventlet.
    """
    import msgpack

    from gymie import codec

    inner = msgpack.Packer(use_bin_type=True)

    def _ndarray_ext(array: np.ndarray[Any, Any]) -> msgpack.ExtType:
        return msgpack.ExtType(
            codec.NDARRAY_EXT, inner.pack([array.dtype.str, list(array.shape), array.tobytes()])
        )

    codec._ndarray_ext = _ndarray_ext


class FastSignature:
    """``inspect.Signature.bind`` with a fast path: named params checked against two frozensets.

    ``bind`` costs ~3 µs a call; for params given as an object to a handler without
    ``*args``/``**kwargs`` (every per-step call) two set comparisons give the same verdict.
    Anything else still goes through ``Signature.bind``.
    """

    def __init__(self, signature: inspect.Signature) -> None:
        self.signature = signature
        params = list(signature.parameters.values())[1:]  # ctx first
        simple = all(p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) for p in params)
        self.allowed = frozenset(p.name for p in params) if simple else None
        self.required = frozenset(p.name for p in params if p.default is p.empty)

    def bind(self, ctx: Any, *args: Any, **kwargs: Any) -> Any:
        if (
            not args
            and self.allowed is not None
            and kwargs.keys() <= self.allowed
            and self.required <= kwargs.keys()
        ):
            return None
        return self.signature.bind(ctx, *args, **kwargs)


def bind() -> None:
    """gymie/core.py: ``self._signatures = {name: FastSignature(inspect.signature(m.handler)) ...}``."""
    from gymie import core

    original = core.Dispatcher.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self._signatures = {name: FastSignature(sig) for name, sig in self._signatures.items()}

    core.Dispatcher.__init__ = __init__


def action() -> None:
    """gymie/spaces.py: a Python int for an int64 Discrete space becomes ``np.int64`` directly.

    ``_array`` (``np.asarray``, kind checks, ``astype``, an equality ``all()``) costs ~4 µs for
    the one-int action every discrete env gets; the result is the same ``np.int64`` scalar.
    """
    from gymnasium.spaces import Discrete

    from gymie import spaces

    general = spaces.from_jsonable.dispatch(Discrete)
    int64 = np.dtype(np.int64)

    def _discrete_value(space: Discrete, data: Any) -> Any:
        if type(data) is int and space.dtype == int64 and -(2**63) <= data < 2**63:
            return np.int64(data)
        return general(space, data)

    spaces.from_jsonable.register(Discrete, _discrete_value)


def stub() -> None:
    """Not a proposal: ``Dispatcher.handle`` answers every message with one canned legacy step reply.

    With it, a legacy CartPole load measures the server minus the Dispatcher: the transport
    and ``gymie.app`` alone (only the ``legacy JSON +P`` column of ``run.py --only a`` makes sense).
    """
    from gymie import core
    from gymie.protocol import Reply

    canned = Reply.send("[[0.01, 0.02, 0.03, 0.04], 1.0, false, {}]")
    core.Dispatcher.handle = lambda self, raw, session: canned


def timed() -> None:
    """Not a proposal: log the CPU and wall time ``Dispatcher.handle`` takes, every 5000 calls."""
    import time

    from gymie import core

    handle = core.Dispatcher.handle
    totals = [0, 0.0, 0.0]

    def timed_handle(self: Any, raw: Any, session: Any) -> Any:
        c0, w0 = time.thread_time(), time.perf_counter()
        reply = handle(self, raw, session)
        totals[0] += 1
        totals[1] += time.thread_time() - c0
        totals[2] += time.perf_counter() - w0
        if totals[0] % 5000 == 0:
            n = totals[0]
            print(
                f"dispatcher: {n} calls, {totals[1] / n * 1e6:.1f} µs CPU, {totals[2] / n * 1e6:.1f} µs wall",
                flush=True,
            )
        return reply

    core.Dispatcher.handle = timed_handle


EXPERIMENTS: dict[str, Callable[[], None]] = {"stub": stub, "timed": timed}
PATCHES: dict[str, Callable[[], None]] = {
    "packer": packer,
    "bind": bind,
    "action": action,
}


def apply(names: str) -> list[str]:
    """Install the comma-separated patches (``all`` for every one); return their names."""
    chosen = list(PATCHES) if names == "all" else [n for n in names.split(",") if n and n != "none"]
    for name in chosen:
        {**PATCHES, **EXPERIMENTS}[name]()
    return chosen
