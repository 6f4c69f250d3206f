"""gymie.client: RemoteEnv over an in-memory connection and over a real server, both encodings."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from websockets.sync.server import ServerConnection, serve

import gymie.client
from gymie import codec, core
from gymie.client import Client, InMemoryConnection, connection
from gymie.client.remote import writable
from gymie.core import Dispatcher
from gymie.exceptions import (
    EnvironmentNotAllowed,
    EnvironmentNotFound,
    InstanceNotFound,
    InternalError,
    InvalidMessage,
    InvalidParams,
    WrongAction,
)
from gymie.settings import Settings
from tests import support  # noqa: F401  (registers gymie-test/* in this process too)
from tests.conftest import ROOT, SCALE, TIMEOUT, ServerProcess
from tests.support import new_dispatcher

# check_env advises against the infinite bounds of CartPole's observation space.
INF_BOUNDS = "ignore:.*Box observation space m(in|ax)imum value is:UserWarning"
pytestmark = pytest.mark.filterwarnings(INF_BOUNDS)

TRANSPORTS = ["memory-msgpack", "memory-json", "ws-msgpack", "ws-json"]


@pytest.fixture
def dispatcher() -> Dispatcher:
    return new_dispatcher()


@pytest.fixture(params=TRANSPORTS)
def client(request: pytest.FixtureRequest, dispatcher: Dispatcher) -> Iterator[Client]:
    """A Client over each transport and encoding."""
    where, encoding = request.param.split("-")
    if where == "memory":
        client = Client(InMemoryConnection(dispatcher, encoding=encoding))
    else:
        url = request.getfixturevalue("support_server").url
        client = gymie.client.connect(url, encoding=encoding, timeout=TIMEOUT)
    with client:
        assert client.connection.encoding == encoding
        yield client


def trajectory(env: gymnasium.Env[Any, Any], seed: int, actions: list[Any]) -> list[Any]:
    obs, _ = env.reset(seed=seed)
    steps = [obs]
    for action in actions:
        obs, reward, terminated, truncated, _ = env.step(action)
        steps += [obs, reward, terminated, truncated]
    return steps


def assert_same(remote: list[Any], local: list[Any]) -> None:
    assert len(remote) == len(local)
    for got, want in zip(remote, local, strict=True):
        if isinstance(want, np.ndarray):
            assert isinstance(got, np.ndarray) and got.dtype == want.dtype and got.flags.writeable
            np.testing.assert_array_equal(got, want)
        else:
            assert type(got) is type(want) and got == want


@pytest.mark.parametrize(
    ("env_id", "actions"),
    [("CartPole-v1", [0, 1, 1, 0]), ("MountainCarContinuous-v0", [np.array([0.5], np.float32)] * 3)],
)
def test_remote_env_matches_a_local_one(client: Client, env_id: str, actions: list[Any]) -> None:
    with client.make(env_id) as env:
        local = gymnasium.make(env_id)
        assert env.observation_space == local.observation_space
        assert env.action_space == local.action_space
        assert_same(trajectory(env, 7, actions), trajectory(local, 7, actions))


def test_spaces_are_exact_not_clamped(client: Client) -> None:
    env = client.make("CartPole-v1")
    assert env.observation_space.high[1] == np.inf  # the legacy description says float32 max


def test_structured_observations_come_back_as_the_space_types(client: Client) -> None:
    env = client.make("gymie-test/Dict-v0")
    obs, info = env.reset(seed=1)
    assert obs in env.observation_space and info == {"space": "Dict"}
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    assert obs in env.observation_space and obs["pos"].dtype == np.float32
    assert (reward, terminated, truncated, info) == (0.5, False, False, {"action_ok": True})


def test_errors_are_raised_as_the_same_classes(client: Client) -> None:
    with pytest.raises(EnvironmentNotFound, match="Nope-v1"):
        client.make("Nope-v1")
    with pytest.raises(InvalidParams):
        client.make("CartPole-v1", no_such_kwarg=1)
    env = client.make("CartPole-v1")
    env.reset(seed=0)
    with pytest.raises(WrongAction):
        env.step(7)
    with pytest.raises(InternalError, match="boom in reset"):
        client.make("gymie-test/Faulty-v0", fail_on="reset").reset()
    env.close()
    with pytest.raises(InstanceNotFound, match=env.instance_id):
        client.call("step", instance_id=env.instance_id, action=0)
    assert "CartPole-v1" in client.list_envs()  # the connection survived every error


def test_close_is_idempotent_and_quiet_after_the_client(client: Client) -> None:
    env = client.make("CartPole-v1")
    env.close()
    env.close()
    other = client.make("CartPole-v1")
    client.close()
    other.close()  # the server closed it with the connection: nothing left to do, no error


def test_render_returns_frames(client: Client) -> None:
    env = client.make("CartPole-v1", render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert isinstance(frame, np.ndarray) and frame.dtype == np.uint8 and frame.shape == (400, 600, 3)
    assert env.metadata["render_modes"] == ["rgb_array"]  # "human" would render on the server


def test_spec_makes_another_remote_env(client: Client) -> None:
    env = client.make("CartPole-v1", max_episode_steps=3)
    assert env.spec is not None and env.spec.id == "CartPole-v1"
    twin = gymnasium.make(env.spec)
    assert twin.unwrapped.instance_id != env.instance_id
    twin.reset(seed=0)
    ends = [twin.step(0)[3] for _ in range(3)]
    assert ends == [False, False, True]  # the server's TimeLimit, from the same kwargs
    twin.close()


def test_list_envs_and_server_info(client: Client) -> None:
    ids = client.list_envs()
    assert ids == sorted(ids) and {"CartPole-v1", "gymie-test/Faulty-v0"} <= set(ids)
    info = client.server_info()
    assert info["version"] == gymie.__version__
    assert info["protocols"] == ["gymie-0.5.4", "jsonrpc-2.0"]
    assert info["encodings"] == ["json", "msgpack"] and info["subprotocols"] == ["gymie.msgpack"]
    assert info["limits"]["max_message_size"] > 0 and "token" not in info["limits"]
    assert {"make_vec", "list_envs", "server_info", "env_info"} <= set(info["methods"])


def test_allow_list_applies_to_list_envs_and_make() -> None:
    dispatcher = new_dispatcher(Settings(allow=["CartPole-*"]))
    with Client(InMemoryConnection(dispatcher)) as client:
        assert client.list_envs() == ["CartPole-v0", "CartPole-v1"]
        with pytest.raises(EnvironmentNotAllowed):
            client.make("Acrobot-v1")
        with pytest.raises(EnvironmentNotAllowed):
            client.make_vec("Acrobot-v1", 2)


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (
            {"jsonrpc": "2.0", "error": {"code": -32001, "message": "m", "data": None}, "id": 1},
            InstanceNotFound,
        ),
        ({"jsonrpc": "2.0", "error": {"code": -1, "message": "m"}, "id": 1}, InternalError),
        ({"jsonrpc": "2.0", "error": "not an object", "id": 1}, InternalError),
        ({"jsonrpc": "2.0", "id": 1}, InvalidMessage),
        (["not", "a", "reply"], InvalidMessage),
    ],
)
def test_replies_that_are_errors_or_not_replies(reply: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        connection.result_of(reply)


def test_undecodable_frames_and_the_subprotocol_name() -> None:
    with pytest.raises(InvalidMessage):
        connection.decode_reply(b"\xc1")
    with pytest.raises(InvalidMessage):
        connection.decode_reply("{")
    assert connection.MSGPACK_SUBPROTOCOL == core.MSGPACK_SUBPROTOCOL


# -- in-memory specifics --------------------------------------------------------


def test_closing_the_client_closes_its_envs(dispatcher: Dispatcher) -> None:
    with Client(InMemoryConnection(dispatcher)) as client:
        client.make("CartPole-v1")
        client.make_vec("CartPole-v1", 2)
        assert len(dispatcher.envs) == 2
    assert len(dispatcher.envs) == 0
    with pytest.raises(ConnectionError):
        client.list_envs()


def test_msgpack_arrays_are_copied_only_when_read_only(dispatcher: Dispatcher) -> None:
    env = Client(InMemoryConnection(dispatcher)).make("CartPole-v1")
    obs, _ = env.reset(seed=0)
    obs += 1  # a writable array, as a local env returns
    assert writable(obs) is obs


# -- real server ------------------------------------------------------------------


@pytest.fixture
def url(support_server: ServerProcess) -> str:
    return support_server.url


def test_timeout_then_the_late_reply_is_skipped(url: str) -> None:
    with gymie.client.connect(url, timeout=TIMEOUT) as client:
        env = client.make("gymie-test/Faulty-v0", sleep=1.0 * SCALE)
        env.reset()
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            client.connection.call("step", {"instance_id": env.instance_id, "action": 0}, timeout=0.2 * SCALE)
        assert time.monotonic() - started < 0.9 * SCALE
        obs, info = env.reset()  # waits out the slow step, skips its reply, gets its own
        assert obs.tolist() == [0, 0, 0, 0] and info == {}


def test_context_managers_close_the_connection_and_the_envs(url: str) -> None:
    with gymie.client.connect(url, timeout=TIMEOUT) as client:
        instance_id = client.make("CartPole-v1").instance_id
    assert client.connection.closed and client.connection.ws.closed
    with gymie.client.make(url, "CartPole-v1", timeout=TIMEOUT) as env:
        env.reset(seed=0)
    assert env.connection.closed and env.connection.ws.closed
    with gymie.client.connect(url, timeout=TIMEOUT) as other:
        for gone in (instance_id, env.instance_id):
            with pytest.raises(InstanceNotFound):
                other.call("close", instance_id=gone)


@pytest.mark.parametrize(
    ("env_id", "encoding"),
    [
        ("CartPole-v1", "msgpack"),
        ("CartPole-v1", "json"),
        ("MountainCarContinuous-v0", "msgpack"),
        ("MountainCarContinuous-v0", "json"),
        pytest.param("ALE/Pong-v5", "msgpack", marks=pytest.mark.slow),  # JSON frames: 4 s more
    ],
)
def test_gymnasium_check_env_passes(url: str, env_id: str, encoding: str) -> None:
    if env_id.startswith("ALE/"):
        pytest.importorskip("ale_py")
    with gymie.client.make(url, env_id, encoding=encoding, timeout=TIMEOUT) as env:
        check_env(env)


@pytest.mark.parametrize(
    "env_id", ["CartPole-v1", "MountainCarContinuous-v0", pytest.param("ALE/Pong-v5", marks=pytest.mark.slow)]
)
def test_sb3_check_env_passes(url: str, env_id: str) -> None:
    sb3_checker = pytest.importorskip("stable_baselines3.common.env_checker")
    if env_id.startswith("ALE/"):
        pytest.importorskip("ale_py")
    with gymie.client.make(url, env_id, timeout=TIMEOUT) as env:
        sb3_checker.check_env(env, warn=True)


# -- the handshake ----------------------------------------------------------------


@contextmanager
def plain_server(handler: Callable[[ServerConnection], None]) -> Iterator[str]:
    """A websockets server on loopback that offers no subprotocol; yields its URL."""
    with serve(handler, "127.0.0.1", 0) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"ws://127.0.0.1:{server.socket.getsockname()[1]}/gym"
        finally:
            server.shutdown()
            thread.join(TIMEOUT)


def test_token_header_and_json_fallback(caplog: pytest.LogCaptureFixture) -> None:
    seen: dict[str, Any] = {}

    def handler(ws: ServerConnection) -> None:
        assert ws.request is not None
        seen["authorization"] = ws.request.headers.get("Authorization")
        request = codec.decode_json(ws.recv(timeout=TIMEOUT))
        seen["frame"] = request
        ws.send(codec.encode_json({"jsonrpc": "2.0", "result": ["X-v0"], "id": request["id"]}))

    with plain_server(handler) as url:
        with caplog.at_level(logging.WARNING, "gymie.client"):
            with gymie.client.connect(url, token="s3cret", timeout=TIMEOUT) as client:
                assert client.connection.encoding == "json"
                assert client.list_envs() == ["X-v0"]
    assert seen["authorization"] == "Bearer s3cret"
    assert seen["frame"] == {"jsonrpc": "2.0", "method": "list_envs", "params": {}, "id": 1}
    assert "falling back to JSON" in caplog.text


def test_the_client_does_not_import_eventlet() -> None:
    code = "import sys, gymie.client; print(sorted(m for m in sys.modules if m.startswith('eventlet')))"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# -- examples ----------------------------------------------------------------------


def run_example(*args: str, timeout: float) -> str:
    done = subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_random_agent_example(url: str) -> None:
    out = run_example("examples.random_agent", url, "--episodes", "2", "--seed", "0", timeout=3 * TIMEOUT)
    lines = out.splitlines()
    assert [line.split(":")[0] for line in lines[:2]] == ["episode 1", "episode 2"]
    assert lines[2].startswith("mean return over 2 episodes: ")


def test_sb3_ppo_example(url: str) -> None:
    pytest.importorskip("stable_baselines3")
    args = ("examples.sb3_ppo_cartpole", "--url", url, "--timesteps", "256", "--eval-episodes", "2")
    out = run_example(*args, timeout=6 * TIMEOUT)
    assert out.startswith("mean reward over 2 episodes: ")
