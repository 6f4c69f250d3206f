"""The server's side of an env actor: :class:`ActorEnv`, an EnvAdapter whose calls are actor calls.

Waiting never blocks the eventlet hub: a call is submitted (``actor.call.remote``, which does
not block), then the green thread waits through ``waker.wait``.

How failures show:

- the env raises: the actor answers ``(False, error_info)``; the exception is rebuilt and raised
  as with a worker process, and the actor lives on;
- the actor dies (its process killed, its node lost): ``WorkerCrashed``; while idle, the
  backend's ``waker.DeathWatch`` notices it at once (:meth:`ActorEnv.fell`);
- no reply within the step timeout: the actor is killed, ``StepTimeout``;
- no node can place it (``make``): killed after the schedule timeout, ``LimitExceeded``.

After the last three the proxy is ``dead`` and the dispatcher drops its instance.
"""

from __future__ import annotations

import contextlib
import logging
from concurrent.futures import Future
from typing import Any

import ray
from ray.exceptions import ActorUnavailableError, RayError, RayTaskError

from gymie.backends.ray.waker import Runtime, wait
from gymie.backends.remote import RemoteAdapter, rebuild
from gymie.exceptions import InternalError, LimitExceeded, StepTimeout, WorkerCrashed

log = logging.getLogger("gymie")

BUILD_TIMEOUT = 60.0
"""Seconds an actor may take to build its env once placed (or the step timeout, if longer)."""
CLOSE_TIMEOUT = 10.0
"""Seconds ``env.close()`` may take in an actor (or the step timeout, if set)."""


class ActorEnv(RemoteAdapter):
    """An EnvAdapter whose env lives in a Ray actor (``gymie.backends.ray.host.EnvHost``).

    Calls are serialised per env. ``dead`` turns True when the actor died or was killed; every
    later call raises WorkerCrashed. As with a worker process, the actor encodes the big arrays
    of results itself (``wire_encoding``), and :meth:`describe_space` describes spaces there.
    """

    def __init__(
        self, actor: Any, name: str, runtime: Runtime, timeout: float | None, registry: set[Any]
    ) -> None:
        super().__init__()
        self.actor = actor
        self.name = name
        self.timeout = timeout
        self.where: dict[str, Any] = {"node_id": None, "hostname": None, "pid": None}
        self._runtime = runtime
        self._lock = runtime.lock()
        self._registry = registry
        self._registry.add(self)

    # -- starting -----------------------------------------------------------

    def submit_start(self, factory: bytes) -> tuple[Any, Any]:
        """Ask the actor where it runs (it answers once placed) and to build its env; both at once."""
        return self.actor.where.remote(), self.actor.build.remote(factory)

    def finish_start(self, refs: tuple[Any, Any], schedule_timeout: float, resources: Any) -> None:
        """Wait for placement, then for the env; on any failure the actor is killed.

        Raises:
            LimitExceeded: no node placed the actor within ``schedule_timeout``.
            WorkerCrashed, StepTimeout, Exception: as :meth:`call` (the factory's own errors too).
        """
        where, build = refs
        placed = wait(self._runtime, [where], schedule_timeout)
        if placed is None:
            self.kill("could not be placed")
            wanted = f"the resources {resources}" if resources else "room for it"
            raise LimitExceeded(f"no Ray node offered {wanted} within {schedule_timeout:g} s")
        self.where = self._value(placed[0])
        ok, payload = self.collect(build, max(BUILD_TIMEOUT, self.timeout or 0.0))
        if not ok:
            self.kill("failed to build its env")
            raise rebuild(payload)
        self._adopt(payload)

    # -- calls --------------------------------------------------------------

    def location(self) -> dict[str, Any]:
        """The actor's node id, host and pid."""
        return dict(self.where)

    def _request(
        self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any], encoding: str | None
    ) -> Any:
        """One actor call (see :meth:`RemoteAdapter.call`)."""
        with self._lock:
            ok, payload = self.collect(self.submit(method, args, kwargs, encoding), self.timeout)
        if not ok:
            raise rebuild(payload)
        return payload

    def describe_space(self, name: str, wire: str, limit: int, num_envs: int | None = None) -> Any:
        """The description of the actor env's space ``name``, described and encoded in the actor.

        ``wire`` is ``"legacy"``, ``"json"`` or ``"msgpack"``; an Encoded value comes back. With
        ``num_envs``: the batch of that many of its ``single_`` space.

        Raises:
            ReplyTooLarge: the description would take more than ``limit`` bytes.
        """
        with self._lock:
            if self.dead:
                raise WorkerCrashed(f"actor {self.name} {self.exit_reason}")
            ok, payload = self.collect(self.actor.describe.remote(name, wire, limit, num_envs), self.timeout)
        if not ok:
            raise rebuild(payload)
        return payload

    def submit(
        self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any], encoding: str | None = None
    ) -> Any:
        """Send one call without waiting for it; :meth:`collect` its reference."""
        if self.dead:
            raise WorkerCrashed(f"actor {self.name} {self.exit_reason}")
        return self.actor.call.remote(method, args, kwargs, encoding)

    def collect(self, ref: Any, timeout: float | None) -> Any:
        """The actor's reply to a call (``(ok, payload)`` for env calls)."""
        if self.dead:  # killed meanwhile (a sibling shard failed, or the server is cutting)
            raise WorkerCrashed(f"actor {self.name} {self.exit_reason}")
        futures = wait(self._runtime, [ref], timeout)
        if futures is None:
            self.kill(f"timed out (pid {self.where['pid']})")
            raise StepTimeout(f"no reply within {timeout:g} s, actor {self.name} killed")
        return self._value(futures[0])

    def _value(self, future: Future[Any]) -> Any:
        """A done future's value; Ray's errors as gymie's."""
        try:
            return future.result()
        except RayTaskError as err:  # the actor could not send its reply (it does not serialise)
            raise InternalError(f"the actor's reply could not be sent: {err.cause!r}") from None
        except RayError as err:
            self.fell(err)
            raise WorkerCrashed(f"actor {self.name} {self.exit_reason}") from None

    def fell(self, error: BaseException) -> None:
        """The actor died (Ray raised ``error`` for one of its calls): mark the proxy dead, say why."""
        how = "is unreachable (its node may be lost)" if isinstance(error, ActorUnavailableError) else "died"
        self.kill(f"(pid {self.where['pid']}) {how}")

    def close(self) -> None:
        """Close the env, then kill the actor; calling it twice is fine."""
        with self._lock:
            if self.dead:
                return
            reply: tuple[bool, Any] = (True, None)
            try:
                reply = self.collect(self.actor.close.remote(), self.timeout or CLOSE_TIMEOUT)
            except (WorkerCrashed, StepTimeout, InternalError) as err:
                log.warning("closing the env of actor %s: %s", self.name, err)
            finally:
                self.kill("was closed")
        if not reply[0]:
            raise rebuild(reply[1])

    def kill(self, reason: str) -> None:
        """Kill the actor (no restart), mark the proxy dead and release it; idempotent."""
        if self.dead:
            return
        self.dead = True
        self.exit_reason = reason
        with contextlib.suppress(Exception):
            ray.kill(self.actor, no_restart=True)
        self._registry.discard(self)
