"""Vector envs: ``make_vec`` in memory and over a real server, JSON and msgpack, RemoteVectorEnv."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import gymnasium
import numpy as np
import pytest
from gymnasium.spaces import Box, Discrete, MultiDiscrete
from gymnasium.vector import AutoresetMode
from gymnasium.wrappers.vector import RecordEpisodeStatistics

import gymie.client
from gymie import codec, spaces
from gymie.client import Client, InMemoryConnection
from gymie.client.remote import RemoteVectorEnv
from gymie.core import Dispatcher, Session
from gymie.exceptions import (
    EnvironmentMalformed,
    EnvironmentNotFound,
    InstanceNotFound,
    InvalidParams,
    LimitExceeded,
    WrongAction,
)
from tests import support  # noqa: F401  (registers gymie-test/* in this process too)
from tests.conftest import TIMEOUT, running_server
from tests.support import new_dispatcher

TRANSPORTS = ["memory-msgpack", "memory-json", "ws-msgpack", "ws-json"]
N = 64


@pytest.fixture
def dispatcher() -> Dispatcher:
    return new_dispatcher()


def open_client(transport: str, request: pytest.FixtureRequest, dispatcher: Dispatcher) -> Client:
    where, encoding = transport.split("-")
    if where == "memory":
        return Client(InMemoryConnection(dispatcher, encoding=encoding))
    url = request.getfixturevalue("support_server").url
    return gymie.client.connect(url, encoding=encoding, timeout=TIMEOUT)


@pytest.fixture(params=TRANSPORTS)
def client(request: pytest.FixtureRequest, dispatcher: Dispatcher) -> Iterator[Client]:
    with open_client(request.param, request, dispatcher) as client:
        yield client


def run(env: Any, seed: int, steps: int) -> list[Any]:
    """Observations, rewards, terminations and truncations of a seeded run with seeded actions."""
    obs, _ = env.reset(seed=seed)
    env.action_space.seed(seed)
    values = [obs]
    for _ in range(steps):
        values += env.step(env.action_space.sample())[:4]
    return values


@pytest.mark.parametrize("mode", ["sync", "vector_entry_point"])
def test_batches_match_the_same_vector_env_in_process(client: Client, mode: str) -> None:
    env = client.make_vec("CartPole-v1", N, vectorization_mode=mode)
    local = gymnasium.make_vec("CartPole-v1", N, vectorization_mode=mode)
    assert isinstance(env, RemoteVectorEnv) and env.num_envs == N
    assert env.metadata["autoreset_mode"] is AutoresetMode.NEXT_STEP
    assert env.single_observation_space == local.single_observation_space
    assert env.single_action_space == Discrete(2)
    assert env.observation_space == local.observation_space and env.observation_space.shape == (N, 4)
    assert env.action_space == MultiDiscrete([2] * N)
    got, want = run(env, 3, 40), run(local, 3, 40)  # 40 steps: some sub-envs end and reset
    for remote, in_process in zip(got, want, strict=True):
        assert isinstance(remote, np.ndarray) and remote.shape[0] == N and remote.flags.writeable
        if client.connection.encoding == "msgpack":
            assert remote.dtype == in_process.dtype
        np.testing.assert_array_equal(remote, in_process)
    env.close()
    with pytest.raises(InstanceNotFound):
        client.call("step", instance_id=env.instance_id, action=[0] * N)


def test_make_vec_reply_and_env_info(client: Client) -> None:
    reply = client.call("make_vec", env_id="CartPole-v1", num_envs=4, vectorization_mode="sync")
    assert set(reply) == {"instance_id", "num_envs", "vectorization_mode", "autoreset_mode"}
    assert reply["num_envs"] == 4 and reply["vectorization_mode"] == "sync"
    assert reply["autoreset_mode"] == "NextStep"
    info = client.call("env_info", instance_id=reply["instance_id"])
    assert (info["num_envs"], info["autoreset_mode"], info["env_id"]) == (4, "NextStep", "CartPole-v1")
    single = client.call("single_observation_space", instance_id=reply["instance_id"])
    assert spaces.from_description(single) == gymnasium.make("CartPole-v1").observation_space
    assert client.call("single_action_space", instance_id=reply["instance_id"]) == {
        "name": "Discrete",
        "n": 2,
    }


def test_a_single_env_is_its_own_single_space(client: Client) -> None:
    env = client.make("CartPole-v1")
    desc = client.call("single_observation_space", instance_id=env.instance_id)
    assert spaces.from_description(desc) == env.observation_space
    assert client.call("env_info", instance_id=env.instance_id)["num_envs"] is None


def test_same_step_autoreset_reports_final_observations(client: Client) -> None:
    env = client.make_vec(
        "CartPole-v1", 2, vectorization_mode="sync", vector_kwargs={"autoreset_mode": "SameStep"}
    )
    assert env.metadata["autoreset_mode"] is AutoresetMode.SAME_STEP
    env.reset(seed=0)
    for _ in range(100):
        _, _, terminated, truncated, info = env.step(np.ones(2, np.int64))
        if terminated.any() or truncated.any():
            break
    ended = terminated | truncated
    np.testing.assert_array_equal(info["_final_obs"], ended)
    final = info["final_obs"]
    assert final.dtype == object and final.shape == (2,)
    for index in range(2):
        if ended[index]:
            assert final[index] in env.single_observation_space
        else:
            assert final[index] is None


def test_vector_infos_keep_their_masks(client: Client) -> None:
    env = client.make_vec("gymie-test/Faulty-v0", 3, vectorization_mode="sync")
    env.reset(seed=0)
    _, reward, _, _, info = env.step(np.zeros(3, np.int64))
    np.testing.assert_array_equal(reward, [1.0, 1.0, 1.0])
    assert np.isnan(info["nan"]).all() and info["_nan"].tolist() == [True] * 3
    np.testing.assert_array_equal(info["np"], [2.5] * 3)


@pytest.mark.parametrize("transport", ["memory-msgpack", "ws-json"])  # 2 envs: spawning is slow
def test_async_mode_uses_spawned_worker_processes(
    transport: str, request: pytest.FixtureRequest, dispatcher: Dispatcher
) -> None:
    with open_client(transport, request, dispatcher) as client:
        env = client.make_vec("CartPole-v1", 2, vectorization_mode="async", seed=5)
        if transport.startswith("memory"):
            workers = dispatcher.envs[env.instance_id].processes
            assert [type(p).__name__ for p in workers] == ["SpawnProcess"] * 2
        obs, _ = env.reset()
        local, _ = gymnasium.make_vec("CartPole-v1", 2, vectorization_mode="sync").reset(seed=5)
        np.testing.assert_array_equal(obs, local)  # make_vec's seed applies at the first reset
        assert env.step(np.array([0, 1]))[0].shape == (2, 4)
        env.close()


@pytest.mark.parametrize("transport", ["memory-msgpack", "ws-json"])
def test_render_returns_one_frame_per_sub_env(
    transport: str, request: pytest.FixtureRequest, dispatcher: Dispatcher
) -> None:
    with open_client(transport, request, dispatcher) as client:
        env = client.make_vec("CartPole-v1", 2, vectorization_mode="sync", render_mode="rgb_array")
        assert env.render_mode == "rgb_array" and env.metadata["render_modes"] == ["rgb_array"]
        env.reset(seed=0)
        frames = env.render()
        assert isinstance(frames, tuple) and len(frames) == 2
        assert all(f.dtype == np.uint8 and f.shape == (400, 600, 3) for f in frames)


def test_gymnasium_vector_wrappers_accept_the_remote_env(client: Client) -> None:
    env = RecordEpisodeStatistics(client.make_vec("CartPole-v1", 4, vectorization_mode="vector_entry_point"))
    env.reset(seed=0)
    finished: list[float] = []
    for _ in range(60):
        *_, info = env.step(np.ones(4, np.int64))
        if "episode" in info:
            finished += info["episode"]["r"][info["_episode"]].tolist()
    assert finished and all(r > 0 for r in finished)
    env.close()


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"env_id": "CartPole-v1", "num_envs": 0}, InvalidParams),
        ({"env_id": "CartPole-v1", "num_envs": True}, InvalidParams),
        ({"env_id": "CartPole-v1", "vectorization_mode": "threads"}, InvalidParams),
        ({"env_id": "Acrobot-v1", "vectorization_mode": "vector_entry_point"}, InvalidParams),
        (
            {"env_id": "CartPole-v1", "vector_kwargs": {"no_such": 1}, "vectorization_mode": "sync"},
            InvalidParams,
        ),
        ({"env_id": "CartPole-v1", "wrappers": ["x"]}, InvalidParams),
        ({"env_id": "CartPole-v1", "seed": -1}, InvalidParams),
        ({"env_id": "Nope-v1"}, EnvironmentNotFound),
        ({"env_id": "a/b/c"}, EnvironmentMalformed),
    ],
)
def test_make_vec_errors(client: Client, params: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        client.call("make_vec", **params)
    assert client.call("list_envs")  # still connected


def test_a_bad_batch_of_actions_is_a_wrong_action(client: Client) -> None:
    env = client.make_vec("CartPole-v1", 4)
    env.reset(seed=0)
    for bad in ([0, 1], [0, 1, 2, 1], [[0], [1], [0], [1]], np.zeros(4, np.float32) + 0.5):
        with pytest.raises(WrongAction):
            env.step(bad)


def test_make_vec_in_a_worker_process_and_under_the_env_limit() -> None:
    with running_server("--isolation", "process", "--max-envs", "2") as srv:
        with gymie.client.connect(srv.url, timeout=TIMEOUT) as client:
            env = client.make_vec("CartPole-v1", 8, vectorization_mode="vector_entry_point")
            assert env.env_info["num_envs"] == 8 and env.single_action_space == Discrete(2)
            local = gymnasium.make_vec("CartPole-v1", 8, vectorization_mode="vector_entry_point")
            for remote, in_process in zip(run(env, 1, 20), run(local, 1, 20), strict=True):
                np.testing.assert_array_equal(remote, in_process)
            client.make("CartPole-v1")
            with pytest.raises(LimitExceeded):
                client.make_vec("CartPole-v1", 2)


# -- the wire, below the client ------------------------------------------------------


def test_json_batches_are_strict_json(dispatcher: Dispatcher) -> None:
    session = dispatcher.open_session()

    def call(method: str, **params: Any) -> Any:
        reply = dispatcher.handle(
            json.dumps({"jsonrpc": "2.0", "method": method, "params": params, "id": 1}), session
        )
        text = reply.frames[0]
        assert isinstance(text, str)
        return json.loads(text, parse_constant=reject)["result"]

    made = call("make_vec", env_id="gymie-test/Faulty-v0", num_envs=2, vectorization_mode="sync")
    call("reset", instance_id=made["instance_id"])
    step = call("step", instance_id=made["instance_id"], action=[0, 1])
    assert step["terminated"] == [False, False] and step["reward"] == [1.0, 1.0]
    assert step["info"] == {
        "nan": ["NaN", "NaN"],
        "_nan": [True, True],
        "np": [2.5, 2.5],
        "_np": [True, True],
    }


def reject(constant: str) -> Any:
    raise AssertionError(f"not strict JSON: {constant}")


def test_a_batch_of_actions_in_the_space_dtype_is_not_copied() -> None:
    actions = np.ones(1024, np.int64)
    assert spaces.from_jsonable(MultiDiscrete([2] * 1024), actions) is actions
    box = np.zeros((1024, 1), np.float32)
    assert spaces.from_jsonable(Box(-1, 1, (1024, 1), np.float32), box) is box


def test_msgpack_steps_carry_arrays(dispatcher: Dispatcher) -> None:
    session: Session = dispatcher.open_session("gymie.msgpack")

    def call(method: str, **params: Any) -> Any:
        raw = codec.encode_msgpack({"jsonrpc": "2.0", "method": method, "params": params, "id": 1})
        frame = dispatcher.handle(raw, session).frames[0]
        assert isinstance(frame, (bytes, codec.Frame))  # a Frame: a large array sent as it is
        return codec.decode_msgpack(frame)["result"]

    made = call("make_vec", env_id="CartPole-v1", num_envs=1024, vectorization_mode="vector_entry_point")
    call("reset", instance_id=made["instance_id"], seed=0)
    step = call("step", instance_id=made["instance_id"], action=np.ones(1024, np.int64))
    for key, dtype in [("observation", np.float32), ("reward", np.float32), ("terminated", np.bool_)]:
        assert isinstance(step[key], np.ndarray) and step[key].dtype == dtype and len(step[key]) == 1024


@pytest.mark.parametrize(
    "method",
    ["make_vec", "single_observation_space", "single_action_space", "env_info", "list_envs", "server_info"],
)
def test_protocol_2_methods_stay_unknown_to_legacy_clients(dispatcher: Dispatcher, method: str) -> None:
    reply = dispatcher.handle(json.dumps({"method": method, "params": {}}), dispatcher.open_session())
    assert reply.frames == () and reply.close == (1007, f"Method `{method}` not found")
