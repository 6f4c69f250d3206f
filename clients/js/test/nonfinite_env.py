"""A test env for gymie-client: Dict observations holding NaN and infinities, a Tuple action space.

The JS tests start the server with ``--import nonfinite_env`` (this folder on PYTHONPATH).
"""

import math

import gymnasium
import numpy as np
from gymnasium import spaces


class NonFiniteEnv(gymnasium.Env):  # type: ignore[type-arg]
    """Observes ``{"pos": [nan, inf, -inf], "mode": 1}``; rewards ``-inf``; checks its actions."""

    observation_space = spaces.Dict(
        {"pos": spaces.Box(-np.inf, np.inf, (3,), dtype=np.float64), "mode": spaces.Discrete(3)}
    )
    action_space = spaces.Tuple((spaces.Discrete(2), spaces.Box(-1.0, 1.0, (2,), dtype=np.float32)))

    def _obs(self):
        return {"pos": np.array([math.nan, math.inf, -math.inf]), "mode": 1}

    def reset(self, *, seed=None, options=None):  # noqa: D102
        super().reset(seed=seed)
        return self._obs(), {}

    def step(self, action):  # noqa: D102
        assert self.action_space.contains(action), action
        return self._obs(), -math.inf, False, False, {"nan": math.nan, "label": "NaN"}


gymnasium.register("NonFinite-v0", entry_point=NonFiniteEnv)
