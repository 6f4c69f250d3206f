"""The 0.5.4 README's override examples, run for real: Retro on stable-retro, and Unity on a stand-in.

``examples/retro_server.py`` and ``examples/unity_server.py`` are loaded into real servers with
``--import``. stable-retro ships the Airstriker ROM and runs headless. No Unity game binary can
be had here, so ``tests/unity_standin.py`` stands in for ``mlagents_envs`` (see its docstring);
the example's own code runs on top of it, both in-process through ``gymie.api`` and over a server.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import gymie.api
from gymie import api
from gymie.exceptions import EnvironmentNotFound, InstanceNotFound, WrongAction
from tests.conftest import TIMEOUT, running_server
from tests.remote import HEX_ID, remote

AIRSTRIKER = "Airstriker-Genesis-v0"
RETRO_FRAME = (224, 320, 3)


# -- Retro (stable-retro) -----------------------------------------------------------
# stable-retro allows one emulator per process: every test closes its env before the next makes one.


@pytest.fixture(scope="module")
def retro_url() -> Iterator[str]:
    pytest.importorskip("stable_retro")
    with running_server("--import", "examples.retro_server") as srv:
        yield srv.url


@pytest.mark.slow
def test_retro_airstriker_over_0_5_4_messages(retro_url: str) -> None:
    with remote(retro_url) as r:
        instance_id = r.make(AIRSTRIKER)
        try:
            assert r.call("action_space", instance_id=instance_id) == {
                "name": "MultiBinary",
                "n": 12,
                "shape": [12],
                "low": [0],
                "high": [1],
            }
            obs_space = r.call("observation_space", instance_id=instance_id)
            assert (obs_space["name"], obs_space["shape"]) == ("Box", list(RETRO_FRAME))
            frame = np.array(r.call("reset", instance_id=instance_id))
            assert frame.shape == RETRO_FRAME and frame.dtype.kind == "i"
            assert frame.min() >= 0 and frame.max() <= 255 and frame.max() > 0
            action = r.call("action_sample", instance_id=instance_id)
            assert len(action) == 12 and set(action) <= {0, 1}
            obs, reward, done, info = r.call("step", instance_id=instance_id, action=action)
            assert np.array(obs).shape == RETRO_FRAME
            assert type(reward) is float and done is False and isinstance(info, dict)
        finally:
            assert r.text("close", instance_id=instance_id) == "true"


@pytest.mark.slow
def test_retro_seed_is_handled(retro_url: str) -> None:
    def run(seed: int) -> tuple[list[Any], str]:
        with remote(retro_url) as r:
            instance_id = r.make(AIRSTRIKER, seed=seed)
            try:
                samples = [r.call("action_sample", instance_id=instance_id) for _ in range(8)]
                r.call("reset", instance_id=instance_id)
                return samples, r.text("step", instance_id=instance_id, action=samples[0])
            finally:
                r.text("close", instance_id=instance_id)

    first, again, other = run(0), run(0), run(1)
    assert first == again
    assert first[0] != other[0]


@pytest.mark.slow
@pytest.mark.parametrize(
    "env_id",
    [
        "x",
        # 0.5.4's id: stable-retro names its games with a version now.
        "Airstriker-Genesis",
    ],
)
def test_retro_unknown_game_is_not_found(retro_url: str, env_id: str) -> None:
    with remote(retro_url) as r:
        assert r.closed_by("make", env_id=env_id) == (1007, f"Environment `{env_id}` not found")


@pytest.mark.slow
def test_retro_override_then_gymie_api_get_env_as_0_5_4_tests_did() -> None:
    # 0.5.4's Retro test: @override('get_env'), then gymie.api.get_env(...) directly.
    pytest.importorskip("stable_retro")
    example = importlib.import_module("examples.retro_server")
    api.override("get_env")(example.retro_get_env)  # again, in case it was imported before
    try:
        assert gymie.api.get_env is example.retro_get_env
        env = gymie.api.get_env(AIRSTRIKER)
        try:
            obs, _ = env.reset(seed=0)
            assert obs.shape == RETRO_FRAME and env.action_space.n == 12
            observation, reward, done, info = gymie.api.process_step(env.step(env.action_space.sample())[:4])
            assert observation.shape == RETRO_FRAME and done is False
        finally:
            env.close()
        with pytest.raises(EnvironmentNotFound):
            gymie.api.get_env("Airstriker-Genesis")
    finally:
        api.overrides.restore()
    assert gymie.api.get_env is gymie.envs.get_env


# -- Unity (mlagents_envs stand-in) ------------------------------------------------


class Recorder:
    """A socket that records what 0.5.4's module functions send."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, message: str) -> None:
        self.sent.append(message)

    @property
    def last(self) -> str:
        return self.sent[-1]

    def json(self) -> Any:
        return json.loads(self.last)


