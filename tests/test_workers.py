"""Worker processes on their own: real subprocesses, the blocking runtime, no server."""

from __future__ import annotations

import functools
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import pytest

from gymie import api
from gymie.backends import process as workers
from gymie.backends import remote, worker_env
from gymie.compat import adapt
from gymie.core import Dispatcher
from gymie.envs import make_adapter
from gymie.exceptions import EnvironmentNotFound, InternalError, StepTimeout, WorkerCrashed
from gymie.registry import EnvRegistry, OverrideRegistry
from gymie.settings import Settings
from tests import faults
from tests.conftest import SCALE

SETTINGS = Settings(isolation="process", imports=["tests.faults"])
LIVE: set[workers.WorkerEnv] = set()
"""The workers this module's launches started and have not reaped."""
pytestmark = pytest.mark.filterwarnings("ignore:.*WARN:UserWarning")


def launch(env_id: str = faults.ENV_ID, settings: Settings = SETTINGS, **kwargs: Any) -> workers.WorkerEnv:
    factory = functools.partial(make_adapter, api.get_env, env_id, kwargs)
    return workers.launch(factory, settings, registry=LIVE)


@pytest.fixture
def worker() -> Iterator[workers.WorkerEnv]:
    proxy = launch()
    yield proxy
    proxy.close()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_worker_env_behaves_like_the_env_in_process() -> None:
    local = adapt(gymnasium.make("CartPole-v1"), seed=3)
    remote = launch("CartPole-v1", seed=3)
    try:
        assert remote.pid != os.getpid()
        assert (remote.observation_space, remote.action_space) == (
            local.observation_space,
            local.action_space,
        )
        np.testing.assert_array_equal(remote.reset()[0], local.reset()[0])
        for action in (0, 1, 1, 0):
            got, expected = remote.step(action), local.step(action)
            np.testing.assert_array_equal(got[0], expected[0])
            assert got[1:] == expected[1:]
        assert remote.sample_action() == local.sample_action()
        assert remote.metadata == local.env.metadata and remote.spec.id == "CartPole-v1"
    finally:
        remote.close()
        local.close()


def test_env_exceptions_come_back_as_themselves(worker: workers.WorkerEnv) -> None:
    worker.reset()
    with pytest.raises(ValueError, match="bad action 7") as raised:
        worker.step(7)
    assert isinstance(raised.value.__cause__, remote.RemoteTraceback)
    assert "in step" in str(raised.value.__cause__)
    assert worker.step(1)[1] == 1.0 and not worker.dead  # the worker carries on


@pytest.mark.parametrize(
    ("how", "reason"),
    [("segfault", "killed by SIGSEGV"), ("exit", "exited with status 3"), ("kill", "killed by SIGKILL")],
)
def test_a_worker_that_dies_in_step_is_a_crash(how: str, reason: str) -> None:
    proxy = launch(at="step", how=how)
    proxy.reset()
    with pytest.raises(WorkerCrashed, match=reason):
        proxy.step(0)
    assert proxy.dead and not alive(proxy.pid)
    with pytest.raises(WorkerCrashed, match=reason):  # and stays one
        proxy.reset()
    proxy.close()  # nothing left to close: no error


