"""OpenAI Gym 0.26 envs through a real server, spoken to with 0.5.4 messages.

The server runs in this venv's Python (gym 0.26 needs numpy<2) with an ``@override('get_env')``
that calls ``gym.make`` (``--import gymie.contrib.gym026``); elsewhere this module is skipped.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

pytest.importorskip("gym")

from tests.conftest import TIMEOUT, ServerProcess, running_server  # noqa: E402
from tests.remote import remote  # noqa: E402


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with running_server("--import", "gymie.contrib.gym026", "--log-level", "DEBUG") as srv:
        yield srv


def logged(srv: ServerProcess, text: str) -> bool:
    deadline = time.monotonic() + TIMEOUT
    while not any(text in line for line in list(srv.output)):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_cartpole_episode_until_done(server: ServerProcess) -> None:
    import gym

    with remote(server.url) as r:
        instance_id = r.make("CartPole-v1", seed=0)
        assert logged(server, f"gym {gym.__version__} made CartPole-v1"), "".join(server.output)
        assert r.call("action_space", instance_id=instance_id) == {"name": "Discrete", "n": 2}
        obs_space = r.call("observation_space", instance_id=instance_id)
        assert (obs_space["name"], obs_space["shape"]) == ("Box", [4])
        obs = r.call("reset", instance_id=instance_id)
        assert len(obs) == 4 and all(type(x) is float for x in obs)
        for _ in range(500):
            obs, reward, done, info = r.call("step", instance_id=instance_id, action=0)
            assert len(obs) == 4 and reward == 1.0
            if done:
                break
            assert info == {}
        assert done
        # Pushed left every step, the pole falls: the episode terminated, it was not truncated.
        assert info == {"TimeLimit.truncated": False}
        assert r.text("close", instance_id=instance_id) == "true"


def test_time_limit_truncates(server: ServerProcess) -> None:
    with remote(server.url) as r:
        instance_id = r.make("CartPole-v1", max_episode_steps=3, seed=0)
        r.call("reset", instance_id=instance_id)
        steps = [r.call("step", instance_id=instance_id, action=a) for a in (0, 1, 0)]
        assert [(done, info) for _, _, done, info in steps] == [
            (False, {}),
            (False, {}),
            (True, {"TimeLimit.truncated": True}),
        ]


def test_same_seed_same_frames(server: ServerProcess) -> None:
    def frames(seed: int) -> list[str]:
        with remote(server.url) as r:
            instance_id = r.make("CartPole-v1", seed=seed)
            out = [r.text("reset", instance_id=instance_id), r.text("action_sample", instance_id=instance_id)]
            return out + [r.text("step", instance_id=instance_id, action=a) for a in (1, 0, 1)]

    assert frames(0) == frames(0) != frames(1)


def test_unknown_env_closes_with_1007(server: ServerProcess) -> None:
    with remote(server.url) as r:
        assert r.closed_by("make", env_id="NoSuchEnv-v0") == (1007, "Environment `NoSuchEnv-v0` not found")
