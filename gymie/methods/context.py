"""What every method is given: the :class:`Context`, and the checks methods share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from gymie import limits, spaces
from gymie.envs import Backend
from gymie.exceptions import EnvironmentNotAllowed, InvalidParams
from gymie.excerpts import excerpt
from gymie.registry import EnvRegistry, Instance, OverrideRegistry, Slot
from gymie.settings import Settings


@dataclass
class Context:
    """What a method may touch: the registries, the backend, the operator's settings, and who asks.

    ``encoding`` is how the session's replies travel (``"json"`` or ``"msgpack"``) and ``legacy``
    whether they are 0.5.4 frames: where a result is encoded elsewhere (a worker) it must know.
    """

    envs: EnvRegistry
    overrides: OverrideRegistry
    settings: Settings
    backend: Backend
    owner: int | None = None
    methods: Mapping[str, Any] = field(default_factory=dict)
    """The public methods by name (``server_info`` lists them)."""
    encoding: str = "json"
    legacy: bool = True

    def instance(self, instance_id: Any) -> Instance:
        """The caller's instance: another connection's id is not found, unless instances are shared."""
        return self.envs.instance(instance_id, None if self.settings.share_instances else self.owner)

    def pop_instance(self, instance_id: Any) -> Instance:
        """Remove and return the caller's instance (as :meth:`instance` finds it)."""
        return self.envs.pop_instance(instance_id, None if self.settings.share_instances else self.owner)

    @property
    def wire(self) -> str:
        """``"legacy"``, ``"json"`` or ``"msgpack"``: the form a result takes on the wire."""
        return "legacy" if self.legacy else self.encoding


class StepResult(NamedTuple):
    """One Gymnasium step."""

    observation: Any
    reward: Any
    terminated: bool
    truncated: bool
    info: dict[str, Any]


def check_make_kwargs(params: dict[str, Any]) -> None:
    """Raise InvalidParams for a ``gymnasium.make`` option of the wrong type or range, naming it."""
    steps = params.get("max_episode_steps")
    if steps is not None and (type(steps) is not int or (steps < 1 and steps != -1)):
        detail = f"max_episode_steps must be a positive integer or -1, got {excerpt(steps, 40)}"
        raise InvalidParams(params, detail=detail)
    for name in ("disable_env_checker", "autoreset"):
        if params.get(name) is not None and type(params[name]) is not bool:
            detail = f"{name} must be true, false or null, got {excerpt(params[name], 40)}"
            raise InvalidParams(params, detail=detail)
    mode = params.get("render_mode")
    if mode is not None and type(mode) is not str:
        raise InvalidParams(params, detail=f"render_mode must be a string or null, got {excerpt(mode, 40)}")


def check_make(
    ctx: Context, method: str, params: dict[str, Any], seed: Any, sized: Any, *, make_kwargs: bool = True
) -> None:
    """The checks ``make`` and ``make_vec`` run before reserving room, in this order.

    ``seed``; the size of ``sized`` (env kwargs, vector kwargs); with ``make_kwargs``, the
    ``gymnasium.make`` options in ``params``.

    Raises:
        InvalidParams: naming the parameter at fault.
    """
    check_seed(seed)
    check_params_size(ctx, method, sized)
    if make_kwargs:
        check_make_kwargs(params)


def add_instance(ctx: Context, adapter: Any, slot: Slot, name: str) -> str:
    """Register a newly built env in the room reserved for it (``slot``); return its instance id.

    A worker's proxy is first told how its results travel, so the worker encodes big arrays
    itself; not when ``process_step`` is overridden: it gets the arrays themselves.
    """
    if hasattr(adapter, "wire_encoding") and ctx.overrides.is_default("process_step"):
        adapter.wire_encoding = ctx.wire
    return ctx.envs.add(Instance(adapter.env, adapter, ctx.owner, name), slot)


def describe(ctx: Context, adapter: Any, name: str) -> Any:
    """The description of ``adapter``'s space ``name``, refused when it would pass ``max_reply_size``.

    A worker's proxy has it described and encoded in the worker (an Encoded value comes back),
    so describing a huge space never walks its bounds on the server's event loop.
    """
    limit = ctx.settings.max_reply_size
    remote = getattr(adapter, "describe_space", None)
    if remote is not None:
        return remote(name, ctx.wire, limit)
    space = getattr(adapter, name)
    limits.check_reply(limits.description_floor(space, ctx.encoding == "json"), limit, name)
    return spaces.describe(space)


def check_seed(seed: Any) -> None:
    """Raise InvalidParams unless ``seed`` is None or a non-negative int."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        detail = f"seed must be a non-negative integer or null, got {excerpt(seed, 40)}"
        raise InvalidParams({"seed": seed}, detail=detail)


def check_params_size(ctx: Context, method: str, params: Any) -> None:
    """Raise InvalidParams when env kwargs / options pass ``max_params_size`` (they can make envs huge)."""
    budget = ctx.settings.max_params_size
    if limits.params_size(params, budget) > budget:
        detail = f"parameters of {method} are larger than {budget} bytes (--max-params-size)"
        raise InvalidParams(params, detail=detail)


def new_env_slot(ctx: Context, env_id: str, module_id: bool, processes: int = 0) -> Slot:
    """Check that the operator allows ``env_id``, then reserve room for it (see ``EnvRegistry.reserve``).

    ``processes``: how many processes building it starts (the backend's own are added here).
    """
    if (module_id and not ctx.settings.module_id_allowed(env_id)) or not ctx.settings.env_allowed(env_id):
        raise EnvironmentNotAllowed(env_id)
    return ctx.envs.reserve(ctx.owner, ctx.settings, processes + ctx.backend.processes_per_env)