def test_a_worker_killed_from_outside_while_idle_is_a_crash(worker: workers.WorkerEnv) -> None:
    os.kill(worker.pid, signal.SIGKILL)
    time.sleep(0.05)
    with pytest.raises(WorkerCrashed, match="SIGKILL"):
        worker.reset()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"at": "make"}, RuntimeError, "boom in make"),
        ({"at": "make", "how": "segfault"}, WorkerCrashed, "SIGSEGV"),
        ({"at": "make", "how": "exit"}, WorkerCrashed, "status 3"),
        ({"nope": 1}, TypeError, "nope"),
    ],
)
def test_failures_while_making_the_env(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        launch(**kwargs)
    assert LIVE == set()


def test_an_unknown_id_is_not_found() -> None:
    with pytest.raises(EnvironmentNotFound):
        launch("NoSuchEnv-v0")


def test_a_hung_env_times_out_and_its_worker_is_killed() -> None:
    proxy = launch(at="step", how="hang", settings=Settings(isolation="process", step_timeout=0.5 * SCALE))
    proxy.reset()
    started = time.monotonic()
    with pytest.raises(StepTimeout, match="no reply within"):
        proxy.step(0)
    assert time.monotonic() - started < 3 * SCALE
    assert proxy.dead and not alive(proxy.pid)
    assert "SIGKILL" in proxy.exit_reason


def test_close_closes_the_env_and_ends_the_worker(tmp_path: Path) -> None:
    trace = tmp_path / "trace"
    proxy = launch(trace=str(trace))
    proxy.close()
    assert faults.traced(trace) == ["made", "closed"]
    assert proxy.exitcode == 0 and proxy.dead
    proxy.close()  # twice is fine
    assert LIVE == set()


def test_an_env_that_fails_to_close_reports_it_and_still_ends(tmp_path: Path) -> None:
    proxy = launch(at="close")
    with pytest.raises(RuntimeError, match="boom in close"):
        proxy.close()
    assert proxy.dead and proxy.exitcode == 0


def test_a_worker_whose_server_goes_away_closes_its_env(tmp_path: Path) -> None:
    trace = tmp_path / "trace"
    proxy = launch(trace=str(trace))
    proxy._conn.close()  # what the worker sees when the server dies: EOF
    proxy.process.join(5 * SCALE)
    assert faults.traced(trace) == ["made", "closed"] and proxy.process.exitcode == 0
    proxy.dead = True
    LIVE.discard(proxy)
    worker_env._live.discard(proxy)


def test_ctrl_c_does_not_reach_workers(worker: workers.WorkerEnv) -> None:
    os.kill(worker.pid, signal.SIGINT)
    assert worker.reset()[1]["pid"] == worker.pid


def test_sigterm_ends_an_idle_worker_cleanly(tmp_path: Path) -> None:
    trace = tmp_path / "trace"
    proxy = launch(trace=str(trace))
    os.kill(proxy.pid, signal.SIGTERM)
    proxy.process.join(5 * SCALE)
    assert proxy.process.exitcode == 0 and faults.traced(trace) == ["made", "closed"]
    with pytest.raises(WorkerCrashed, match="status 0"):
        proxy.reset()


def test_private_names_are_not_callable(worker: workers.WorkerEnv) -> None:
    with pytest.raises(AttributeError, match="no method .__class__."):
        worker.call("__class__")


def test_a_factory_that_does_not_pickle_is_an_internal_error() -> None:
    with pytest.raises(InternalError, match="cannot be sent to a worker"):
        workers.launch(lambda: None, SETTINGS)


# -- through the dispatcher: crashes become replies, and dead instances go -----------


@pytest.fixture
def dispatcher() -> Dispatcher:
    overrides = OverrideRegistry(get_env=api.get_env, process_step=api.process_step)
    return Dispatcher(EnvRegistry(), overrides, SETTINGS, backend=workers.ProcessBackend(SETTINGS))


def rpc(dispatcher: Dispatcher, session: Any, method: str, **params: Any) -> dict[str, Any]:
    reply = dispatcher.handle(
        json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}), session
    )
    assert isinstance(reply.frames[0], str)
    return json.loads(reply.frames[0])  # type: ignore[no-any-return]


def test_a_crash_is_an_error_reply_and_the_instance_is_gone(dispatcher: Dispatcher) -> None:
    session = dispatcher.open_session()
    instance_id = rpc(dispatcher, session, "make", env_id=faults.ENV_ID, at="step", how="segfault")["result"]
    instance_id = instance_id["instance_id"]
    assert rpc(dispatcher, session, "reset", instance_id=instance_id)["result"]["info"]["pid"] != os.getpid()
    error = rpc(dispatcher, session, "step", instance_id=instance_id, action=0)["error"]
    assert error["code"] == -32007 and error["data"]["error"] == "WorkerCrashed"
    assert error["message"].startswith("Environment crashed: worker ") and "SIGSEGV" in error["message"]
    assert instance_id not in dispatcher.envs
    assert rpc(dispatcher, session, "reset", instance_id=instance_id)["error"]["code"] == -32001


def test_a_legacy_client_sees_a_crash_as_close_1011(dispatcher: Dispatcher) -> None:
    session = dispatcher.open_session()
    make = {"method": "make", "params": {"env_id": faults.ENV_ID, "at": "reset", "how": "exit"}}
    instance_id = dispatcher.handle(json.dumps(make), session).frames[0]
    reply = dispatcher.handle(
        json.dumps({"method": "reset", "params": {"instance_id": instance_id}}), session
    )
    assert reply.close is not None and reply.close[0] == 1011
    assert reply.close[1].startswith("Environment crashed: worker ") and "status 3" in reply.close[1]
    assert len(dispatcher.envs) == 0


def test_a_wrong_action_is_still_a_wrong_action(dispatcher: Dispatcher) -> None:
    session = dispatcher.open_session()
    instance_id = rpc(dispatcher, session, "make", env_id=faults.ENV_ID)["result"]["instance_id"]
    rpc(dispatcher, session, "reset", instance_id=instance_id)
    error = rpc(dispatcher, session, "step", instance_id=instance_id, action=5)["error"]
    assert (error["code"], error["message"]) == (-32004, "Action `5` is wrong")
    assert dispatcher.end_session(session) == [instance_id]


class Unpicklable(Exception):
    def __init__(self, a: int, b: int) -> None:
        super().__init__(f"{a}/{b}")


def test_an_exception_that_does_not_rebuild_is_a_remote_error_with_its_message() -> None:
    from gymie.backends.worker import error_info

    info = error_info(Unpicklable(1, 2))
    rebuilt = remote.rebuild(info)
    assert isinstance(rebuilt, remote.RemoteError) and str(rebuilt) == "1/2"
    assert rebuilt.type_name.endswith("Unpicklable") and "Unpicklable: 1/2" in str(rebuilt.__cause__)


@pytest.mark.parametrize(
    ("code", "words"), [(0, "exited with status 0"), (-9, "killed by SIGKILL"), (None, "is unresponsive")]
)
def test_describe_exit(code: int | None, words: str) -> None:
    assert worker_env.describe_exit(code) == words
