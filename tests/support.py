"""Small test environments: one per space type, and one that fails on demand.

Importing this module registers them with Gymnasium as ``gymie-test/<Name>-v0``, so a
server started with ``--import tests.support`` can make them too.
"""

from __future__ import annotations

import time
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

from gymie import api
from gymie.backends.local import LocalBackend
from gymie.core import Dispatcher
from gymie.registry import EnvRegistry, OverrideRegistry
from gymie.settings import Settings

SPACES: dict[str, spaces.Space[Any]] = {
    "Discrete": spaces.Discrete(3, start=-1),
    "Box": spaces.Box(-np.inf, np.inf, (2, 3), np.float64),
    "BoxUint8": spaces.Box(0, 255, (4, 4, 3), np.uint8),
    "MultiBinary": spaces.MultiBinary([2, 3]),
    "MultiDiscrete": spaces.MultiDiscrete([3, 4], start=[1, -2]),
    "Tuple": spaces.Tuple((spaces.Discrete(2), spaces.Box(-1, 1, (2,)))),
    "Dict": spaces.Dict({"pos": spaces.Box(-1, 1, (2,)), "id": spaces.Discrete(5)}),
    "Text": spaces.Text(max_length=8, min_length=1),
    "Sequence": spaces.Sequence(spaces.Discrete(4)),
    "Graph": spaces.Graph(spaces.Box(-1, 1, (2,)), spaces.Discrete(3)),
    "OneOf": spaces.OneOf((spaces.Discrete(2), spaces.Box(-1, 1, (2,)))),
}


class SpaceEnv(gymnasium.Env[Any, Any]):
    """Observations and actions both of one space; the episode ends after ``length`` steps."""

    def __init__(self, space: str = "Discrete", length: int = 3) -> None:
        self.observation_space = SPACES[space]
        self.action_space = SPACES[space]
        self.length = length
        self.steps = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        self.observation_space.seed(int(self.np_random.integers(2**31)))
        self.steps = 0
        return self.observation_space.sample(), {"space": type(self.observation_space).__name__}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        assert self.action_space.contains(action), f"{action!r} not in {self.action_space}"
        self.steps += 1
        return self.observation_space.sample(), 0.5, self.steps >= self.length, False, {"action_ok": True}


class FaultyEnv(gymnasium.Env[np.ndarray, int]):
    """A CartPole-shaped env that raises (or records) at the stage named by ``fail_on``."""

    closed: list[int] = []

    def __init__(self, fail_on: str = "", sleep: float = 0.0) -> None:
        if fail_on == "make":
            raise RuntimeError("boom in make")
        self.fail_on = fail_on
        self.sleep = sleep
        self.observation_space = spaces.Box(-1, 1, (4,), np.float32)
        self.action_space = spaces.Discrete(2)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if self.fail_on == "reset":
            raise RuntimeError("boom in reset")
        return np.zeros(4, np.float32), {}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self.fail_on == "step":
            raise RuntimeError("boom in step")
        if self.sleep:
            time.sleep(self.sleep)
        return np.ones(4, np.float32), 1.0, False, False, {"nan": float("nan"), "np": np.float32(2.5)}

    def close(self) -> None:
        FaultyEnv.closed.append(id(self))
        if self.fail_on == "close":
            raise RuntimeError("boom in close")


class ImageEnv(gymnasium.Env[np.ndarray, int]):
    """Atari-sized frames (210x160x3 uint8) whose rows repeat, as a game's do: :func:`image` at each step."""

    def __init__(self) -> None:
        self.observation_space = spaces.Box(0, 255, (210, 160, 3), np.uint8)
        self.action_space = spaces.Discrete(6)
        self.steps = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self.steps = 0
        return image(0), {}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        self.steps += 1
        return image(self.steps + action), -1.0, False, self.steps >= 5, {"lives": 3}


def image(t: int) -> np.ndarray:
    """Frame ``t`` of :class:`ImageEnv`: a few distinct rows, in an order that depends on ``t``."""
    rows = (np.arange(210)[:, None] * 7 + t) % 5 * np.array([50, 30, 10])[None, :]
    return np.repeat(rows[:, None, :], 160, axis=1).astype(np.uint8)


def new_dispatcher(settings: Settings | None = None) -> Dispatcher:
    """A Dispatcher of its own, with the default factories, envs in this process."""
    overrides = OverrideRegistry(get_env=api.get_env, process_step=api.process_step)
    return Dispatcher(EnvRegistry(), overrides, settings or Settings(), backend=LocalBackend())


NEEDS_MISSING = "gymie-test/NeedsMissing-v0"


def register() -> None:
    """Register the test envs (idempotent)."""
    for name in SPACES:
        env_id = f"gymie-test/{name}-v0"
        if env_id not in gymnasium.registry:
            gymnasium.register(env_id, entry_point=SpaceEnv, kwargs={"space": name}, disable_env_checker=True)
    if "gymie-test/Faulty-v0" not in gymnasium.registry:
        gymnasium.register("gymie-test/Faulty-v0", entry_point=FaultyEnv, disable_env_checker=True)
    if "gymie-test/Image-v0" not in gymnasium.registry:
        gymnasium.register("gymie-test/Image-v0", entry_point=ImageEnv, disable_env_checker=True)
    if NEEDS_MISSING not in gymnasium.registry:  # a third-party env whose package is not installed
        gymnasium.register(NEEDS_MISSING, entry_point="gymie_test_not_installed.envs:Game")


register()
