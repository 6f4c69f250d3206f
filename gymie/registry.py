"""The registries: live environments, overridable hooks, and public methods."""

from __future__ import annotations

import logging
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gymie.compat import EnvAdapter, adapt
from gymie.exceptions import InstanceNotFound, LimitExceeded
from gymie.settings import Settings

OVERRIDABLE = ("get_env", "process_step")
log = logging.getLogger("gymie")
RECENT_RETURNS = 100
"""Episode returns an instance keeps for the dashboard's chart."""


class InstanceStats:
    """What the step path counts for the dashboard: a few attribute updates a step (~0.3 µs).

    A vector env counts every sub-env's step and episode; its ``reward`` is the batch's mean.
    Statistics never fail a step: a reward that is not a number is simply not added up.
    """

    __slots__ = ("steps", "episodes", "reward", "episode_return", "last_return", "returns", "_batch")

    def __init__(self) -> None:
        self.steps = 0
        self.episodes = 0
        self.reward: float | None = None
        self.episode_return = 0.0
        self.last_return: float | None = None
        self.returns: deque[float] = deque(maxlen=RECENT_RETURNS)
        self._batch: Any = None  # a vector env's running returns, one per sub-env

    def record(self, reward: Any, terminated: Any, truncated: Any) -> None:
        """Count one step (a batch of them for a vector env)."""
        try:
            if type(terminated) is np.ndarray:
                self._record_batch(np.asarray(reward), terminated, truncated)
                return
            self.steps += 1
            self.reward = reward
            self.episode_return += reward
            if terminated or truncated:
                self.episodes += 1
                self.last_return = self.episode_return
                self.returns.append(self.episode_return)
                self.episode_return = 0.0
        except (TypeError, ValueError):
            self.reward = None

    def _record_batch(self, rewards: Any, terminated: Any, truncated: Any) -> None:
        # A handful of NumPy calls, none allocating but when an episode ends: a 1024-env batch
        # cost ~20 µs here with the obvious (asarray, mean, |, any).
        batch = self._batch
        if batch is None or batch.shape != rewards.shape:
            batch = self._batch = np.zeros(rewards.shape, np.float64)
        np.add(batch, rewards, out=batch)
        self.steps += batch.size
        self.reward = float(np.add.reduce(rewards, dtype=np.float64, axis=None)) / max(batch.size, 1)
        if terminated.any() or truncated.any():
            done = terminated | truncated
            finished = batch[done]
            self.episodes += finished.size
            self.last_return = float(finished[-1])
            self.returns.extend(finished.tolist())
            batch[done] = 0.0
        self.episode_return = float(batch.flat[0]) if batch.size else 0.0

    def restart(self) -> None:
        """A reset: the running episode is dropped (it did not end, so it is not counted)."""
        self.episode_return = 0.0
        self._batch = None


@dataclass
class Instance:
    """One live environment: the raw object, its adapter, the session that made it, its id, its processes.

    ``stats`` and ``created`` are what the dashboard shows of it.
    """

    env: Any
    adapter: EnvAdapter
    owner: int | None = None
    env_id: str | None = None
    processes: int = 0
    """Processes it holds against ``max_workers`` (its worker, an async vector env's sub-processes)."""
    stats: InstanceStats = field(default_factory=InstanceStats)
    created: float = field(default_factory=time.monotonic)

    def describe(self) -> str:
        """``CartPole-v1, connection 3``: what the log lines say about an instance."""
        spec_id = getattr(getattr(self.env, "spec", None), "id", None)
        env_id = self.env_id or spec_id or type(self.env).__name__
        return f"{env_id}, connection {self.owner}" if self.owner is not None else f"{env_id}, no connection"


@dataclass(eq=False)
class Slot:
    """Room for one env, taken before it is built (see :meth:`EnvRegistry.reserve`)."""

    owner: int | None
    processes: int


