"""Where a new env may run: the ``resources`` and ``num_shards`` params of ``make`` and ``make_vec``.

The methods check them against the operator's settings and hand the backend a plain placement;
only a backend that places envs (``--isolation ray``) accepts one.
"""

from __future__ import annotations

import math
from typing import Any

from gymie.envs import ShardingBackend
from gymie.exceptions import InvalidParams
from gymie.excerpts import excerpt
from gymie.methods.context import Context


def invalid(param: str, value: Any, why: str) -> InvalidParams:
    """An InvalidParams naming the parameter, its value and the reason."""
    return InvalidParams({param: value}, detail=f"{param}={excerpt(value, 60)}: {why}")


def check_resources(ctx: Context, resources: Any) -> dict[str, float] | None:
    """The validated ``resources`` (None when not given).

    Raises:
        InvalidParams: not a mapping of names to non-negative numbers, a name the operator did
            not allow (``--ray-resources-allowed``), or a backend that does not place envs.
    """
    if resources is None:
        return None
    if ctx.settings.isolation != "ray":
        raise invalid("resources", resources, "placing an env needs a server started with --isolation ray")
    if not isinstance(resources, dict) or not all(
        isinstance(name, str) and _quantity(value) for name, value in resources.items()
    ):
        raise invalid("resources", resources, "must map resource names to non-negative numbers")
    allowed = ctx.settings.ray_resources_allowed
    refused = sorted(set(resources) - set(allowed))
    if refused:
        offered = ", ".join(allowed) if allowed else "none"
        raise invalid(
            "resources", resources, f"{', '.join(refused)} not allowed (the server allows: {offered})"
        )
    return {name: float(value) for name, value in resources.items()}


def check_shards(ctx: Context, num_shards: Any, num_envs: int) -> int:
    """The validated ``num_shards`` (1 when not given).

    Raises:
        InvalidParams: not an int from 1 to ``num_envs``, or more than 1 where the backend
            cannot shard (anything but ``--isolation ray``).
    """
    if type(num_shards) is not int or not 1 <= num_shards <= num_envs:
        raise invalid("num_shards", num_shards, f"must be an integer from 1 to num_envs ({num_envs})")
    if num_shards > 1 and not isinstance(ctx.backend, ShardingBackend):
        raise invalid(
            "num_shards", num_shards, "sharding a vector env needs a server started with --isolation ray"
        )
    return num_shards


def shard_sizes(num_envs: int, num_shards: int) -> list[int]:
    """``num_envs`` split into ``num_shards`` near-equal parts, larger ones first: 10, 4 → 3, 3, 2, 2."""
    base, extra = divmod(num_envs, num_shards)
    return [base + (i < extra) for i in range(num_shards)]


def _quantity(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )
