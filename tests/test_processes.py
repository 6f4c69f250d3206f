"""``--processes N``: one port, N server processes, one supervisor that stops and restarts them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import faults
from tests.conftest import ROOT, SCALE, TIMEOUT, ServerProcess, start_server
from tests.http_helpers import eventually, health
from tests.remote import remote


@pytest.fixture(scope="module")
def pair() -> Iterator[ServerProcess]:
    srv = start_server("--processes", "2", "--import", "tests.faults")
    yield srv
    srv.stop()


def pids_serving(srv: ServerProcess, tries: int = 40) -> set[int]:
    """The pids that answer ``/healthz`` over ``tries`` fresh connections (the kernel spreads them).

    A connection the kernel queued at a process just killed is reset: that try is skipped.
    """
    pids = set()
    for _ in range(tries):
        try:
            pids.add(health(srv)["pid"])
        except ConnectionError:
            continue
    return pids


def test_two_processes_share_one_port(pair: ServerProcess) -> None:
    assert "".join(pair.output).count("listening on") == 1 and "(2 processes)" in "".join(pair.output)
    pids = pids_serving(pair)
    assert len(pids) == 2 and pair.proc.pid not in pids
    with remote(pair.url) as r:  # an instance lives in the process of its connection
        instance_id = r.rpc("make", env_id="CartPole-v1")["instance_id"]
        r.rpc("reset", instance_id=instance_id)
        assert r.rpc("step", instance_id=instance_id, action=0)["reward"] == 1.0


def test_a_server_process_that_dies_is_restarted(pair: ServerProcess) -> None:
    before = pids_serving(pair)
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    eventually(lambda: len(pids_serving(pair, 10) - before) == 1, timeout=3 * TIMEOUT, what="a new process")
    with remote(pair.url) as r:
        assert r.rpc("make", env_id="CartPole-v1")


def test_sigterm_drains_every_process_then_exits_0(tmp_path: Path) -> None:
    # Isolated envs: the 4 steps run at once, so all 4 are surely in flight at SIGTERM.
    srv = start_server("--processes", "2", "--import", "tests.faults", "--isolation", "process")
    trace = tmp_path / "trace"
    try:
        conns = [remote(srv.url) for _ in range(4)]
        clients = [c.__enter__() for c in conns]
        for i, r in enumerate(clients):
            instance_id = r.rpc("make", env_id=faults.ENV_ID, sleep=1.0, trace=str(trace))["instance_id"]
            r.rpc("reset", instance_id=instance_id)
            request = {
                "jsonrpc": "2.0",
                "id": 10 + i,
                "method": "step",
                "params": {"instance_id": instance_id, "action": 0},
            }
            r.ws.send(json.dumps(request))
        eventually(lambda: faults.traced(trace).count("stepping") == 4, what="4 steps under way")
        started = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        for i, r in enumerate(clients):
            reply = json.loads(r.ws.recv(timeout=TIMEOUT))
            assert reply["id"] == 10 + i and reply["result"]["reward"] == 1.0
            assert r.close_frame() == (1001, "Server shutting down")
        assert srv.proc.wait(TIMEOUT) == 0
        assert time.monotonic() - started < 5 * SCALE
        for c in conns:
            c.__exit__(None, None, None)
    finally:
        srv.stop()


def test_a_port_in_use_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "gymie", "--host", "127.0.0.1", "--port", str(port), "--processes", "2"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=3 * TIMEOUT,
        )
    assert proc.returncode == 1 and f"127.0.0.1:{port} already in use" in proc.stderr