class EnvRegistry(MutableMapping[str, Any]):
    """Environments keyed by UUID hex; as a mapping it yields the raw env objects (0.5.4's ``envs``).

    Limits count the envs being built too: :meth:`reserve` takes a :class:`Slot` before an env
    (or its worker) is started, :meth:`add` turns it into the instance, :meth:`release` gives it
    back if building failed. Building may yield to other green threads (a worker starting), so a
    check followed by a later insert would let concurrent ``make``s all pass.
    """

    def __init__(self) -> None:
        self._instances: dict[str, Instance] = {}
        self._pending: list[Slot] = []
        self._processes = 0  # held by live instances and pending slots

    def add(self, instance: Instance, slot: Slot | None = None) -> str:
        """Register an instance under a fresh id (in the room ``slot`` kept for it) and return the id."""
        if slot is not None and slot in self._pending:
            self._pending.remove(slot)
            instance.processes = slot.processes
        else:
            self._processes += instance.processes
        instance_id = uuid.uuid4().hex
        self._instances[instance_id] = instance
        log.info("env %s made (%s)", instance_id, instance.describe())
        return instance_id

    def instance(self, instance_id: Any, owner: int | None = None) -> Instance:
        """Return the instance or raise InstanceNotFound.

        With ``owner``, another owner's instance is not found either, exactly as an unknown id.
        """
        try:
            instance = self._instances[instance_id]
        except (KeyError, TypeError):
            raise InstanceNotFound(instance_id) from None
        if owner is not None and instance.owner != owner:
            raise InstanceNotFound(instance_id)
        return instance

    def pop_instance(self, instance_id: Any, owner: int | None = None) -> Instance:
        """Remove the instance and return it, or raise InstanceNotFound (``owner`` as in :meth:`instance`)."""
        instance = self.instance(instance_id, owner)
        del self[instance_id]
        log.info("env %s closed (%s)", instance_id, instance.describe())
        return instance

    def owned_by(self, owner: int) -> list[str]:
        """Ids of the instances a session made."""
        return [key for key, inst in self._instances.items() if inst.owner == owner]

    def reserve(self, owner: int | None, settings: Settings, processes: int = 0) -> Slot:
        """Take room for one more env that will start ``processes`` processes, or raise LimitExceeded.

        A vector env counts as one environment (it is one instance); its processes count
        against ``max_workers``. Hand the slot to :meth:`add`, or to :meth:`release` on failure.
        """
        if settings.max_envs is not None and len(self) + len(self._pending) >= settings.max_envs:
            raise LimitExceeded(f"{settings.max_envs} environments per server")
        cap = settings.max_envs_per_connection
        if cap is not None and owner is not None:
            pending = sum(1 for slot in self._pending if slot.owner == owner)
            if len(self.owned_by(owner)) + pending >= cap:
                raise LimitExceeded(f"{cap} environments per connection")
        if processes and self._processes + processes > settings.max_workers:
            raise LimitExceeded(
                f"{settings.max_workers} worker processes per server "
                f"({processes} needed, {self._processes} in use)"
            )
        slot = Slot(owner, processes)
        self._pending.append(slot)
        self._processes += processes
        return slot

    def release(self, slot: Slot) -> None:
        """Give back a slot that :meth:`add` did not use (calling it after ``add`` does nothing)."""
        if slot in self._pending:
            self._pending.remove(slot)
            self._processes -= slot.processes

    def __getitem__(self, instance_id: str) -> Any:
        return self._instances[instance_id].env

    def __setitem__(self, instance_id: str, env: Any) -> None:
        self.pop(instance_id, None)
        self._instances[instance_id] = Instance(env, adapt(env))

    def __delitem__(self, instance_id: str) -> None:
        self._processes -= self._instances.pop(instance_id).processes

    def __iter__(self) -> Iterator[str]:
        return iter(self._instances)

    def __len__(self) -> int:
        return len(self._instances)


@dataclass
class OverrideRegistry:
    """The hooks a user may replace with ``@override``: ``get_env`` and ``process_step``."""

    get_env: Callable[..., Any]
    process_step: Callable[[tuple[Any, Any, bool, dict[str, Any]]], Any]
    defaults: dict[str, Callable[..., Any]] = field(init=False)

    def __post_init__(self) -> None:
        self.defaults = {"get_env": self.get_env, "process_step": self.process_step}

    @staticmethod
    def check(name: str) -> None:
        """Raise ValueError unless ``name`` is one of OVERRIDABLE."""
        if name not in OVERRIDABLE:
            raise ValueError(f"Error overriding `{name}`. Functions available: `get_env`, `process_step`")

    def set(self, name: str, fn: Callable[..., Any]) -> None:
        """Replace one hook."""
        self.check(name)
        setattr(self, name, fn)

    def restore(self, name: str | None = None) -> None:
        """Put back the default of one hook, or of all."""
        for key in [name] if name else list(OVERRIDABLE):
            self.set(key, self.defaults[key])

    def is_default(self, name: str) -> bool:
        """Whether the hook is still the built-in one."""
        return bool(getattr(self, name) is self.defaults[name])


@dataclass(frozen=True)
class Method:
    """A public method: the I/O-free handler and how a 0.5.4 client gets its result.

    ``legacy(ctx, result)`` formats the result as the text frame 0.5.4 sent (a ``str``, or a
    text :class:`~gymie.codec.Frame` of pieces); methods
    without it exist only in protocol 2. ``rpc(ctx, result)`` shapes it for JSON-RPC replies.
    """

    name: str
    handler: Callable[..., Any]
    rpc: Callable[[Any, Any], Any]
    legacy: Callable[[Any, Any], Any] | None = None


class MethodRegistry(dict[str, Method]):
    """Public methods by name."""

    def register(self, method: Method) -> Method:
        """Add a method (a later one of the same name replaces it)."""
        self[method.name] = method
        return method
