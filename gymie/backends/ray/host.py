"""What runs inside a Ray actor: one env (or one shard of a vector env), as in a worker process.

:class:`EnvHost` is a plain class; the backend turns it into an actor with ``ray.remote``. Like
``gymie.backends.worker`` it imports the ``--import`` modules, builds its env with gymie's own
factory (``get_env`` / ``@override``, then the adapter) and answers each call with
``(True, result)`` or ``(False, error_info)``: an env that raises is reported exactly as by a
worker process, and the actor lives on. Ray's own errors then mean the actor itself failed.
As in a worker, big results can be encoded for the wire here and spaces described here (a
1024-env Atari batch's bounds are 200 MB: the server only ever needs their description).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from types import SimpleNamespace
from typing import Any

from gymnasium.vector.utils import batch_space

from gymie import logs
from gymie.backends.worker import answer, build_env, describe, error_info, reported, snapshot

log = logging.getLogger("gymie")
LINGER = "linger"
"""The actor's concurrency group for :meth:`EnvHost.linger` (one thread; env calls keep their own)."""


class EnvHost:
    """The env of one actor; every method answers ``(ok, payload)`` except :meth:`where`."""

    def __init__(self, imports: list[str], log_level: int, max_reply_size: int) -> None:
        logs.configure(log_level)
        self.imports = imports
        self.max_reply_size = max_reply_size
        self.env: Any = None
        self._closed = threading.Event()

    def where(self) -> dict[str, Any]:
        """The node, host and pid this actor runs on (also the proof it was placed and started)."""
        import ray  # only ever called inside a Ray worker

        node_id = ray.get_runtime_context().get_node_id()
        return {"node_id": node_id, "hostname": socket.gethostname(), "pid": os.getpid()}

    def build(self, factory: bytes) -> tuple[bool, Any]:
        """Import the modules, build the env with the pickled factory; answer its static attributes."""
        try:
            self.env = build_env(self.imports, factory)
            return True, snapshot(self.env)
        except Exception as exc:
            return False, error_info(exc)

    def call(
        self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any], encoding: str | None = None
    ) -> tuple[bool, Any]:
        """Call a public method of the env (its adapter); ``encoding``: encode big arrays for that wire."""
        if self.env is None:
            return False, error_info(AttributeError(f"no method {method!r}"))
        return answer(self.env, method, args, kwargs, encoding, self.max_reply_size)

    def describe(self, name: str, wire: str, limit: int, num_envs: int | None = None) -> tuple[bool, Any]:
        """The env's space ``name`` described and encoded for ``wire``.

        With ``num_envs``: the batch of that many of its ``single_`` space (a sharded vector env's).
        """
        source: Any = self.env
        if num_envs is not None:
            source = SimpleNamespace(**{name: batch_space(getattr(self.env, f"single_{name}"), num_envs)})
        return reported(describe, source, name, wire, limit)

    def linger(self) -> None:
        """Return when the env is closed: the server's call pending for the actor's whole life.

        It runs in a concurrency group of its own (``LINGER``), beside the env's calls; its
        reference fails when the actor dies, which is how the server notices a death while idle.
        """
        self._closed.wait()

    def close(self) -> tuple[bool, Any]:
        """Close the env (the backend kills the actor next)."""
        self._closed.set()
        if self.env is None:
            return True, None
        env, self.env = self.env, None
        return reported(env.close)
