"""gymie.compat over real OpenAI Gym 0.26 envs.

Gym 0.26 needs numpy<2, so this module runs only in its own venv (see setup.py's ``gym`` extra);
elsewhere it is skipped.
"""

from __future__ import annotations

from typing import Any

import pytest

gym = pytest.importorskip("gym")

import gymnasium  # noqa: E402
import numpy as np  # noqa: E402
from gymnasium import spaces  # noqa: E402

from gymie.compat import adapt, to_gymnasium_space  # noqa: E402

pytestmark = [
    # gym 0.26's env checker uses np.bool8, deprecated since NumPy 1.24.
    pytest.mark.filterwarnings("ignore:`np.bool8` is a deprecated alias:DeprecationWarning"),
]


def make(seed: int | None = None) -> Any:
    return adapt(gym.make("CartPole-v1"), seed=seed)


def test_gym_version() -> None:
    assert gym.__version__ == "0.26.2"


SPACE_CASES = [
    (gym.spaces.Discrete(5, start=2), spaces.Discrete(5, start=2)),
    (gym.spaces.Box(-1.0, 1.0, (3,)), spaces.Box(-1.0, 1.0, (3,), np.float32)),
    (gym.spaces.Box(0, 255, (4, 4), np.uint8), spaces.Box(0, 255, (4, 4), np.uint8)),
    (gym.spaces.MultiBinary(4), spaces.MultiBinary(4)),
    (gym.spaces.MultiBinary([2, 3]), spaces.MultiBinary([2, 3])),
    (gym.spaces.MultiDiscrete([3, 4]), spaces.MultiDiscrete([3, 4])),
    (
        gym.spaces.Tuple([gym.spaces.Discrete(2), gym.spaces.Box(0.0, 1.0, (2,))]),
        spaces.Tuple([spaces.Discrete(2), spaces.Box(0.0, 1.0, (2,))]),
    ),
    (
        gym.spaces.Dict({"b": gym.spaces.Discrete(2), "a": gym.spaces.MultiBinary(3)}),
        spaces.Dict({"a": spaces.MultiBinary(3), "b": spaces.Discrete(2)}),
    ),
    (gym.spaces.Text(8, min_length=2, charset="abc"), spaces.Text(8, min_length=2, charset="abc")),
    (gym.spaces.Sequence(gym.spaces.Discrete(3)), spaces.Sequence(spaces.Discrete(3))),
    (
        gym.spaces.Graph(gym.spaces.Box(0.0, 1.0, (2,)), gym.spaces.Discrete(3)),
        spaces.Graph(spaces.Box(0.0, 1.0, (2,)), spaces.Discrete(3)),
    ),
]


@pytest.mark.parametrize(("space", "expected"), SPACE_CASES, ids=lambda c: type(c).__name__)
def test_gym_spaces_convert_to_equal_gymnasium_spaces(space: Any, expected: gymnasium.Space[Any]) -> None:
    converted = to_gymnasium_space(space)
    assert isinstance(converted, gymnasium.Space) and type(converted) is type(expected)
    assert converted == expected


def test_cartpole_spaces_are_gymnasium_spaces() -> None:
    adapter = make()
    try:
        raw = adapter.env.observation_space
        assert isinstance(raw, gym.spaces.Box) and not isinstance(raw, gymnasium.Space)
        assert adapter.observation_space == spaces.Box(raw.low, raw.high, (4,), np.float32)
        assert adapter.action_space == spaces.Discrete(2)
    finally:
        adapter.close()


def test_reset_and_step_shapes() -> None:
    adapter = make()
    try:
        obs, info = adapter.reset(seed=1)
        assert obs.shape == (4,) and obs.dtype == np.float32 and info == {}
        assert adapter.observation_space.contains(obs)
        obs, reward, terminated, truncated, info = adapter.step(0)
        assert obs.shape == (4,) and reward == 1.0 and isinstance(info, dict)
        assert type(terminated) is bool and type(truncated) is bool
    finally:
        adapter.close()


def rollout(seed: int, actions: list[int]) -> list[np.ndarray]:
    adapter = make(seed)
    try:
        return [adapter.reset()[0]] + [adapter.step(action)[0] for action in actions]
    finally:
        adapter.close()


def test_same_seed_gives_identical_trajectories() -> None:
    actions = [0, 1, 1, 0, 1, 0, 0, 1]
    first, again, other = rollout(0, actions), rollout(0, actions), rollout(1, actions)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not any(np.array_equal(a, b) for a, b in zip(first, other, strict=True))


def test_sample_action_uses_gym_space_and_is_reproducible() -> None:
    def samples(seed: int) -> list[Any]:
        adapter = make(seed)
        try:
            return [adapter.sample_action() for _ in range(20)]
        finally:
            adapter.close()

    first = samples(0)
    assert first == samples(0) and first != samples(1)
    assert all(adapter_action in (0, 1) for adapter_action in first)


def test_full_episode_until_done() -> None:
    adapter = make(0)
    try:
        adapter.reset()
        terminated = truncated = False
        steps = 0
        while not (terminated or truncated):
            _, _, terminated, truncated, _ = adapter.step(adapter.sample_action())
            steps += 1
            assert steps <= 500
        assert terminated != truncated
        adapter.reset()  # gym's OrderEnforcing/PassiveEnvChecker accept a new episode
    finally:
        adapter.close()
