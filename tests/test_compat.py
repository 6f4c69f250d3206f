"""Tests for gymie.compat: Gymnasium, gym-like and stand-in envs through the adapter."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Any

import gymnasium
import numpy as np
import pytest
from gymnasium import spaces

from gymie.compat import EnvAdapter, adapt, to_gymnasium_space

# --- Look-alike spaces: same class names and attributes as gym's, but not Gymnasium classes. ---


class Discrete:
    def __init__(self, n: int, start: int = 0) -> None:
        self.n, self.start = n, start
        self.shape: tuple[int, ...] = ()
        self.dtype = np.dtype(np.int64)
        self._rng = random.Random()

    def seed(self, seed: int | None = None) -> None:
        self._rng.seed(seed)

    def sample(self) -> int:
        # A plain int, unlike Gymnasium's np.int64: shows which space sampled.
        return self.start + self._rng.randrange(self.n)


class Box:
    def __init__(self, low: float, high: float, shape: tuple[int, ...], dtype: Any = np.float32) -> None:
        self.low = np.full(shape, low, dtype=dtype)
        self.high = np.full(shape, high, dtype=dtype)
        self.shape, self.dtype = shape, np.dtype(dtype)
        self._rng = np.random.default_rng()

    def seed(self, seed: int | None = None) -> None:
        self._rng = np.random.default_rng(seed)

    def sample(self) -> np.ndarray:
        return self._rng.uniform(self.low, self.high).astype(self.dtype)


def fake(name: str, **attrs: Any) -> Any:
    """An instance of a fresh class called `name` carrying `attrs`."""
    return type(name, (), attrs)()


# --- Gym-like envs (GenericTestEnv style: behaviour injected as functions). ---

StepFunc = Callable[["LegacyEnv", Any], tuple[Any, ...]]


def legacy_step(env: LegacyEnv, action: Any) -> tuple[Any, ...]:
    env.t += 1
    done = env.t >= env.max_steps
    info = {"TimeLimit.truncated": True} if done and env.truncate else {"t": env.t}
    return env.observe(), 1.0, done, info


class LegacyEnv:
    """Gym <= 0.25 style: obs-only reset(), 4-tuple step, seed(), look-alike spaces."""

    def __init__(self, max_steps: int = 5, truncate: bool = False, step_func: StepFunc = legacy_step) -> None:
        self.observation_space = Box(-1.0, 1.0, (3,))
        self.action_space = Discrete(2)
        self.max_steps, self.truncate, self.step_func = max_steps, truncate, step_func
        self.seeds: list[int | None] = []
        self.closed = False
        self.t = 0
        self._rng = np.random.default_rng()

    def seed(self, seed: int | None = None) -> list[int | None]:
        self.seeds.append(seed)
        self._rng = np.random.default_rng(seed)
        return [seed]

    def observe(self) -> np.ndarray:
        return self._rng.uniform(-1, 1, 3).astype(np.float32)

    def reset(self) -> np.ndarray:
        self.t = 0
        return self.observe()

    def step(self, action: Any) -> tuple[Any, ...]:
        return self.step_func(self, action)

    def render(self) -> str:
        return f"frame {self.t}"

    def close(self) -> None:
        self.closed = True


class NoSeedEnv(LegacyEnv):
    seed = None  # type: ignore[assignment]  # hides LegacyEnv.seed: no seeding at all


class UnityToGymWrapper:
    """Stand-in for mlagents_envs' UnityToGymWrapper: old API, no real seeding, numpy rewards."""

    def __init__(self, episode_length: int = 4) -> None:
        self.name = "Basic"
        self.observation_space = Box(-np.inf, np.inf, (210,))
        self.action_space = Discrete(3)
        self.episode_length = episode_length
        self.t = 0

    def seed(self, seed: Any = None) -> None:
        logging.getLogger("mlagents_envs").warning("Could not seed environment %s", self.name)

    def reset(self) -> np.ndarray:
        self.t = 0
        return np.zeros(210, dtype=np.float32)

    def step(self, action: Any) -> tuple[Any, ...]:
        self.t += 1
        done = np.bool_(self.t >= self.episode_length)
        return np.full(210, self.t, dtype=np.float32), np.float32(0.5), done, {"step": self.t}

    def render(self) -> np.ndarray:
        return np.zeros((84, 84, 3), dtype=np.uint8)

    def close(self) -> None:
        pass


class TupleObsEnv(LegacyEnv):
    """Old API whose observation is a 2-tuple ending in a dict: must not be read as (obs, info)."""

    def __init__(self) -> None:
        super().__init__()
        self.observation_space = fake("Tuple", spaces=(Discrete(4), fake("Dict", spaces={"x": Discrete(2)})))

    def reset(self) -> Any:
        return (1, {"x": 0})


