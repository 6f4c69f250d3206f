"""``RayBackend``: the Backend of ``--isolation ray`` (see the package docstring)."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ray
from ray import cloudpickle as _cloudpickle

from gymie.backends.ray import cluster
from gymie.backends.ray.host import LINGER, EnvHost
from gymie.backends.ray.proxy import ActorEnv
from gymie.backends.ray.sharded import ShardedEnv
from gymie.backends.ray.waker import DeathWatch, Runtime
from gymie.backends.remote import BlockingRuntime
from gymie.compat import EnvAdapter
from gymie.exceptions import InternalError, InvalidParams
from gymie.settings import Settings

cloudpickle: Any = _cloudpickle  # untyped; by value for functions of __main__ (an override in a script)
OPTIONS = ("num_cpus", "num_gpus", "memory")
"""Resource names that are actor options of their own; any other name is a custom resource."""


def actor_options(resources: Mapping[str, float] | None) -> dict[str, Any]:
    """Ray's actor options for a placement: ``{"num_gpus": 0.5, "atari_host": 1}`` → num_gpus + resources.

    Raises:
        InvalidParams: a quantity Ray refuses (above 1 and not whole).
    """
    options: dict[str, Any] = {"max_restarts": 0, "max_task_retries": 0}
    custom = {}
    wanted = dict(resources or {})
    for name, value in wanted.items():
        if value > 1 and value != int(value):
            detail = f"resources={wanted!r}: Ray needs whole numbers above 1 ({name})"
            raise InvalidParams({"resources": wanted}, detail=detail)
        if name in OPTIONS:
            options[name] = int(value) if name == "memory" else value
        else:
            custom[name] = value
    if custom:
        options["resources"] = custom
    return options


class RayBackend:
    """Runs each env in a Ray actor; one per server process.

    Each actor counts as one worker against ``--max-workers``: the server holds a connection to
    each actor's process (and a pipe while a call waits).
    """

    processes_per_env = 1

    def __init__(self, settings: Settings, runtime: Runtime | None = None) -> None:
        self.settings = settings
        self.runtime: Runtime = runtime or BlockingRuntime()
        self.actors: set[ActorEnv] = set()
        self.deaths = DeathWatch(self.runtime)
        self._host: Any = None

    def warm_up(self) -> None:
        """Join the cluster (or start a local one); see :func:`cluster.connect`."""
        cluster.connect(self.settings)
        groups = {LINGER: 1}  # Ray's typing of remote() lacks concurrency_groups
        self._host = ray.remote(concurrency_groups=groups)(EnvHost)  # type: ignore[call-overload]

    def start(
        self, factory: Callable[[], EnvAdapter], *, resources: Mapping[str, float] | None = None
    ) -> ActorEnv:
        """Create an actor that builds the env; wait until it is placed and built.

        Raises:
            InvalidParams: Ray refused the resources (say, 1.5 of a custom resource).
            LimitExceeded: no node placed the actor within ``--ray-schedule-timeout``.
            WorkerCrashed, StepTimeout: the actor died or hung while building the env.
            Exception: what the factory raised (EnvironmentNotFound, TypeError...), rebuilt.
        """
        return self._start([factory], resources)[0]

    def start_shards(
        self, factories: Sequence[Callable[[], EnvAdapter]], *, resources: Mapping[str, float] | None = None
    ) -> ShardedEnv:
        """One actor per factory (a shard of a vector env), all placed and built in parallel."""
        return ShardedEnv(self._start(factories, resources), self.runtime, self.settings.step_timeout)

    def live_workers(self) -> int:
        """Actors started by this backend and not killed yet."""
        return len(self.actors)

    def kill_all(self) -> None:
        """Kill every actor at once (their proxies are dead: a later call raises WorkerCrashed)."""
        for proxy in list(self.actors):
            proxy.kill("was killed: the server is stopping")

    def _start(
        self, factories: Sequence[Callable[[], EnvAdapter]], resources: Mapping[str, float] | None
    ) -> list[ActorEnv]:
        if self._host is None:
            self.warm_up()
        try:
            blobs = [cloudpickle.dumps(factory) for factory in factories]
        except Exception as exc:
            raise InternalError(f"the environment factory cannot be sent to a Ray actor: {exc}") from exc
        options = actor_options(resources)
        level = logging.getLogger("gymie").getEffectiveLevel()
        proxies: list[ActorEnv] = []
        pending: list[tuple[Any, Any]] = []
        try:
            for blob in blobs:
                name = f"gymie-{os.getpid()}-{uuid.uuid4().hex[:12]}"
                try:
                    actor = self._host.options(name=name, namespace=cluster.NAMESPACE, **options).remote(
                        list(self.settings.imports), level, self.settings.max_reply_size
                    )
                except (ValueError, TypeError) as err:
                    wanted = dict(resources or {})
                    detail = f"resources={wanted!r}: {err}"
                    raise InvalidParams({"resources": wanted}, detail=detail) from None
                proxy = ActorEnv(actor, name, self.runtime, self.settings.step_timeout, self.actors)
                proxies.append(proxy)
                pending.append(proxy.submit_start(blob))
            for proxy, refs in zip(proxies, pending, strict=True):
                proxy.finish_start(refs, self.settings.ray_schedule_timeout, dict(resources or {}))
            for proxy in proxies:  # a death while idle is then noticed at once (DeathWatch)
                self.deaths.follow(proxy, proxy.actor.linger.options(concurrency_group=LINGER).remote())
        except BaseException:
            for proxy in proxies:
                proxy.kill("was killed: its env could not be started")
            raise
        return proxies
