"""The vector-env methods of protocol 2: ``make_vec`` and the spaces of one sub-environment."""

from __future__ import annotations

import functools
from typing import Any

from gymie import dependencies, spaces, vector
from gymie.exceptions import InvalidParams, MissingDependency
from gymie.methods.context import Context, check_new_env, check_seed
from gymie.registry import Instance


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
    check_seed(seed)
    check_new_env(ctx, env_id, module_id=True)
    args = (env_id, num_envs, vectorization_mode, vector_kwargs or {}, kwargs, seed)
    try:
        adapter = ctx.backend.start(functools.partial(vector.make_adapter, *args))
    except MissingDependency as err:
        dependencies.report(err)
        raise
    return {
        "instance_id": ctx.envs.add(Instance(adapter.env, adapter, ctx.owner, f"{env_id} x{num_envs}")),
        "num_envs": adapter.num_envs,  # type: ignore[attr-defined]
        "vectorization_mode": adapter.vectorization_mode,  # type: ignore[attr-defined]
        "autoreset_mode": adapter.autoreset_mode,  # type: ignore[attr-defined]
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
