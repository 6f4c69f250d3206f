"""The registries: live environments, overridable hooks, and public methods."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from gymie.compat import EnvAdapter, adapt
from gymie.exceptions import InstanceNotFound, LimitExceeded
from gymie.settings import Settings

OVERRIDABLE = ("get_env", "process_step")
log = logging.getLogger("gymie")


@dataclass
class Instance:
    """One live environment: the raw object, its adapter, the session that made it, its id."""

    env: Any
    adapter: EnvAdapter
    owner: int | None = None
    env_id: str | None = None

    def describe(self) -> str:
        """``CartPole-v1, connection 3``: what the log lines say about an instance."""
        spec_id = getattr(getattr(self.env, "spec", None), "id", None)
        env_id = self.env_id or spec_id or type(self.env).__name__
        return f"{env_id}, connection {self.owner}" if self.owner is not None else f"{env_id}, no connection"


class EnvRegistry(MutableMapping[str, Any]):
    """Environments keyed by UUID hex; as a mapping it yields the raw env objects (0.5.4's ``envs``)."""

    def __init__(self) -> None:
        self._instances: dict[str, Instance] = {}

    def add(self, instance: Instance) -> str:
        """Register an instance under a fresh id and return the id."""
        instance_id = uuid.uuid4().hex
        self._instances[instance_id] = instance
        log.info("env %s made (%s)", instance_id, instance.describe())
        return instance_id

    def instance(self, instance_id: Any) -> Instance:
        """Return the instance or raise InstanceNotFound."""
        try:
            return self._instances[instance_id]
        except (KeyError, TypeError):
            raise InstanceNotFound(instance_id) from None

    def pop_instance(self, instance_id: Any) -> Instance:
        """Remove the instance and return it, or raise InstanceNotFound."""
        instance = self.instance(instance_id)
        del self._instances[instance_id]
        log.info("env %s closed (%s)", instance_id, instance.describe())
        return instance

    def owned_by(self, owner: int) -> list[str]:
        """Ids of the instances a session made."""
        return [key for key, inst in self._instances.items() if inst.owner == owner]

    def check_room(self, owner: int | None, settings: Settings) -> None:
        """Raise LimitExceeded when one more env would pass ``max_envs`` or the per-connection cap.

        A vector env counts as one environment: it is one instance (and one worker process).
        """
        if settings.max_envs is not None and len(self) >= settings.max_envs:
            raise LimitExceeded(f"{settings.max_envs} environments per server")
        cap = settings.max_envs_per_connection
        if cap is not None and owner is not None and len(self.owned_by(owner)) >= cap:
            raise LimitExceeded(f"{cap} environments per connection")

    def __getitem__(self, instance_id: str) -> Any:
        return self._instances[instance_id].env

    def __setitem__(self, instance_id: str, env: Any) -> None:
        self._instances[instance_id] = Instance(env, adapt(env))

    def __delitem__(self, instance_id: str) -> None:
        del self._instances[instance_id]

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

    ``legacy(ctx, result)`` formats the result as the text frame 0.5.4 sent; methods
    without it exist only in protocol 2. ``rpc(ctx, result)`` shapes it for JSON-RPC replies.
    """

    name: str
    handler: Callable[..., Any]
    rpc: Callable[[Any, Any], Any]
    legacy: Callable[[Any, Any], str] | None = None


class MethodRegistry(dict[str, Method]):
    """Public methods by name."""

    def register(self, method: Method) -> Method:
        """Add a method (a later one of the same name replaces it)."""
        self[method.name] = method
        return method
