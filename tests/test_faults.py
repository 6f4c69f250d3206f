"""The bad days, over real connections: envs that raise, crash or hang, clients that vanish, SIGTERM.

Every test here would fail without the mechanism it covers: isolation keeps the hub free and
the server alive, the step timeout kills hung workers, sessions close their envs when the
client is gone, and SIGTERM drains requests before closing with 1001.
"""

from __future__ import annotations

import json
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import faults
from tests.conftest import SCALE, TIMEOUT, ServerProcess, running_server, start_server
from tests.http_helpers import eventually, health
from tests.remote import Remote, remote

FAULTS = ("--import", "tests.faults")


@pytest.fixture(scope="module")
def isolated() -> Iterator[ServerProcess]:
    srv = start_server(
        *FAULTS, "--import", "tests.faults_override", "--isolation", "process", "--step-timeout", "2"
    )
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def in_process() -> Iterator[ServerProcess]:
    srv = start_server(*FAULTS)
    yield srv
    srv.stop()


def servers(request: pytest.FixtureRequest, mode: str) -> ServerProcess:
    return request.getfixturevalue("isolated" if mode == "process" else "in_process")  # type: ignore[no-any-return]


def make(r: Remote, **kwargs: Any) -> str:
    instance_id = r.rpc("make", env_id=faults.ENV_ID, **kwargs)["instance_id"]
    r.rpc("reset", instance_id=instance_id)
    return instance_id  # type: ignore[no-any-return]


def send(r: Remote, rid: int, method: str, **params: Any) -> None:
    """Send a JSON-RPC request without waiting for its reply."""
    r.ws.send(json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params}))


def error_of(r: Remote, method: str, **params: Any) -> dict[str, Any]:
    reply = r.rpc_reply(method, **params)
    assert "error" in reply, reply
    return reply["error"]  # type: ignore[no-any-return]


def still_serves(url: str) -> None:
    with remote(url) as r:
        instance_id = r.rpc("make", env_id="CartPole-v1")["instance_id"]
        assert len(r.rpc("reset", instance_id=instance_id)["observation"]) == 4
        assert r.rpc("close", instance_id=instance_id) is True


# -- an env that raises: the same reply with or without isolation --------------------


@pytest.mark.parametrize("mode", ["none", "process"])
@pytest.mark.parametrize(
    ("stage", "code", "message"),
    [
        ("make", -32603, "Internal error: boom in make"),
        ("reset", -32603, "Internal error: boom in reset"),
        ("step", -32004, "Action `0` is wrong"),
        ("close", -32603, "Internal error: boom in close"),
    ],
)
def test_an_env_that_raises_gets_the_same_error_in_both_modes(
    request: pytest.FixtureRequest, mode: str, stage: str, code: int, message: str
) -> None:
    srv = servers(request, mode)
    with remote(srv.url) as r:
        if stage == "make":
            error = error_of(r, "make", env_id=faults.ENV_ID, at="make")
        else:
            instance_id = r.rpc("make", env_id=faults.ENV_ID, at=stage)["instance_id"]
            calls = {"reset": {}, "step": {"action": 0}, "close": {}}
            if stage == "step":
                r.rpc("reset", instance_id=instance_id)
            error = error_of(r, stage, instance_id=instance_id, **calls[stage])
        assert (error["code"], error["message"]) == (code, message)
        assert r.rpc("server_info")["version"]  # the connection carries on
    still_serves(srv.url)
    eventually(lambda: health(srv)["envs"] == 0, what="no envs left")


def test_large_legacy_replies_are_the_same_text_in_both_modes() -> None:
    texts = []
    for mode in ("none", "process"):
        with running_server("--import", "tests.support", "--isolation", mode) as srv, remote(srv.url) as r:
            instance_id = r.make("gymie-test/Image-v0")
            texts.append(r.text("reset", instance_id=instance_id))
    assert len(texts[0]) > 1 << 16  # a frame a worker encodes itself
    assert texts[1] == texts[0]  # 0.5.4's spaced text, from a worker too


# -- a worker that dies ------------------------------------------------------------


@pytest.mark.parametrize(
    ("how", "reason"), [("segfault", "SIGSEGV"), ("exit", "status 3"), ("kill", "SIGKILL")]
)
def test_a_worker_that_dies_mid_step_fails_that_request_only(
    isolated: ServerProcess, how: str, reason: str
) -> None:
    with remote(isolated.url) as victim, remote(isolated.url) as bystander:
        other = make(bystander)
        instance_id = make(victim, at="step", how=how)
        error = error_of(victim, "step", instance_id=instance_id, action=0)
        assert error["code"] == -32007 and error["data"]["error"] == "WorkerCrashed"
        assert error["message"].startswith("Environment crashed: worker ") and reason in error["message"]
        assert error_of(victim, "reset", instance_id=instance_id)["code"] == -32001  # removed
        assert bystander.rpc("step", instance_id=other, action=1)["reward"] == 1.0
        assert health(isolated)["envs"] == 1
    eventually(lambda: health(isolated)["workers"] == 0, what="every worker reaped")


def test_a_legacy_client_sees_a_crash_as_close_1011(isolated: ServerProcess) -> None:
    with remote(isolated.url) as r:
        instance_id = r.make(faults.ENV_ID, at="reset", how="segfault")
        code, reason = r.closed_by("reset", instance_id=instance_id)
    assert code == 1011 and reason.startswith("Environment crashed: worker ") and "SIGSEGV" in reason
    still_serves(isolated.url)


