"""Code written against gymie 0.5.4's modules keeps working: ``gymie.api`` and ``gymie.server``.

0.5.4's own tests drove ``api.make(ws, 'CartPole-v1')`` and read ``ws.send.call_args``; the
module functions still take the socket first and send JSON text through ``ws.send``.
"""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import gymie
from gymie import api
from tests.conftest import ROOT, TIMEOUT
from tests.http_helpers import free_port
from tests.remote import HEX_ID, remote

# gymnasium's passive env checker warns about the wrong action below before the env raises.
pytestmark = pytest.mark.filterwarnings("ignore:.*WARN:UserWarning")

PUBLIC = ["make", "step", "reset", "close", "observation_space", "action_space", "action_sample"]


class Recorder:
    """A socket that records what is sent and how it was closed (``send.call_args`` style)."""

    def __init__(self) -> None:
        self.sent: list[str | bytes] = []
        self.closed: Any = None

    def send(self, message: str | bytes) -> None:
        self.sent.append(message)

    def close(self, close_data: Any = None) -> None:
        self.closed = close_data

    @property
    def last(self) -> Any:
        return self.sent[-1]


@pytest.fixture
def ws() -> Recorder:
    return Recorder()


@pytest.fixture
def restore_overrides() -> Iterator[None]:
    try:
        yield
    finally:
        api.overrides.restore()


@pytest.fixture
def cartpole(ws: Recorder) -> Iterator[str]:
    api.make(ws, "CartPole-v1")
    instance_id = ws.last
    yield instance_id
    if instance_id in api.envs:
        api.close(ws, instance_id)


def test_public_names_the_seven_methods() -> None:
    assert sorted(api.public) == sorted(PUBLIC)
    for name in PUBLIC:
        assert api.public[name] is getattr(api, name)


def test_make_sends_the_bare_instance_id(ws: Recorder, cartpole: str) -> None:
    assert isinstance(cartpole, str) and HEX_ID.match(cartpole)
    assert cartpole in api.envs
    assert api.lookup_env(cartpole) is api.envs[cartpole]
    assert api.lookup_env(cartpole).spec.id == "CartPole-v1"


def test_methods_send_json_text(ws: Recorder, cartpole: str) -> None:
    api.observation_space(ws, cartpole)
    assert json.loads(ws.last)["name"] == "Box"
    api.action_space(ws, cartpole)
    assert ws.last == '{"name": "Discrete", "n": 2}'
    api.action_sample(ws, cartpole)
    assert json.loads(ws.last) in (0, 1)
    api.reset(ws, cartpole)
    assert len(json.loads(ws.last)) == 4
    api.step(ws, cartpole, 1)
    observation, reward, done, info = json.loads(ws.last)
    assert (len(observation), reward, done, info) == (4, 1.0, False, {})
    api.close(ws, cartpole)
    assert ws.last == "true"
    with pytest.raises(gymie.InstanceNotFound):
        api.lookup_env(cartpole)


def test_image_observations_are_sent_as_one_text(ws: Recorder) -> None:
    import tests.support  # noqa: F401  (registers gymie-test/Image-v0: 210x160x3 frames)

    api.make(ws, "gymie-test/Image-v0")
    instance_id = ws.last
    try:
        api.reset(ws, instance_id)
        assert isinstance(ws.last, str)  # a 0.5.4 socket takes str, whatever the size
        assert np.array(json.loads(ws.last)).shape == (210, 160, 3)
        api.step(ws, instance_id, 0)
        assert isinstance(ws.last, str) and np.array(json.loads(ws.last)[0]).shape == (210, 160, 3)
    finally:
        api.close(ws, instance_id)


def test_errors_raise_the_0_5_4_exceptions(ws: Recorder, cartpole: str) -> None:
    api.reset(ws, cartpole)
    sent = len(ws.sent)
    with pytest.raises(gymie.WrongAction):
        api.step(ws, cartpole, "invalid_action")
    with pytest.raises(gymie.InstanceNotFound):
        api.lookup_env("not_found")
    with pytest.raises(gymie.InstanceNotFound):
        api.reset(ws, "not_found")
    with pytest.raises(gymie.EnvironmentNotFound):
        api.make(ws, "NoSuchEnv-v0")
    with pytest.raises(gymie.EnvironmentMalformed):
        api.make(ws, "not an id!")
    assert len(ws.sent) == sent  # nothing is sent on an error


def test_override_get_env_as_a_decorator(ws: Recorder, restore_overrides: None) -> None:
    calls: list[tuple[str, dict[str, Any]]] = []

    @gymie.override("get_env")
    def my_get_env(env_id: str, **kwargs: Any) -> Any:
        calls.append((env_id, kwargs))
        return gymie.envs.get_env("CartPole-v1")

    assert my_get_env.__name__ == "my_get_env"  # the decorator returns the function
    api.make(ws, "MyGame", seed=0, worker_id=3)
    assert calls == [("MyGame", {"seed": 0, "worker_id": 3})]
    api.close(ws, ws.last)