class NewApiLookalike(LegacyEnv):
    """Not a Gymnasium class, but reset(seed=, options=) -> (obs, info) and a 5-tuple step."""

    def __init__(self) -> None:
        super().__init__()
        self.reset_kwargs: list[dict[str, Any]] = []

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
        self.reset_kwargs.append({"seed": seed, "options": options})
        return super().reset(), {"options": options}

    def step(self, action: Any) -> tuple[Any, ...]:
        obs, reward, done, info = super().step(action)
        return obs, reward, np.bool_(done), np.bool_(False), None


# --- to_gymnasium_space ---

SPACE_CASES = [
    (Discrete(5, start=2), spaces.Discrete(5, start=2)),
    (fake("Discrete", n=3), spaces.Discrete(3)),
    (Box(-1.0, 1.0, (3,)), spaces.Box(-1.0, 1.0, (3,), np.float32)),
    (Box(0, 255, (4, 4), np.uint8), spaces.Box(0, 255, (4, 4), np.uint8)),
    (fake("MultiBinary", n=4), spaces.MultiBinary(4)),
    (fake("MultiBinary", n=np.array([2, 3])), spaces.MultiBinary([2, 3])),
    (fake("MultiDiscrete", nvec=np.array([3, 4])), spaces.MultiDiscrete([3, 4])),
    (
        fake("MultiDiscrete", nvec=np.array([3, 4]), start=np.array([1, -1]), dtype=np.dtype(np.int32)),
        spaces.MultiDiscrete([3, 4], start=[1, -1], dtype=np.int32),
    ),
    (
        fake("Tuple", spaces=(Discrete(2), Box(0.0, 1.0, (2,)))),
        spaces.Tuple([spaces.Discrete(2), spaces.Box(0.0, 1.0, (2,))]),
    ),
    (
        fake("Text", max_length=8, min_length=2, character_set=frozenset("ab")),
        spaces.Text(8, min_length=2, charset="ab"),
    ),
    (fake("Sequence", feature_space=Discrete(3)), spaces.Sequence(spaces.Discrete(3))),
    (
        fake("Sequence", feature_space=Discrete(3), stack=True),
        spaces.Sequence(spaces.Discrete(3), stack=True),
    ),
    (
        fake("Graph", node_space=Box(0.0, 1.0, (2,)), edge_space=None),
        spaces.Graph(spaces.Box(0.0, 1.0, (2,)), None),
    ),
    (
        fake("Graph", node_space=Discrete(3), edge_space=Discrete(2)),
        spaces.Graph(spaces.Discrete(3), spaces.Discrete(2)),
    ),
    (
        fake("OneOf", spaces=(Discrete(2), Discrete(3))),
        spaces.OneOf([spaces.Discrete(2), spaces.Discrete(3)]),
    ),
]


@pytest.mark.parametrize(("space", "expected"), SPACE_CASES, ids=lambda c: type(c).__name__)
def test_lookalike_spaces_convert_to_equal_gymnasium_spaces(
    space: Any, expected: gymnasium.Space[Any]
) -> None:
    converted = to_gymnasium_space(space)
    assert type(converted) is type(expected)
    assert converted == expected


def test_dict_space_keeps_source_key_order() -> None:
    converted = to_gymnasium_space(fake("Dict", spaces={"z": Discrete(2), "a": Box(0.0, 1.0, (1,))}))
    assert isinstance(converted, spaces.Dict)
    assert list(converted.spaces) == ["z", "a"]
    assert converted["a"] == spaces.Box(0.0, 1.0, (1,))


def test_gymnasium_spaces_pass_through() -> None:
    space = spaces.Dict({"a": spaces.Discrete(2)})
    assert to_gymnasium_space(space) is space


def test_subclass_of_a_lookalike_is_converted_by_its_base_name() -> None:
    class ScreenBox(Box):
        pass

    assert to_gymnasium_space(ScreenBox(0, 1, (2,))) == spaces.Box(0, 1, (2,), np.float32)


def test_unknown_space_raises_not_implemented() -> None:
    with pytest.raises(NotImplementedError, match="Weird"):
        to_gymnasium_space(fake("Weird", n=3))


# --- Gymnasium pass-through and seeding ---


def rollout(seed: int | None, actions: list[int]) -> list[np.ndarray]:
    adapter = adapt(gymnasium.make("CartPole-v1"), seed=seed)
    try:
        observations = [adapter.reset()[0]]
        observations += [adapter.step(action)[0] for action in actions]
        return observations
    finally:
        adapter.close()


