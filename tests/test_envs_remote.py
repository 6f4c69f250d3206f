"""Real environments over a real server: classic control, Atari, one env per space type, seeds,
``make`` params, rendering, and the lifecycle of envs when connections end.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import gymnasium
import numpy as np
import pytest

from gymie.spaces import from_description, from_jsonable
from tests.conftest import TIMEOUT, running_server
from tests.remote import remote
from tests.support import SPACES
from tests.support_lifecycle import ENV_ID as TRACED
from tests.support_lifecycle import trace_lines

ACTIONS = [0, 1, 1, 0, 1, 0, 0, 1]


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with running_server("--import", "tests.support", "--import", "tests.support_lifecycle") as srv:
        yield srv.url


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


# -- classic control ----------------------------------------------------------


def test_cartpole_over_0_5_4_messages(url: str) -> None:
    with remote(url) as r:
        instance_id = r.make("CartPole-v1")
        assert r.call("action_space", instance_id=instance_id) == {"name": "Discrete", "n": 2}
        obs_space = r.call("observation_space", instance_id=instance_id)
        assert (obs_space["name"], obs_space["shape"]) == ("Box", [4])
        obs = r.call("reset", instance_id=instance_id)
        assert len(obs) == 4 and all(type(x) is float for x in obs)
        obs, reward, done, info = r.call("step", instance_id=instance_id, action=1)
        assert (len(obs), reward, done, info) == (4, 1.0, False, {})
        assert r.text("close", instance_id=instance_id) == "true"
        assert r.closed_by("reset", instance_id=instance_id) == (1007, f"Instance `{instance_id}` not found")


def test_cartpole_over_json_rpc(url: str) -> None:
    with remote(url) as r:
        instance_id = r.rpc("make", env_id="CartPole-v1")["instance_id"]
        reset = r.rpc("reset", instance_id=instance_id, seed=3)
        assert set(reset) == {"observation", "info"} and len(reset["observation"]) == 4
        step = r.rpc("step", instance_id=instance_id, action=0)
        assert set(step) == {"observation", "reward", "terminated", "truncated", "info"}
        assert (step["reward"], step["terminated"], step["truncated"]) == (1.0, False, False)
        # A JSON-RPC error leaves the connection open.
        error = r.rpc_reply("make", env_id="NoSuchEnv-v0")["error"]
        assert (error["code"], error["message"]) == (-32002, "Environment `NoSuchEnv-v0` not found")
        assert r.rpc("close", instance_id=instance_id) is True


def test_mountain_car_continuous_takes_box_actions_as_lists(url: str) -> None:
    with remote(url) as r:
        instance_id = r.make("MountainCarContinuous-v0")
        space = r.call("action_space", instance_id=instance_id)
        assert {k: space[k] for k in ("name", "shape", "low", "high")} == {
            "name": "Box",
            "shape": [1],
            "low": [-1.0],
            "high": [1.0],
        }
        r.call("reset", instance_id=instance_id)
        sample = r.call("action_sample", instance_id=instance_id)
        assert len(sample) == 1 and -1.0 <= sample[0] <= 1.0
        for action in (sample, [0.5], 0.5):
            obs, reward, done, info = r.call("step", instance_id=instance_id, action=action)
            assert len(obs) == 2 and type(reward) is float and reward < 0 and done is False
        step = r.rpc_reply("step", instance_id=instance_id, action=[1.0])["result"]
        assert len(step["observation"]) == 2 and step["reward"] == pytest.approx(-0.1)

    with remote(url) as r:
        instance_id = r.make("MountainCarContinuous-v0")
        r.call("reset", instance_id=instance_id)
        assert r.closed_by("step", instance_id=instance_id, action=[0.5, 0.5]) == (
            1007,
            "Action `[0.5, 0.5]` is wrong",
        )


# -- Atari --------------------------------------------------------------------


@pytest.mark.slow
def test_pong_serves_image_observations(url: str) -> None:
    with remote(url) as r:
        # The default get_env imports ale_py for `ALE/` ids: no --import needed.
        instance_id = r.make("ALE/Pong-v5", seed=0)
        assert r.call("action_space", instance_id=instance_id) == {"name": "Discrete", "n": 6}
        frame = np.array(r.call("reset", instance_id=instance_id))
        assert frame.shape == (210, 160, 3) and frame.dtype.kind == "i"
        assert frame.min() >= 0 and frame.max() <= 255 and frame.max() > 0
        action = r.call("action_sample", instance_id=instance_id)
        assert type(action) is int and 0 <= action < 6
        obs, reward, done, info = r.call("step", instance_id=instance_id, action=action)
        assert np.array(obs).shape == (210, 160, 3)
        assert type(reward) is float and done is False and "lives" in info
        assert r.text("close", instance_id=instance_id) == "true"


# -- one env per space type ---------------------------------------------------


@pytest.mark.parametrize("name", list(SPACES))
def test_space_type_round_trips(url: str, name: str) -> None:
    expected = SPACES[name]
    with remote(url) as r:
        instance_id = r.make(f"gymie-test/{name}-v0", seed=7)
        action_space = from_description(r.call("action_space", instance_id=instance_id))
        obs_space = from_description(r.call("observation_space", instance_id=instance_id))
        assert type(action_space) is type(expected) and type(obs_space) is type(expected)
        if name != "Box":  # 0.5.4 clients get infinite Box bounds as the largest finite floats
            assert action_space == expected and obs_space == expected
        assert obs_space.contains(from_jsonable(obs_space, r.call("reset", instance_id=instance_id)))
        action = r.call("action_sample", instance_id=instance_id)
        assert action_space.contains(from_jsonable(action_space, action))
        # The env asserts the action is in its space: a wrong round trip closes with WrongAction.
        obs, reward, done, info = r.call("step", instance_id=instance_id, action=action)
        assert obs_space.contains(from_jsonable(obs_space, obs))
        assert (reward, done, info) == (0.5, False, {"action_ok": True})

    with remote(url) as r:
        instance_id = r.rpc("make", env_id=f"gymie-test/{name}-v0")["instance_id"]
        assert from_description(r.rpc("action_space", instance_id=instance_id)) == expected
        assert from_description(r.rpc("observation_space", instance_id=instance_id)) == expected


# -- seeds --------------------------------------------------------------------


def trajectory(url: str, seed: int) -> list[str]:
    """The text frames of make(seed) + reset + action_sample + steps."""
    with remote(url) as r:
        instance_id = r.make("CartPole-v1", seed=seed)
        frames = [r.text("reset", instance_id=instance_id), r.text("action_sample", instance_id=instance_id)]
        frames += [r.text("step", instance_id=instance_id, action=a) for a in ACTIONS]
        r.text("close", instance_id=instance_id)
    return frames


def test_same_seed_gives_identical_frames(url: str) -> None:
    first, again, other = trajectory(url, 0), trajectory(url, 0), trajectory(url, 1)
    assert first == again
    assert first[0] != other[0]


def test_seed_zero_is_honoured(url: str) -> None:
    # 0.5.4 dropped seed 0 (`if seed:`); the frames must be those of a local reset(seed=0).
    local = gymnasium.make("CartPole-v1")
    expected = local.reset(seed=0)[0]
    steps = [local.step(a)[0] for a in ACTIONS[:3]]
    local.close()
    with remote(url) as r:
        instance_id = r.make("CartPole-v1", seed=0)
        assert np.array_equal(np.float32(r.call("reset", instance_id=instance_id)), expected)
        for action, obs in zip(ACTIONS, steps, strict=False):
            assert np.array_equal(np.float32(r.call("step", instance_id=instance_id, action=action)[0]), obs)
    with remote(url) as r:
        instance_id = r.rpc("make", env_id="CartPole-v1")["instance_id"]
        reset = r.rpc("reset", instance_id=instance_id, seed=0)
        assert np.array_equal(np.float32(reset["observation"]), expected)


# -- make params reach get_env --------------------------------------------------


def test_max_episode_steps_truncates_at_that_step(url: str) -> None:
    with remote(url) as r:
        instance_id = r.make("CartPole-v1", max_episode_steps=3, seed=0)
        r.call("reset", instance_id=instance_id)
        steps = [r.call("step", instance_id=instance_id, action=a) for a in (0, 1, 0)]
        assert [(done, info) for _, _, done, info in steps] == [
            (False, {}),
            (False, {}),
            (True, {"TimeLimit.truncated": True}),
        ]
    with remote(url) as r:
        instance_id = r.rpc("make", env_id="CartPole-v1", max_episode_steps=3)["instance_id"]
        r.rpc("reset", instance_id=instance_id, seed=0)
        last = [r.rpc("step", instance_id=instance_id, action=a) for a in (0, 1, 0)][-1]
        assert (last["terminated"], last["truncated"]) == (False, True)


@pytest.mark.skipif(importlib.util.find_spec("pygame") is None, reason="CartPole renders with pygame")
def test_render_mode_rgb_array_renders_a_frame(url: str) -> None:
    with remote(url) as r:
        instance_id = r.rpc("make", env_id="CartPole-v1", render_mode="rgb_array")["instance_id"]
        r.rpc("reset", instance_id=instance_id, seed=0)
        frame = np.array(r.rpc("render", instance_id=instance_id))
        assert frame.shape == (400, 600, 3) and frame.dtype.kind == "i"
        assert 0 <= frame.min() and frame.max() <= 255 and len(np.unique(frame)) > 1


def test_render_is_not_a_0_5_4_method(url: str) -> None:
    with remote(url) as r:
        instance_id = r.make("CartPole-v1")
        assert r.closed_by("render", instance_id=instance_id) == (1007, "Method `render` not found")


def test_legacy_render_flag_on_step_renders(url: str, tmp_path: Path) -> None:
    trace = tmp_path / "trace"
    with remote(url) as r:
        instance_id = r.make(TRACED, trace=str(trace), tag="env")
        r.call("reset", instance_id=instance_id)
        assert r.call("step", instance_id=instance_id, action=0, render=True)[1:] == [1.0, False, {}]
        assert r.call("step", instance_id=instance_id, action=1, render=False)[1:] == [1.0, False, {}]
        assert trace_lines(trace) == ["made env", "rendered env"]
    # A 0.5.4 client sends it to envs made without a render mode: Gymnasium only warns.
    with remote(url) as r:
        instance_id = r.make("CartPole-v1")
        r.call("reset", instance_id=instance_id)
        obs, reward, done, info = r.call("step", instance_id=instance_id, action=0, render=True)
        assert (len(obs), reward, done, info) == (4, 1.0, False, {})
        obs, reward, done, info = r.call("step", instance_id=instance_id, action=1, render=False)
        assert (len(obs), reward) == (4, 1.0)


# -- lifecycle ----------------------------------------------------------------


def test_envs_are_closed_when_their_connection_ends(url: str, tmp_path: Path) -> None:
    trace = tmp_path / "trace"
    with remote(url) as r:
        first = r.make(TRACED, trace=str(trace), tag="first")
        r.make(TRACED, trace=str(trace), tag="second")
        assert r.text("close", instance_id=first) == "true"
        r.call("reset", instance_id=r.make(TRACED, trace=str(trace), tag="third"))
        assert trace_lines(trace) == ["made first", "made second", "closed first", "made third"]
    wait_for(lambda: len(trace_lines(trace)) == 6, "the connection's envs to close")
    assert sorted(trace_lines(trace)[4:]) == ["closed second", "closed third"]


def test_envs_are_closed_when_an_error_closes_the_connection(url: str, tmp_path: Path) -> None:
    trace = tmp_path / "trace"
    with remote(url) as r:
        r.make(TRACED, trace=str(trace), tag="env")
        r.ws.send("{not json")
        assert r.close_frame() == (1003, "Message `{not json` is invalid")
    wait_for(lambda: "closed env" in trace_lines(trace), "the env to close")


def test_a_bad_client_does_not_disturb_another_connection(url: str, tmp_path: Path) -> None:
    trace = tmp_path / "trace"
    with remote(url) as good, remote(url) as bad:
        good_id = good.make(TRACED, trace=str(trace), tag="good")
        cartpole = good.make("CartPole-v1", seed=0)
        good.call("reset", instance_id=good_id)
        good.call("reset", instance_id=cartpole)
        bad_id = bad.make(TRACED, trace=str(trace), tag="bad")
        assert bad.closed_by("step", instance_id=bad_id, action="nope") == (1007, "Action `nope` is wrong")
        wait_for(lambda: "closed bad" in trace_lines(trace), "the bad client's env to close")
        assert good.call("step", instance_id=good_id, action=1)[1] == 1.0
        assert good.call("step", instance_id=cartpole, action=1)[1] == 1.0
        assert "closed good" not in trace_lines(trace)
    wait_for(lambda: "closed good" in trace_lines(trace), "the good client's env to close")
