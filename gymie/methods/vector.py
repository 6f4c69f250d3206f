"""The vector-env methods of protocol 2: ``make_vec`` and the spaces of one sub-environment."""

from __future__ import annotations

import functools
from typing import Any

from gymie import dependencies, vector
from gymie.envs import ShardingBackend
from gymie.exceptions import InvalidParams, MissingDependency
from gymie.excerpts import excerpt
from gymie.methods.context import Context, add_instance, check_make, describe, new_env_slot
from gymie.methods.placement import check_resources, check_shards, shard_sizes


def make_vec(
    ctx: Context,
    env_id: Any,
    num_envs: Any = 1,
    vectorization_mode: Any = None,
    seed: Any = None,
    vector_kwargs: Any = None,
    *,
    num_shards: Any = 1,
    resources: Any = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """Make a vector env with ``gymnasium.make_vec`` and register it; return its id and shape.

    An ``async`` vector env starts ``num_envs`` processes: they count against ``max_workers``.
    ``num_shards`` > 1 (``--isolation ray``) splits the sub-envs over that many vector envs, each
    in its own place, stepped in parallel; ``resources`` is what each place must offer.
    """
    params = {"env_id": env_id, "num_envs": num_envs, "vectorization_mode": vectorization_mode, **kwargs}
    _check(ctx, params, vector_kwargs)
    check_make(ctx, "make_vec", params, seed, {"vector_kwargs": vector_kwargs, **kwargs})
    placement = check_resources(ctx, resources)
    num_shards = check_shards(ctx, num_shards, num_envs)
    processes = (num_envs if vectorization_mode == "async" else 0) + num_shards - 1
    slot = new_env_slot(ctx, env_id, module_id=True, processes=processes)
    try:
        factories, offset = [], 0
        for size in shard_sizes(num_envs, num_shards):  # sub-env j of a shard is sub-env offset + j
            shard_seed = None if seed is None else seed + offset
            args = (env_id, size, vectorization_mode, vector_kwargs or {}, kwargs, shard_seed)
            factories.append(functools.partial(vector.make_adapter, *args))
            offset += size
        if num_shards == 1:
            adapter = ctx.backend.start(factories[0], resources=placement)
        else:
            assert isinstance(ctx.backend, ShardingBackend)  # check_shards made sure
            adapter = ctx.backend.start_shards(factories, resources=placement)
        return {
            "instance_id": add_instance(ctx, adapter, slot, f"{env_id} x{num_envs}"),
            "num_envs": adapter.num_envs,  # type: ignore[attr-defined]
            "vectorization_mode": adapter.vectorization_mode,  # type: ignore[attr-defined]
            "autoreset_mode": adapter.autoreset_mode,  # type: ignore[attr-defined]
        }
    except MissingDependency as err:
        dependencies.report(err)
        raise
    finally:
        ctx.envs.release(slot)


def _check(ctx: Context, params: dict[str, Any], vector_kwargs: Any) -> None:
    """Raise InvalidParams, naming the parameter, unless the params have the right types and ranges."""
    most = ctx.settings.max_num_envs
    env_id, num_envs, mode = params["env_id"], params["num_envs"], params["vectorization_mode"]
    problem = None
    if not isinstance(env_id, str):
        problem = f"env_id must be a string, got {excerpt(env_id, 40)}"
    elif type(num_envs) is not int or not 1 <= num_envs <= most:
        got = excerpt(num_envs, 40)
        problem = f"num_envs must be an integer from 1 to {most} (--max-num-envs), got {got}"
    elif mode not in (None, *vector.MODES):
        modes = ", ".join(vector.MODES)
        problem = f"vectorization_mode must be one of {modes} or null, got {excerpt(mode, 40)}"
    elif not isinstance(vector_kwargs, (dict, type(None))):
        problem = f"vector_kwargs must be an object or null, got {excerpt(vector_kwargs, 40)}"
    elif "wrappers" in params:
        problem = "wrappers cannot be sent: they are Python callables"
    if problem is not None:
        raise InvalidParams(params, detail=problem)


def single_observation_space(ctx: Context, instance_id: Any) -> Any:
    """Describe the observation space of one sub-environment (a single env's own space)."""
    return describe(ctx, *_single(ctx, instance_id, "observation_space"))


def single_action_space(ctx: Context, instance_id: Any) -> Any:
    """Describe the action space of one sub-environment (a single env's own space)."""
    return describe(ctx, *_single(ctx, instance_id, "action_space"))


def _single(ctx: Context, instance_id: Any, name: str) -> tuple[Any, str]:
    adapter: Any = ctx.instance(instance_id).adapter
    return adapter, f"single_{name}" if vector.is_vector(adapter) else name