def test_a_hung_env_times_out_and_its_worker_is_killed(isolated: ServerProcess) -> None:
    with remote(isolated.url) as r, remote(isolated.url) as bystander:
        other = make(bystander)
        instance_id = make(r, at="step", how="hang")
        started = time.monotonic()
        send(r, 1, "step", instance_id=instance_id, action=0)
        assert bystander.rpc("step", instance_id=other, action=0)["reward"] == 1.0  # while it hangs
        error = json.loads(r.ws.recv(timeout=TIMEOUT))["error"]
        assert time.monotonic() - started < 4 * SCALE
        assert error["code"] == -32008
        assert error["message"].startswith("Environment timed out: no reply within 2 s")
        assert error_of(r, "reset", instance_id=instance_id)["code"] == -32001
    eventually(lambda: health(isolated)["workers"] == 0, what="the hung worker killed")


def test_a_user_get_env_override_runs_in_the_worker(isolated: ServerProcess) -> None:
    with remote(isolated.url) as r:
        instance_id = r.rpc("make", env_id="Custom-v0")["instance_id"]
        pid = r.rpc("reset", instance_id=instance_id)["info"]["pid"]
    assert pid != health(isolated)["pid"]


# -- a slow env and the hub --------------------------------------------------------


def latencies_while_a_slow_step_runs(url: str) -> tuple[list[float], float]:
    """Another connection's step round trips while one connection's step sleeps 1 s."""
    with remote(url) as slow, remote(url) as fast:
        slow_id = make(slow, sleep=1.0)
        fast_id = make(fast)
        started = time.monotonic()
        send(slow, 9, "step", instance_id=slow_id, action=0)
        time.sleep(0.1)
        latencies = []
        for _ in range(5):
            t = time.monotonic()
            fast.rpc("step", instance_id=fast_id, action=0)
            latencies.append(time.monotonic() - t)
        assert json.loads(slow.ws.recv(timeout=TIMEOUT))["result"]["reward"] == 1.0
        return latencies, time.monotonic() - started


def test_a_slow_step_does_not_stall_other_connections(isolated: ServerProcess) -> None:
    latencies, slow_took = latencies_while_a_slow_step_runs(isolated.url)
    assert max(latencies) < 0.5 * SCALE, latencies
    assert slow_took >= 1.0


def test_without_isolation_a_slow_step_stalls_everyone(in_process: ServerProcess) -> None:
    # The control experiment: the measurement above does see a stalled hub.
    latencies, _ = latencies_while_a_slow_step_runs(in_process.url)
    assert max(latencies) > 0.7


# -- a client that vanishes --------------------------------------------------------


@pytest.mark.parametrize("mode", ["none", "process"])
def test_a_client_vanishing_mid_step_leaves_the_server_up_and_closes_its_env(
    request: pytest.FixtureRequest, mode: str, tmp_path: Path
) -> None:
    srv = servers(request, mode)
    trace = tmp_path / "trace"
    with remote(srv.url) as r:
        instance_id = make(r, sleep=0.5, trace=str(trace))
        send(r, 1, "step", instance_id=instance_id, action=0)
        eventually(lambda: "stepping" in faults.traced(trace), what="the step under way")
        r.ws.socket.shutdown(socket.SHUT_RDWR)  # gone mid-step, no close frame
        r.ws.socket.close()
    eventually(lambda: faults.traced(trace) == ["made", "stepping", "closed"], what="the env closed")
    eventually(lambda: health(srv)["envs"] == 0 and health(srv)["connections"] == 0, what="nothing left")
    still_serves(srv.url)


# -- SIGTERM ----------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["none", "process"])
def test_sigterm_answers_requests_in_flight_then_closes_1001_and_exits_0(mode: str, tmp_path: Path) -> None:
    srv = start_server(*FAULTS, "--isolation", mode)
    trace = tmp_path / "trace"
    try:
        with remote(srv.url) as busy, remote(srv.url) as idle:
            instance_id = make(busy, sleep=1.0, trace=str(trace))
            send(busy, 7, "step", instance_id=instance_id, action=0)
            eventually(lambda: "stepping" in faults.traced(trace), what="the step under way")
            srv.proc.send_signal(signal.SIGTERM)
            reply = json.loads(busy.ws.recv(timeout=TIMEOUT))
            assert reply["id"] == 7 and reply["result"]["reward"] == 1.0  # the request in flight is answered
            assert busy.close_frame() == (1001, "Server shutting down")
            assert idle.close_frame() == (1001, "Server shutting down")
        assert srv.proc.wait(TIMEOUT) == 0
        assert faults.traced(trace) == ["made", "stepping", "closed"]
        assert "Gymie stopped" in "".join(srv.output)
    finally:
        srv.stop()


def test_sigterm_on_an_idle_server_exits_0_at_once() -> None:
    srv = start_server()
    started = time.monotonic()
    srv.proc.send_signal(signal.SIGTERM)
    assert srv.proc.wait(TIMEOUT) == 0
    assert time.monotonic() - started < 2 * SCALE
    srv.stop()


def test_a_request_stuck_past_the_shutdown_timeout_is_cut(tmp_path: Path) -> None:
    srv = start_server(*FAULTS, "--isolation", "process", "--shutdown-timeout", "1")
    trace = tmp_path / "trace"
    try:
        with remote(srv.url) as r:
            instance_id = make(r, at="step", how="hang", trace=str(trace))
            send(r, 1, "step", instance_id=instance_id, action=0)
            eventually(lambda: "stepping" in faults.traced(trace), what="the step under way")
            started = time.monotonic()
            srv.proc.send_signal(signal.SIGTERM)
            assert srv.proc.wait(TIMEOUT) == 0
            assert time.monotonic() - started < 3 * SCALE
    finally:
        srv.stop()