def test_same_seed_gives_identical_cartpole_trajectories() -> None:
    actions = [0, 1, 1, 0, 1, 0, 0, 1]
    first, again, other = rollout(0, actions), rollout(0, actions), rollout(1, actions)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(first[0], other[0])
    assert not any(np.array_equal(a, b) for a, b in zip(first, other, strict=True))


def test_seed_zero_is_honoured() -> None:
    reference = gymnasium.make("CartPole-v1")
    adapter = adapt(gymnasium.make("CartPole-v1"), seed=0)
    try:
        assert np.array_equal(adapter.reset()[0], reference.reset(seed=0)[0])
    finally:
        adapter.close()
        reference.close()


def test_pending_seed_applies_once_and_explicit_seed_wins() -> None:
    adapter = adapt(gymnasium.make("CartPole-v1"), seed=0)
    seeded = adapt(gymnasium.make("CartPole-v1"), seed=0)
    try:
        first = adapter.reset()[0]
        assert not np.array_equal(adapter.reset()[0], first)
        assert not np.array_equal(seeded.reset(seed=7)[0], first)
        assert np.array_equal(adapter.reset(seed=7)[0], seeded.reset(seed=7)[0])
    finally:
        adapter.close()
        seeded.close()


def test_gymnasium_env_passes_through() -> None:
    env = gymnasium.make("CartPole-v1")
    adapter = adapt(env)
    try:
        assert adapter.env is env
        assert adapter.observation_space is env.observation_space
        assert adapter.action_space is env.action_space
        obs, info = adapter.reset(seed=3, options=None)
        assert obs.shape == (4,) and isinstance(info, dict)
        obs, reward, terminated, truncated, info = adapter.step(0)
        assert obs.shape == (4,) and reward == 1.0
        assert type(terminated) is bool and type(truncated) is bool and isinstance(info, dict)
    finally:
        adapter.close()


def test_cartpole_episode_runs_until_terminated() -> None:
    adapter = adapt(gymnasium.make("CartPole-v1"), seed=0)
    try:
        adapter.reset()
        for steps in range(1, 501):  # noqa: B007
            _, _, terminated, truncated, _ = adapter.step(0)
            if terminated or truncated:
                break
        assert terminated and not truncated and steps < 50
    finally:
        adapter.close()


def test_sample_action_is_reproducible_with_a_seed() -> None:
    def samples(seed: int) -> list[Any]:
        adapter = adapt(gymnasium.make("CartPole-v1"), seed=seed)
        try:
            return [adapter.sample_action() for _ in range(20)]
        finally:
            adapter.close()

    assert samples(0) == samples(0)
    assert samples(0) != samples(1)


def test_adapt_reuses_an_adapter_unless_seeded() -> None:
    env = LegacyEnv()
    adapter = adapt(env)
    assert isinstance(adapter, EnvAdapter)
    assert adapt(adapter) is adapter
    reseeded = adapt(adapter, seed=4)
    assert reseeded is not adapter and reseeded.env is env


# --- Old gym-like API ---


def test_legacy_env_spaces_are_converted() -> None:
    adapter = adapt(LegacyEnv())
    assert adapter.observation_space == spaces.Box(-1.0, 1.0, (3,), np.float32)
    assert adapter.action_space == spaces.Discrete(2)


def test_legacy_reset_returns_obs_and_empty_info() -> None:
    obs, info = adapt(LegacyEnv()).reset()
    assert obs.shape == (3,) and info == {}


def test_legacy_pending_seed_goes_through_env_seed() -> None:
    env, twin = LegacyEnv(), LegacyEnv()
    adapter = adapt(env, seed=0)
    obs, _ = adapter.reset()
    assert env.seeds == [0]
    assert np.array_equal(obs, adapt(twin, seed=0).reset()[0])
    adapter.reset()
    adapter.reset(seed=5, options={"ignored": True})
    assert env.seeds == [0, 5]


def test_legacy_sample_action_uses_the_original_space() -> None:
    def samples(seed: int) -> list[Any]:
        adapter = adapt(LegacyEnv(), seed=seed)
        return [adapter.sample_action() for _ in range(20)]

    first = samples(0)
    assert all(type(action) is int for action in first)
    assert first == samples(0) and first != samples(1)


def test_legacy_step_until_done_is_terminated() -> None:
    adapter = adapt(LegacyEnv(max_steps=2))
    adapter.reset()
    assert adapter.step(0)[1:] == (1.0, False, False, {"t": 1})
    obs, reward, terminated, truncated, info = adapter.step(1)
    assert (terminated, truncated) == (True, False)


