"""The public methods, free of I/O: each takes a Context and params and returns a value.

How a result reaches the client is decided elsewhere: ``legacy_*`` functions give
the exact text frame gymie 0.5.4 sent, ``rpc_*`` the protocol-2 result object.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from enum import Enum
from typing import Any, NamedTuple

import gymnasium

from gymie import __version__, limits, spaces, vector
from gymie.codec import encode_json, jsonable
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


def _check_new_env(ctx: Context, env_id: str, module_id: bool) -> None:
    """Raise unless the operator allows ``env_id`` and a new env fits the limits."""
    if (module_id and not ctx.settings.module_id_allowed(env_id)) or not ctx.settings.env_allowed(env_id):
        raise EnvironmentNotAllowed(env_id)
    limits.check_new_env(ctx.envs, ctx.owner, ctx.settings)


def make(ctx: Context, env_id: Any, **kwargs: Any) -> str:
    """Instantiate an environment through ``get_env`` and register it; return its id."""
    params = {"env_id": env_id, **kwargs}
    if not isinstance(env_id, str):
        raise InvalidParams(params)
    _check_seed(kwargs.get("seed"))
    # Only gymnasium.make imports the module of a `module:Name` id; an overridden get_env decides alone.
    _check_new_env(ctx, env_id, module_id=ctx.overrides.is_default("get_env"))
    from gymie import workers  # the multiprocessing machinery loads on the first make

    isolated = ctx.settings.isolation == "process"
    try:
        if isolated:  # get_env and the adapter run in the worker; the proxy is both env and adapter
            factory = functools.partial(workers.make_adapter, ctx.overrides.get_env, env_id, kwargs)
            env = workers.launch(factory, ctx.settings)
        else:
            env = ctx.overrides.get_env(env_id, **kwargs)
    except GymieError as err:
        if err.subject is None:  # 0.5.4 overrides `raise EnvironmentNotFound` without the id
            raise type(err)(env_id) from err
        raise
    except TypeError as err:
        raise InvalidParams(params) from err
    adapter = env if isolated else adapt(env, seed=kwargs.get("seed"))
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


def _rpc_step(ctx: Context, result: StepResult) -> dict[str, Any]:
    # An overridden process_step (e.g. Unity's, which drops unencodable info) shapes both protocols.
    if ctx.overrides.is_default("process_step"):
        return result._asdict()
    obs, reward, _, info = ctx.overrides.process_step(legacy_step(result))
    return {**result._asdict(), "observation": obs, "reward": reward, "info": info}


def _identity(ctx: Context, result: Any) -> Any:
    return result


METHODS = MethodRegistry()
for _method in (
    # make's bare id and reset's bare observation are 0.5.4's text frames.
    Method("make", make, rpc=lambda ctx, r: {"instance_id": r}, legacy=lambda ctx, r: r),
    Method(
        "reset",
        reset,
        rpc=lambda ctx, r: {"observation": r[0], "info": r[1]},
        legacy=lambda ctx, r: encode_json(r[0]),
    ),
    Method("step", step, rpc=_rpc_step, legacy=_legacy_step_text),
    Method("close", close, rpc=_identity, legacy=_legacy_json),
    Method("observation_space", observation_space, rpc=_identity, legacy=_legacy_space),
    Method("action_space", action_space, rpc=_identity, legacy=_legacy_space),
    Method("action_sample", action_sample, rpc=_identity, legacy=_legacy_json),
    Method("render", render, rpc=_identity),
):
    METHODS.register(_method)


# -- protocol 2 only: vector envs, discovery --------------------------------


def make_vec(
    ctx: Context,
    env_id: Any,
    num_envs: Any = 1,
    vectorization_mode: Any = None,
    seed: Any = None,
    vector_kwargs: Any = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """Make a vector env with ``gymnasium.make_vec`` and register it; return its id and shape."""
    params = {"env_id": env_id, "num_envs": num_envs, "vectorization_mode": vectorization_mode, **kwargs}
    if not (
        isinstance(env_id, str)
        and type(num_envs) is int
        and num_envs >= 1
        and vectorization_mode in (None, *vector.MODES)
        and isinstance(vector_kwargs, (dict, type(None)))
        and "wrappers" not in kwargs
    ):
        raise InvalidParams(params)
    _check_seed(seed)
    _check_new_env(ctx, env_id, module_id=True)
    from gymie import workers  # the multiprocessing machinery loads on the first make

    args = (env_id, num_envs, vectorization_mode, vector_kwargs or {}, kwargs, seed)
    factory = functools.partial(vector.make_adapter, *args)
    isolated = ctx.settings.isolation == "process"  # a worker's proxy is both env and adapter
    adapter = workers.launch(factory, ctx.settings) if isolated else factory()
    return {
        "instance_id": ctx.envs.add(Instance(adapter.env, adapter, ctx.owner)),
        "num_envs": adapter.num_envs,
        "vectorization_mode": adapter.vectorization_mode,
        "autoreset_mode": adapter.autoreset_mode,
    }


def single_observation_space(ctx: Context, instance_id: Any) -> dict[str, Any]:
    """Describe the observation space of one sub-environment (a single env's own space)."""
    return spaces.describe(_single_spaces(ctx, instance_id)[0])


def single_action_space(ctx: Context, instance_id: Any) -> dict[str, Any]:
    """Describe the action space of one sub-environment (a single env's own space)."""
    return spaces.describe(_single_spaces(ctx, instance_id)[1])


def _single_spaces(ctx: Context, instance_id: Any) -> tuple[Any, Any]:
    adapter: Any = ctx.envs.instance(instance_id).adapter
    if vector.is_vector(adapter):
        return adapter.single_observation_space, adapter.single_action_space
    return adapter.observation_space, adapter.action_space


def env_info(ctx: Context, instance_id: Any) -> dict[str, Any]:
    """What a client needs to stand in for the env: its id, render mode, metadata, spec, batch size."""
    instance = ctx.envs.instance(instance_id)
    env, adapter = instance.env, instance.adapter
    spec = getattr(env, "spec", None)
    render_mode = getattr(env, "render_mode", None)
    info: dict[str, Any] = {
        "env_id": getattr(spec, "id", None),
        "render_mode": render_mode if isinstance(render_mode, str) else None,
        "metadata": plain_metadata(getattr(env, "metadata", None) or {}),
        "spec": None,
        "num_envs": None,
        "autoreset_mode": None,
    }
    if spec is not None:
        keys = ("id", "nondeterministic", "max_episode_steps", "reward_threshold")
        info["spec"] = plain_metadata({key: getattr(spec, key, None) for key in keys})
    if vector.is_vector(adapter):
        info["num_envs"] = getattr(adapter, "num_envs", None)
        info["autoreset_mode"] = getattr(adapter, "autoreset_mode", None)
    return info


def plain_metadata(metadata: Any) -> dict[str, Any]:
    """The JSON-able entries of an env's metadata (enums as their values); the rest is left out."""
    plain: dict[str, Any] = {}
    for key, value in dict(metadata).items():
        try:
            plain[str(key)] = jsonable(value.value if isinstance(value, Enum) else value)
        except TypeError:
            continue
    return plain


def list_envs(ctx: Context) -> list[str]:
    """The registered env ids this server would make, sorted (namespace packages such as ale_py included)."""
    from gymie.api import NAMESPACE_PACKAGES  # api imports this module

    vector.import_namespace(None, NAMESPACE_PACKAGES)
    allowed = ctx.settings.module_id_allowed, ctx.settings.env_allowed
    return sorted(env_id for env_id in gymnasium.registry if all(check(env_id) for check in allowed))


def server_info(ctx: Context) -> dict[str, Any]:
    """The server's version, protocols, encodings, WebSocket subprotocols, methods and limits."""
    from gymie.core import SUBPROTOCOLS  # core imports this module

    return {
        "version": __version__,
        "protocols": ["gymie-0.5.4", "jsonrpc-2.0"],
        "encodings": ["json", "msgpack"],
        "subprotocols": list(SUBPROTOCOLS),
        "methods": sorted(METHODS),
        "limits": _operator_limits(ctx.settings),
    }


def _operator_limits(settings: Settings) -> dict[str, Any]:
    """The operator's numeric limits: every ``max_*`` and ``*_timeout`` setting (never secrets)."""
    found: dict[str, Any] = {}
    for field in dataclasses.fields(settings):
        value = getattr(settings, field.name)
        numeric = value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))
        if numeric and (field.name.startswith("max_") or field.name.endswith("_timeout")):
            found[field.name] = value
    return found


for _method in (
    Method("make_vec", make_vec, rpc=_identity),
    Method("single_observation_space", single_observation_space, rpc=_identity),
    Method("single_action_space", single_action_space, rpc=_identity),
    Method("env_info", env_info, rpc=_identity),
    Method("list_envs", list_envs, rpc=_identity),
    Method("server_info", server_info, rpc=_identity),
):
    METHODS.register(_method)
