"""What a server logs: connections and envs at INFO, warnings as plain lines, little else.

Each server here runs in a subprocess and its output is read as an operator would read it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

import gymie.client
from tests.conftest import ROOT, TIMEOUT, ServerProcess, running_server, start_server
from tests.http_helpers import eventually, free_port
from tests.remote import remote

BANNER = "Eventlet is deprecated"
ID = r"[0-9a-f]{32}"


@pytest.fixture(scope="module")
def srv() -> Iterator[ServerProcess]:
    with running_server() as server:
        yield server


def wait_logged(server: ServerProcess, pattern: str) -> re.Match[str]:
    found: list[re.Match[str]] = []

    def check() -> bool:
        found[:] = [m for line in list(server.output) if (m := re.search(pattern, line))]
        return bool(found)

    eventually(check, what=f"a log line matching {pattern!r}:\n" + "".join(server.output))
    return found[-1]


def test_one_line_per_connection_and_per_env(srv: ServerProcess) -> None:
    with gymie.client.connect(srv.url) as client:
        env = client.make("CartPole-v1")
        env.close()
    opened = wait_logged(
        srv, r" INFO connection (\d+) opened from 127\.0\.0\.1:\d+ \(subprotocol gymie\.msgpack\)"
    )
    conn = opened.group(1)
    made = wait_logged(srv, rf" INFO env ({ID}) made \(CartPole-v1, connection {conn}\)$")
    wait_logged(srv, rf" INFO env {made.group(1)} closed \(CartPole-v1, connection {conn}\)$")
    wait_logged(srv, rf" INFO connection {conn} closed \(127\.0\.0\.1:\d+, msgpack, \d+ message\(s\)\)$")

    with remote(srv.url) as r:  # a 0.5.4 client that leaves its env open: it closes with the connection
        instance_id = r.make("CartPole-v1")
    legacy = wait_logged(srv, rf" INFO env {instance_id} made \(CartPole-v1, connection (\d+)\)$").group(1)
    wait_logged(srv, rf" INFO connection {legacy} opened from 127\.0\.0\.1:\d+ \(subprotocol none\)$")
    wait_logged(srv, rf" INFO connection {legacy} closed \(127\.0\.0\.1:\d+, legacy, 1 message\(s\)\)$")
    wait_logged(srv, rf" INFO env {instance_id} closed \(CartPole-v1, connection {legacy}\)$")

    with gymie.client.connect(srv.url, encoding="json") as client:
        client.list_envs()
    wait_logged(srv, r" INFO connection \d+ closed \(127\.0\.0\.1:\d+, jsonrpc, 1 message\(s\)\)$")
    assert not any(BANNER in line for line in srv.output)


def test_gymnasium_warnings_arrive_as_one_plain_log_line(srv: ServerProcess) -> None:
    with remote(srv.url) as r:
        instance_id = r.make("CartPole-v1", seed=0)
        r.call("reset", instance_id=instance_id)
        done = False
        while not done:
            _, _, done, _ = r.call("step", instance_id=instance_id, action=0)
        r.call("step", instance_id=instance_id, action=0)  # after the end: Gymnasium warns (in yellow)
    line = wait_logged(srv, r"You are calling 'step\(\)' even though").string
    assert re.search(r" py\.warnings\[\d+\] WARNING UserWarning: WARN: You are calling 'step\(\)'", line)
    assert not any("\x1b[" in text for text in srv.output)


def test_quiet_at_warning() -> None:
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "gymie",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "WARNING",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    try:
        url = f"ws://127.0.0.1:{port}/gym"
        deadline = time.monotonic() + 3 * TIMEOUT
        while True:
            try:
                client = gymie.client.connect(url, timeout=TIMEOUT)
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "the server did not start"
                time.sleep(0.1)
        with client:
            client.make("CartPole-v1").close()
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 0
    assert " INFO " not in output and BANNER not in output and output.strip() == "", output


def test_gymie_start_logs_where_it_listens() -> None:
    script = "import gymie; gymie.start('127.0.0.1', 0)"
    server = start_server(command=[sys.executable, "-c", script])  # waits for "listening on ws://..."
    try:
        with gymie.client.connect(server.url) as client:
            assert "CartPole-v1" in client.list_envs()
    finally:
        assert server.stop() == 0
    assert re.search(r" gymie\[\d+\] INFO Gymie listening on ws://127\.0\.0\.1:\d+/gym$", server.output[0])


def test_eventlet_banner_not_printed_by_any_of_several_processes() -> None:
    server = start_server("--processes", "2")
    try:
        with gymie.client.connect(server.url) as client:
            client.make("CartPole-v1").close()
    finally:
        assert server.stop() == 0
    assert not any(BANNER in line for line in server.output), "".join(server.output)