@pytest.fixture(scope="module")
def game(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The path of a 'built game': the stand-in launches any file that exists."""
    folder = tmp_path_factory.mktemp("unity")
    (folder / "PushBlock.x86_64").write_bytes(b"")
    return str(folder / "PushBlock")


@pytest.fixture
def unity() -> Iterator[ModuleType]:
    """The Unity example's override, active on gymie.api, over the stand-in mlagents_envs."""
    standin = importlib.import_module("tests.unity_standin")
    standin.install()  # before the example runs, as with --import tests.unity_standin
    example = importlib.import_module("examples.unity_server")
    # Importing the example applied its @override; apply it again in case it was imported before.
    api.override("get_env")(example.unity_get_env)
    api.override("process_step")(example.unity_process_step)
    try:
        yield standin
    finally:
        api.overrides.restore()
        for instance_id in [i for i in api.envs if isinstance(api.envs[i], standin.UnityToGymWrapper)]:
            api.envs.pop_instance(instance_id).adapter.close()
        standin.uninstall()


def make(ws: Recorder, game: str, **params: Any) -> str:
    api.make(ws, game, **params)
    assert HEX_ID.match(ws.last), ws.last
    return ws.last


def test_unity_get_env_runs_the_example_on_the_standin(unity: ModuleType, game: str) -> None:
    with pytest.raises(EnvironmentNotFound) as missing:
        api.overrides.get_env(game + "-missing")
    assert str(missing.value) == f"Environment `{game}-missing` not found"
    env = api.overrides.get_env(game)
    try:
        assert isinstance(env, unity.UnityToGymWrapper) and env.name == "PushBlock?team=0"
    finally:
        env.close()


def test_unity_through_0_5_4_module_functions(unity: ModuleType, game: str) -> None:
    ws = Recorder()
    with pytest.raises(EnvironmentNotFound):
        api.make(ws, "not_found")
    instance_id = make(ws, game)
    env = api.lookup_env(instance_id)
    assert "PushBlock" in env.name

    api.observation_space(ws, instance_id)
    assert {k: ws.json()[k] for k in ("name", "shape")} == {"name": "Box", "shape": [210]}
    api.action_space(ws, instance_id)
    assert ws.json() == {"name": "Discrete", "n": 7}
    api.action_sample(ws, instance_id)
    assert ws.json() in range(7)

    api.reset(ws, instance_id)
    state = ws.json()
    assert isinstance(state, list) and np.array(state).shape == (210,)
    with pytest.raises(WrongAction):
        api.step(ws, instance_id, "invalid_action")
    steps = []
    for _ in range(unity.EPISODE_LENGTH):
        api.step(ws, instance_id, int(env.action_space.sample()))
        steps.append(ws.json())
    for observation, reward, _, info in steps:
        assert np.array(observation).shape == (210,) and type(reward) is float and info == {}
    assert [done for _, _, done, _ in steps] == [False] * (unity.EPISODE_LENGTH - 1) + [True]
    assert steps[-1][1] == 1.0

    api.close(ws, instance_id)
    assert ws.json() is True
    with pytest.raises(InstanceNotFound):
        api.lookup_env(instance_id)
    assert unity.UnityEnvironment.open_workers == set()


def test_unity_seed_reaches_the_game(unity: ModuleType, game: str) -> None:
    ws = Recorder()

    def run(seed: int, worker_id: int) -> list[str]:
        instance_id = make(ws, game, seed=seed, worker_id=worker_id)
        api.reset(ws, instance_id)
        frames = [ws.last]
        for _ in range(3):
            api.action_sample(ws, instance_id)
            api.step(ws, instance_id, ws.json())
            frames.append(ws.last)
        api.close(ws, instance_id)
        return frames

    first = run(3, worker_id=1)
    assert run(3, worker_id=2) == first
    assert run(4, worker_id=1) != first


def test_unity_override_then_gymie_api_names_as_0_5_4_tests_did(unity: ModuleType, game: str) -> None:
    # 0.5.4's Unity test: both hooks overridden, then gymie.api.get_env / process_step called directly.
    assert gymie.api.process_step is sys.modules["examples.unity_server"].unity_process_step
    env = gymie.api.get_env(game, worker_id=9, no_graphics=True)
    try:
        assert isinstance(env, unity.UnityToGymWrapper) and len(env.reset()) == unity.OBS_SIZE
        observation, reward, done, info = gymie.api.process_step(env.step(1))
        assert (len(observation), type(reward), done, info) == (unity.OBS_SIZE, float, False, {})
        assert isinstance(observation, list)
    finally:
        env.close()
    with pytest.raises(EnvironmentNotFound):
        gymie.api.get_env(game + "-missing")


@pytest.fixture(scope="module")
def unity_url() -> Iterator[str]:
    with running_server("--import", "tests.unity_standin", "--import", "examples.unity_server") as srv:
        yield srv.url


def test_unity_over_a_real_server(unity_url: str, game: str) -> None:
    with remote(unity_url) as r:
        instance_id = r.make(game, worker_id=0, no_graphics=True)
        assert r.call("action_space", instance_id=instance_id) == {"name": "Discrete", "n": 7}
        assert len(r.call("reset", instance_id=instance_id)) == 210
        steps = [r.call("step", instance_id=instance_id, action=1) for _ in range(5)]
        assert [(len(obs), type(reward), info) for obs, reward, _, info in steps] == [(210, float, {})] * 5
        assert [done for _, _, done, _ in steps] == [False] * 4 + [True]
        assert r.text("close", instance_id=instance_id) == "true"
        missing = game + "-missing"
        assert r.closed_by("make", env_id=missing) == (1007, f"Environment `{missing}` not found")


def test_unity_env_is_closed_when_the_connection_ends(unity_url: str, game: str) -> None:
    # A Unity game holds its worker's port: a second one on the same worker fails until it closes.
    with remote(unity_url) as r:
        r.make(game, worker_id=5)
        code, reason = r.closed_by("make", env_id=game, worker_id=5)
        assert code == 1007 and reason.startswith("Unknonwn error: Couldn't start socket communication")
    deadline = time.monotonic() + TIMEOUT
    while True:  # the server closes the envs just after the connection ends
        with remote(unity_url) as r:
            r.ws.send(f'{{"method": "make", "params": {{"env_id": "{game}", "worker_id": 5}}}}')
            try:
                assert HEX_ID.match(r.ws.recv(timeout=TIMEOUT))
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
        time.sleep(0.05)


def test_unity_import_order_does_not_matter(game: str) -> None:
    # The example imports mlagents_envs only when an env is made, so it may be imported first.
    with running_server("--import", "examples.unity_server", "--import", "tests.unity_standin") as srv:
        with remote(srv.url) as r:
            instance_id = r.make(game)
            assert len(r.call("reset", instance_id=instance_id)) == 210


def test_examples_are_a_package() -> None:
    # Without examples/__init__.py an installed top-level `examples` package would shadow ours.
    assert (Path(__file__).parent.parent / "examples" / "__init__.py").is_file()


def test_unity_step_over_json_rpc(unity_url: str, game: str) -> None:
    with remote(unity_url) as r:
        instance_id = r.rpc("make", env_id=game, worker_id=9)["instance_id"]
        assert len(r.rpc("reset", instance_id=instance_id)["observation"]) == 210
        step = r.rpc("step", instance_id=instance_id, action=1)
        assert len(step["observation"]) == 210 and type(step["reward"]) is float