def test_override_process_step(ws: Recorder, cartpole: str, restore_overrides: None) -> None:
    @gymie.override("process_step")
    def process_step(step: tuple[Any, Any, bool, dict[str, Any]]) -> Any:
        observation, reward, done, info = step
        assert isinstance(observation, np.ndarray)
        return observation.tolist(), float(reward) * 2, done, {"processed": True}

    api.reset(ws, cartpole)
    api.step(ws, cartpole, 0)
    assert json.loads(ws.last)[1:] == [2.0, False, {"processed": True}]


def test_override_restore_puts_back_the_defaults(restore_overrides: None) -> None:
    gymie.override("get_env")(lambda env_id, **kw: None)
    assert not api.overrides.is_default("get_env")
    api.overrides.restore()
    assert api.overrides.get_env is api.get_env and api.overrides.process_step is api.process_step


def test_override_of_an_unknown_name_is_a_clear_error() -> None:
    with pytest.raises(
        ValueError, match="Error overriding `nope`. Functions available: `get_env`, `process_step`"
    ):
        gymie.override("nope")


def test_exceptions_import_from_gymie() -> None:
    from gymie import EnvironmentMalformed, EnvironmentNotFound, InstanceNotFound, WrongAction
    from gymie.exceptions import GymieError

    for cls in (InstanceNotFound, EnvironmentMalformed, EnvironmentNotFound, WrongAction):
        assert issubclass(cls, GymieError) and issubclass(cls, Exception)


# -- gymie.server (imports eventlet, but monkey-patches nothing) ----------------------


@pytest.fixture
def server_module() -> Any:
    import warnings

    with warnings.catch_warnings():
        # eventlet announces its bugfix-only status on import with an EventletDeprecationWarning,
        # which is not a DeprecationWarning.
        warnings.filterwarnings("ignore", r"\s*Eventlet is deprecated")
        import gymie.server
        import gymie.server.serving  # noqa: F401  (the package loads its modules lazily)

    return gymie.server


def test_message_handle_sends_replies(server_module: Any, ws: Recorder) -> None:
    server_module.message_handle(ws, json.dumps({"method": "make", "params": {"env_id": "CartPole-v1"}}))
    instance_id = ws.last
    assert HEX_ID.match(instance_id)
    message = {"method": "reset", "params": {"instance_id": instance_id}}
    server_module.message_handle(ws, json.dumps(message).encode())  # binary frames too
    assert len(json.loads(ws.last)) == 4
    server_module.message_handle(ws, json.dumps({"method": "close", "params": {"instance_id": instance_id}}))
    assert ws.last == "true" and ws.closed is None


@pytest.mark.parametrize(
    ("message", "close"),
    [
        ("not json", (1003, "Message `not json` is invalid")),
        ('{"params": {}}', (1003, "Message keys ['params'] are missing or invalid")),
        ('{"method": "nope", "params": {}}', (1007, "Method `nope` not found")),
        ('{"method": "reset", "params": {"instance_id": "x"}}', (1007, "Instance `x` not found")),
    ],
)
def test_message_handle_closes_on_errors(
    server_module: Any, ws: Recorder, message: str, close: tuple[int, str]
) -> None:
    server_module.message_handle(ws, message)
    assert ws.sent == [] and ws.closed == close


def test_server_keeps_0_5_4_names(server_module: Any) -> None:

    assert callable(server_module.dispatch) and callable(server_module.start)
    assert server_module.start is gymie.start
    assert server_module.message_handle.__module__.startswith("gymie.server.")
    assert socket.socket.__module__ == "socket"  # importing eventlet patched nothing


def answers(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
        conn.request("GET", "/")
        ok = conn.getresponse().read() == b"Gymie is running..."
        conn.close()
        return ok
    except OSError:
        return False


def test_start_serves_as_in_0_5_4() -> None:
    port = free_port()
    code = f"import gymie; gymie.start('127.0.0.1', {port})"
    proc = subprocess.Popen([sys.executable, "-W", "ignore", "-c", code], cwd=ROOT, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 3 * TIMEOUT
        while not answers(port):
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "gymie.start did not serve"
            time.sleep(0.05)
        with remote(f"ws://127.0.0.1:{port}/gym") as r:
            instance_id = r.make("CartPole-v1")
            assert len(r.call("reset", instance_id=instance_id)) == 4
    finally:
        proc.terminate()
        proc.wait(TIMEOUT)
        if proc.stderr:
            proc.stderr.close()


def test_override_rebinds_the_api_names_as_0_5_4_did(restore_overrides: None) -> None:
    # 0.5.4's Retro and Unity tests call gymie.api.get_env(...) after overriding it.
    @gymie.override("get_env")
    def retro_get_env(env_id: str, **kwargs: Any) -> Any:
        return gymie.envs.get_env("CartPole-v1")

    @gymie.override("process_step")
    def unity_process_step(step: Any) -> Any:
        return step

    assert api.get_env is retro_get_env and api.process_step is unity_process_step
    env = api.get_env("Airstriker-Genesis")
    assert env.spec.id == "CartPole-v1"
    env.close()
    api.overrides.restore()
    assert api.get_env is gymie.envs.get_env and api.process_step is gymie.envs.process_step