def test_legacy_time_limit_is_truncated() -> None:
    adapter = adapt(LegacyEnv(max_steps=1, truncate=True))
    adapter.reset()
    _, _, terminated, truncated, info = adapter.step(0)
    assert (terminated, truncated) == (False, True)
    assert info == {"TimeLimit.truncated": True}


def test_time_limit_flag_before_done_is_not_truncation() -> None:
    env = LegacyEnv(step_func=lambda env, action: (0, 0.0, False, {"TimeLimit.truncated": True}))
    assert adapt(env).step(0)[2:4] == (False, False)


def test_legacy_info_is_copied_and_none_becomes_empty() -> None:
    info = {"a": 1}
    copied = adapt(LegacyEnv(step_func=lambda env, action: (0, 0.0, False, info))).step(0)[4]
    assert copied == info and copied is not info
    assert adapt(LegacyEnv(step_func=lambda env, action: (0, 0.0, True, None))).step(0)[4] == {}


def test_numpy_flags_become_python_bools() -> None:
    env = LegacyEnv(step_func=lambda env, action: (0, 0.0, np.bool_(True), {}))
    _, _, terminated, truncated, _ = adapt(env).step(0)
    assert terminated is True and truncated is False


def test_step_with_wrong_arity_raises() -> None:
    with pytest.raises(ValueError, match="3 items"):
        adapt(LegacyEnv(step_func=lambda env, action: (0, 0.0, False))).step(0)


def test_render_and_close_delegate() -> None:
    env = LegacyEnv()
    adapter = adapt(env)
    adapter.reset()
    assert adapter.render() == "frame 0"
    adapter.close()
    assert env.closed


def test_env_without_seed_logs_and_still_resets(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="gymie.compat"):
        obs, info = adapt(NoSeedEnv(), seed=0).reset()
    assert obs.shape == (3,) and info == {}
    assert "no seed() method" in caplog.text


def test_tuple_observation_is_not_mistaken_for_obs_and_info() -> None:
    adapter = adapt(TupleObsEnv())
    assert adapter.reset() == ((1, {"x": 0}), {})
    assert adapter.reset() == ((1, {"x": 0}), {})


def test_new_api_lookalike_is_detected_from_reset() -> None:
    env = NewApiLookalike()
    adapter = adapt(env, seed=0)
    obs, info = adapter.reset(options={"level": 2})
    assert obs.shape == (3,) and info == {"options": {"level": 2}}
    assert env.reset_kwargs == [{"seed": 0, "options": {"level": 2}}]
    assert env.seeds == []
    _, _, terminated, truncated, info = adapter.step(0)
    assert terminated is False and truncated is False and info == {}


# --- Unity ML-Agents stand-in ---


def test_unity_wrapper_runs_an_episode(caplog: pytest.LogCaptureFixture) -> None:
    env = UnityToGymWrapper(episode_length=3)
    adapter = adapt(env, seed=0)
    assert adapter.observation_space == spaces.Box(-np.inf, np.inf, (210,), np.float32)
    assert adapter.action_space == spaces.Discrete(3)
    with caplog.at_level(logging.WARNING):
        obs, info = adapter.reset()
    assert "Could not seed environment Basic" in caplog.text
    assert obs.shape == (210,) and info == {}
    results = [adapter.step(adapter.sample_action()) for _ in range(3)]
    assert [r[2] for r in results] == [False, False, True]
    assert all(type(r[2]) is bool and type(r[3]) is bool and r[3] is False for r in results)
    assert all(type(r[1]) is np.float32 for r in results)  # the reward stays raw
    assert results[-1][4] == {"step": 3}
    assert adapter.render().shape == (84, 84, 3)


# --- stable-retro (already the Gymnasium API) ---


@pytest.mark.slow
def test_stable_retro_airstriker() -> None:
    stable_retro = pytest.importorskip("stable_retro")
    env = stable_retro.make("Airstriker-Genesis-v0", render_mode=None)
    try:
        adapter = adapt(env, seed=0)
        assert adapter.observation_space == spaces.Box(0, 255, (224, 320, 3), np.uint8)
        assert adapter.action_space == spaces.MultiBinary(12)
        obs, info = adapter.reset()
        assert obs.shape == (224, 320, 3) and obs.dtype == np.uint8 and isinstance(info, dict)
        for _ in range(10):
            action = adapter.sample_action()
            assert action.shape == (12,) and adapter.action_space.contains(action)
            obs, _, terminated, truncated, info = adapter.step(action)
            assert type(terminated) is bool and type(truncated) is bool
        assert obs.shape == (224, 320, 3) and isinstance(info, dict)
    finally:
        env.close()
