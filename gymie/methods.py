"""The public methods, free of I/O: each takes a Context and params and returns a value.

How a result reaches the client is decided elsewhere: ``legacy_*`` functions give
the exact text frame gymie 0.5.4 sent, ``rpc_*`` the protocol-2 result object.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from gymie import spaces
from gymie.codec import encode_json
from gymie.compat import adapt
from gymie.exceptions import (
    EnvironmentNotAllowed,
    GymieError,
    InvalidParams,
    WrongAction,
)
from gymie.registry import EnvRegistry, Instance, Method, MethodRegistry, OverrideRegistry
from gymie.settings import Settings


@dataclass
class Context:
    """What a method may touch: the registries, the operator's settings, and who is asking."""

    envs: EnvRegistry
    overrides: OverrideRegistry
    settings: Settings
    owner: int | None = None


class StepResult(NamedTuple):
    """One Gymnasium step."""

    observation: Any
    reward: Any
    terminated: bool
    truncated: bool
    info: dict[str, Any]


def _check_seed(seed: Any) -> None:
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise InvalidParams({"seed": seed})


def make(ctx: Context, env_id: Any, **kwargs: Any) -> str:
    """Instantiate an environment through ``get_env`` and register it; return its id."""
    params = {"env_id": env_id, **kwargs}
    if not isinstance(env_id, str):
        raise InvalidParams(params)
    _check_seed(kwargs.get("seed"))
    module_ok = not ctx.overrides.is_default("get_env") or ctx.settings.module_id_allowed(env_id)
    if not (module_ok and ctx.settings.env_allowed(env_id)):
        raise EnvironmentNotAllowed(env_id)
    try:
        env = ctx.overrides.get_env(env_id, **kwargs)
    except GymieError as err:
        if err.subject is None:  # 0.5.4 overrides `raise EnvironmentNotFound` without the id
            raise type(err)(env_id) from err
        raise
    except TypeError as err:
        raise InvalidParams(params) from err
    adapter = adapt(env, seed=kwargs.get("seed"))
    return ctx.envs.add(Instance(env, adapter, ctx.owner))


def reset(
    ctx: Context, instance_id: Any, seed: int | None = None, options: dict[str, Any] | None = None
) -> tuple[Any, dict[str, Any]]:
    """Reset the environment; return ``(observation, info)``."""
    _check_seed(seed)
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


def legacy_step(result: StepResult) -> tuple[Any, Any, bool, dict[str, Any]]:
    """Gymnasium's five-tuple as old Gym's four: ``done``, and ``TimeLimit.truncated`` once it ends."""
    obs, reward, terminated, truncated, info = result
    done = terminated or truncated
    if done:
        info = {**info, "TimeLimit.truncated": truncated and not terminated}
    return obs, reward, done, info


def _legacy_step_text(ctx: Context, result: StepResult) -> str:
    return encode_json(ctx.overrides.process_step(legacy_step(result)))


def _legacy_json(ctx: Context, result: Any) -> str:
    return encode_json(result)


def _legacy_space(ctx: Context, result: dict[str, Any]) -> str:
    return encode_json(spaces.finite_bounds(result))


def _identity(result: Any) -> Any:
    return result


METHODS = MethodRegistry()
for _method in (
    # make's bare id and reset's bare observation are 0.5.4's text frames.
    Method("make", make, rpc=lambda r: {"instance_id": r}, legacy=lambda ctx, r: r),
    Method(
        "reset",
        reset,
        rpc=lambda r: {"observation": r[0], "info": r[1]},
        legacy=lambda ctx, r: encode_json(r[0]),
    ),
    Method("step", step, rpc=lambda r: r._asdict(), legacy=_legacy_step_text),
    Method("close", close, rpc=_identity, legacy=_legacy_json),
    Method("observation_space", observation_space, rpc=_identity, legacy=_legacy_space),
    Method("action_space", action_space, rpc=_identity, legacy=_legacy_space),
    Method("action_sample", action_sample, rpc=_identity, legacy=_legacy_json),
    Method("render", render, rpc=_identity),
):
    METHODS.register(_method)
