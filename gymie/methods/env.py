"""The methods on one environment, free of I/O: each takes a Context and params and returns a value.

How a result reaches the client is decided in ``legacy`` (0.5.4's text frames) and ``rpc``.
Mistakes of the client (bad params, options the env refuses) are reported as InvalidParams or
WrongAction, never as internal errors: those are logged with a traceback, these are not.
"""

from __future__ import annotations

import functools
from typing import Any

from gymie import dependencies, spaces
from gymie.envs import make_adapter
from gymie.exceptions import (
    CLIENT_MISTAKES,
    GymieError,
    InvalidParams,
    MissingDependency,
    WrongAction,
    client_error,
)
from gymie.excerpts import excerpt
from gymie.methods.context import (
    Context,
    StepResult,
    add_instance,
    check_make,
    check_params_size,
    check_seed,
    describe,
    new_env_slot,
)
from gymie.methods.placement import check_resources


def make(ctx: Context, env_id: Any, *, resources: Any = None, **kwargs: Any) -> str:
    """Instantiate an environment through ``get_env`` (where the backend runs envs); return its id.

    Room for it is reserved first and given back if building fails (see ``EnvRegistry.reserve``).
    ``resources`` (``--isolation ray``) says what the node running it must offer.
    """
    params = {"env_id": env_id, **kwargs}
    if not isinstance(env_id, str):
        raise InvalidParams(params, detail=f"env_id must be a string, got {excerpt(env_id, 40)}")
    default_get_env = ctx.overrides.is_default("get_env")
    check_make(ctx, "make", params, kwargs.get("seed"), kwargs, make_kwargs=default_get_env)
    placement = check_resources(ctx, resources)
    # Only gymnasium.make imports the module of a `module:Name` id; an overridden get_env decides alone.
    slot = new_env_slot(ctx, env_id, module_id=default_get_env)
    try:
        factory = functools.partial(make_adapter, ctx.overrides.get_env, env_id, kwargs)
        adapter = ctx.backend.start(factory, resources=placement)
        return add_instance(ctx, adapter, slot, env_id)
    except GymieError as err:
        # 0.5.4 overrides `raise EnvironmentNotFound` without the id.
        named = err if err.subject is not None else type(err)(env_id, *(getattr(err, k) for k in err.extra))
        if isinstance(named, MissingDependency):
            dependencies.report(named)
        if named is err:
            raise
        raise named from err
    except TypeError as err:
        raise client_error(err, "make", params, f"{env_id} refused its parameters") from err
    except CLIENT_MISTAKES as err:
        if set(kwargs) <= {"seed"}:  # no kwargs to blame: the env itself failed
            raise
        raise client_error(err, "make", params, f"{env_id} refused its parameters") from err
    finally:
        ctx.envs.release(slot)


def reset(
    ctx: Context, instance_id: Any, seed: int | None = None, options: dict[str, Any] | None = None
) -> tuple[Any, dict[str, Any]]:
    """Reset the environment; return ``(observation, info)``."""
    check_seed(seed)
    if options is not None and not isinstance(options, dict):
        detail = f"options must be an object or null, got {excerpt(options, 40)}"
        raise InvalidParams({"options": options}, detail=detail)
    instance = ctx.instance(instance_id)
    adapter = instance.adapter
    if not options:
        result = adapter.reset(seed=seed, options=options)
    else:
        check_params_size(ctx, "reset", options)
        try:
            result = adapter.reset(seed=seed, options=options)
        except CLIENT_MISTAKES as err:  # the options were given by the client: its mistake, not a bug
            raise client_error(
                err, "reset", {"options": options}, "the env refused the reset options"
            ) from err
    instance.stats.restart()
    return result


def step(ctx: Context, instance_id: Any, action: Any, render: bool = False) -> StepResult:
    """Apply one action; any failure of the env on it is a WrongAction, as in 0.5.4."""
    instance = ctx.instance(instance_id)
    adapter = instance.adapter
    if render:
        adapter.render()
    try:
        value = spaces.from_jsonable(adapter.action_space, action)
        result = StepResult(*adapter.step(value))
    except GymieError:
        raise
    except Exception as err:
        raise WrongAction(action) from err
    instance.stats.record(result.reward, result.terminated, result.truncated)
    return result


def close(ctx: Context, instance_id: Any) -> bool:
    """Close the environment and forget it; return True."""
    ctx.pop_instance(instance_id).adapter.close()
    return True


def observation_space(ctx: Context, instance_id: Any) -> Any:
    """Describe the observation space."""
    return describe(ctx, ctx.instance(instance_id).adapter, "observation_space")


def action_space(ctx: Context, instance_id: Any) -> Any:
    """Describe the action space."""
    return describe(ctx, ctx.instance(instance_id).adapter, "action_space")


def action_sample(ctx: Context, instance_id: Any) -> Any:
    """Sample a random action from the env's action space."""
    return ctx.instance(instance_id).adapter.sample_action()


def render(ctx: Context, instance_id: Any) -> Any:
    """Return the env's render (a frame for ``render_mode="rgb_array"``)."""
    return ctx.instance(instance_id).adapter.render()
