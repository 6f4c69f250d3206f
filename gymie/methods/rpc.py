"""How results reach a JSON-RPC (protocol 2) client: the ``result`` member of each reply."""

from __future__ import annotations

from typing import Any

from gymie.methods.context import Context, StepResult
from gymie.methods.legacy import legacy_step


def instance_id(ctx: Context, result: str) -> dict[str, Any]:
    """``make``: ``{"instance_id": ...}``."""
    return {"instance_id": result}


def reset(ctx: Context, result: tuple[Any, dict[str, Any]]) -> dict[str, Any]:
    """``reset``: ``{"observation", "info"}``."""
    return {"observation": result[0], "info": result[1]}


def step(ctx: Context, result: StepResult) -> dict[str, Any]:
    """``step``: the five Gymnasium fields by name."""
    # An overridden process_step (e.g. Unity's, which drops unencodable info) shapes both protocols.
    if ctx.overrides.is_default("process_step"):
        return result._asdict()
    obs, reward, _, info = ctx.overrides.process_step(legacy_step(result))
    return {**result._asdict(), "observation": obs, "reward": reward, "info": info}


def identity(ctx: Context, result: Any) -> Any:
    """The result as it is."""
    return result
