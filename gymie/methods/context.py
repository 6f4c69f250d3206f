"""What every method is given: the :class:`Context`, and the checks methods share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from gymie.envs import Backend
from gymie.exceptions import EnvironmentNotAllowed, InvalidParams
from gymie.registry import EnvRegistry, OverrideRegistry
from gymie.settings import Settings


@dataclass
class Context:
    """What a method may touch: the registries, the backend, the operator's settings, and who asks."""

    envs: EnvRegistry
    overrides: OverrideRegistry
    settings: Settings
    backend: Backend
    owner: int | None = None
    methods: Mapping[str, Any] = field(default_factory=dict)
    """The public methods by name (``server_info`` lists them)."""


class StepResult(NamedTuple):
    """One Gymnasium step."""

    observation: Any
    reward: Any
    terminated: bool
    truncated: bool
    info: dict[str, Any]


def check_seed(seed: Any) -> None:
    """Raise InvalidParams unless ``seed`` is None or a non-negative int."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise InvalidParams({"seed": seed})


def check_new_env(ctx: Context, env_id: str, module_id: bool) -> None:
    """Raise unless the operator allows ``env_id`` and a new env fits the limits."""
    if (module_id and not ctx.settings.module_id_allowed(env_id)) or not ctx.settings.env_allowed(env_id):
        raise EnvironmentNotAllowed(env_id)
    ctx.envs.check_room(ctx.owner, ctx.settings)
