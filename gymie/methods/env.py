"""The methods on one environment, free of I/O: each takes a Context and params and returns a value.

How a result reaches the client is decided in ``legacy`` (0.5.4's text frames) and ``rpc``.
"""

from __future__ import annotations

import functools
from typing import Any

from gymie import dependencies, spaces
from gymie.envs import make_adapter
from gymie.exceptions import GymieError, InvalidParams, MissingDependency, WrongAction
from gymie.methods.context import Context, StepResult, check_new_env, check_seed
from gymie.registry import Instance


def make(ctx: Context, env_id: Any, **kwargs: Any) -> str:
    """Instantiate an environment through ``get_env`` (where the backend runs envs); return its id."""
    params = {"env_id": env_id, **kwargs}
    if not isinstance(env_id, str):
        raise InvalidParams(params)
    check_seed(kwargs.get("seed"))
    # Only gymnasium.make imports the module of a `module:Name` id; an overridden get_env decides alone.
    check_new_env(ctx, env_id, module_id=ctx.overrides.is_default("get_env"))
    try:
        adapter = ctx.backend.start(functools.partial(make_adapter, ctx.overrides.get_env, env_id, kwargs))
    except GymieError as err:
        # 0.5.4 overrides `raise EnvironmentNotFound` without the id.
        named = err if err.subject is not None else type(err)(env_id, *(getattr(err, k) for k in err.extra))
        if isinstance(named, MissingDependency):
            dependencies.report(named)
        if named is err:
            raise
        raise named from err
    except TypeError as err:
        raise InvalidParams(params) from err
    return ctx.envs.add(Instance(adapter.env, adapter, ctx.owner, env_id))


def reset(
    ctx: Context, instance_id: Any, seed: int | None = None, options: dict[str, Any] | None = None
) -> tuple[Any, dict[str, Any]]:
    """Reset the environment; return ``(observation, info)``."""
    check_seed(seed)
    if options is not None and not isinstance(options, dict):
        raise InvalidParams({"options": options})
    return ctx.envs.instance(instance_id).adapter.reset(seed=seed, options=options)


def step(ctx: Context, instance_id: Any, action: Any, render: bool = False) -> StepResult:
    """Apply one action; any failure of the env on it is a WrongAction, as in 0.5.4."""
    adapter = ctx.envs.instance(instance_id).adapter
    if render:
        adapter.render()
    try:
        value = spaces.from_jsonable(adapter.action_space, action)
        return StepResult(*adapter.step(value))
    except GymieError:
        raise
    except Exception as err:
        raise WrongAction(action) from err


def close(ctx: Context, instance_id: Any) -> bool:
    """Close the environment and forget it; return True."""
    ctx.envs.pop_instance(instance_id).adapter.close()
    return True


def observation_space(ctx: Context, instance_id: Any) -> dict[str, Any]:
    """Describe the observation space."""
    return spaces.describe(ctx.envs.instance(instance_id).adapter.observation_space)


def action_space(ctx: Context, instance_id: Any) -> dict[str, Any]:
    """Describe the action space."""
    return spaces.describe(ctx.envs.instance(instance_id).adapter.action_space)


def action_sample(ctx: Context, instance_id: Any) -> Any:
    """Sample a random action from the env's action space."""
    return ctx.envs.instance(instance_id).adapter.sample_action()


def render(ctx: Context, instance_id: Any) -> Any:
    """Return the env's render (a frame for ``render_mode="rgb_array"``)."""
    return ctx.envs.instance(instance_id).adapter.render()
