"""Envs for the hostile-client tests; importing registers them (a server loads them with --import).

- ``gymie-test/Big-v0``: ``side`` x ``side`` RGB uint8 observations (256 x 256 by default),
  Discrete(2) actions: big spaces and big observations, as a vector env makes them.
- ``gymie-test/Bomb-v0``: allocates ``gb`` GiB at ``reset`` (an allocation bomb in env code);
  ``reset`` with ``options={"raise": "..."}`` raises RuntimeError with that message (a bug).
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces


class BigEnv(gymnasium.Env[np.ndarray, int]):
    """Big frames, one action bit."""

    def __init__(self, side: int = 256) -> None:
        self.observation_space = spaces.Box(0, 255, (side, side, 3), np.uint8)
        self.action_space = spaces.Discrete(2)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        return np.zeros(self.observation_space.shape, np.uint8), {}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        return np.full(self.observation_space.shape, action, np.uint8), 0.0, False, False, {}


class BombEnv(gymnasium.Env[np.ndarray, int]):
    """Allocates ``gb`` GiB at each reset (and touches it), or raises when asked to."""

    def __init__(self, gb: float = 0.0) -> None:
        self.gb = gb
        self.observation_space = spaces.Box(-1, 1, (4,), np.float32)
        self.action_space = spaces.Discrete(2)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if options and "raise" in options:
            raise RuntimeError(str(options["raise"]))
        if self.gb:
            hoard = np.ones(int(self.gb * 2**30), np.uint8)
            del hoard
        return np.zeros(4, np.float32), {}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        return np.zeros(4, np.float32), 0.0, False, False, {}


for _name, _entry in (("Big", BigEnv), ("Bomb", BombEnv)):
    if f"gymie-test/{_name}-v0" not in gymnasium.registry:
        gymnasium.register(f"gymie-test/{_name}-v0", entry_point=_entry, disable_env_checker=True)
