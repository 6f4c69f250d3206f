"""How results reach a 0.5.4 (legacy) client: the exact text frames gymie 0.5.4 sent."""

from __future__ import annotations

from typing import Any

from gymie import spaces
from gymie.codec import Frame, encode_json, encode_json_frame
from gymie.encoded import Encoded
from gymie.envs import Step
from gymie.methods.context import Context, StepResult


def legacy_step(result: StepResult) -> Step:
    """Gymnasium's five-tuple as old Gym's four: ``done``, and ``TimeLimit.truncated`` once it ends."""
    obs, reward, terminated, truncated, info = result
    done = terminated or truncated
    if done:
        info = {**info, "TimeLimit.truncated": truncated and not terminated}
    return obs, reward, done, info


def instance_id(ctx: Context, result: str) -> str:
    """``make``: the bare id, not JSON-quoted."""
    return result


def observation(ctx: Context, result: tuple[Any, dict[str, Any]]) -> str | Frame:
    """``reset``: the bare observation (a large one as a text Frame of pieces)."""
    return encode_json_frame(result[0])


def step(ctx: Context, result: StepResult) -> str | Frame:
    """``step``: ``[observation, reward, done, info]`` after ``process_step``."""
    return encode_json_frame(ctx.overrides.process_step(legacy_step(result)))


def space(ctx: Context, result: dict[str, Any] | Encoded) -> str:
    """A space description, infinite bounds as the dtype's largest finite values.

    A worker describes its env's spaces itself, in this very form (an Encoded text).
    """
    if isinstance(result, Encoded):
        return str(result.data)
    return encode_json(spaces.finite_bounds(result))


def value(ctx: Context, result: Any) -> str:
    """Any other result as JSON."""
    return encode_json(result)
