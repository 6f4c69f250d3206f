"""Issue 8, the transport half: one hostile client, with a short script, against a real server.

Each test starts its own server subprocess on loopback, capped at 1.5 GB of address space
(a regression fails the test instead of waking the OOM killer), and is bounded in time.
"""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from gymie.server.descriptors import Budget, budget
from gymie.settings import Settings
from tests.conftest import ROOT, TIMEOUT, ServerProcess, start_server
from tests.http_helpers import eventually, health, http_get, raw_connect, upgrade_request
from tests.remote import remote

MEMORY_CAP = 1536 * 2**20
CARTPOLE = "CartPole-v1"
HANDSHAKE = {
    "Upgrade": "websocket",
    "Connection": "Upgrade",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version": "13",
}


def limited(nofile: tuple[int, int] | None = None) -> list[str]:
    """``prlimit`` capping the address space (and, if given, the descriptors) of the command after it.

    (Not ``preexec_fn``: once a test has imported eventlet, forking from Python warns.)
    """
    cmd = ["prlimit", f"--as={MEMORY_CAP}"]
    if nofile is not None:
        cmd.append(f"--nofile={nofile[0]}:{nofile[1]}")
    return cmd


def capped(
    *args: str, nofile: tuple[int, int] | None = None, env: dict[str, str] | None = None
) -> ServerProcess:
    gymie = [sys.executable, "-m", "gymie", "--host", "127.0.0.1", "--port", "0"]
    return start_server(*args, env=env, command=[*limited(nofile), *gymie])


def logged(server: ServerProcess, text: str) -> int:
    """How many lines of the server's log contain ``text``."""
    return sum(text in line for line in list(server.output))


def rss(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) * 1024  # type: ignore[union-attr]


def raw_websocket(server: ServerProcess, rcvbuf: int | None = None) -> socket.socket:
    """A WebSocket opened by hand, so the test decides when (and whether) to read."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(TIMEOUT)
    sock.connect(("127.0.0.1", server.port))
    sock.sendall(upgrade_request(server))
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def frame_header(length: int, opcode: int = 1) -> bytes:
    """A final, masked frame's header (mask 0: the payload goes as is)."""
    if length < 126:
        return struct.pack("!BB", 0x80 | opcode, 0x80 | length) + bytes(4)
    return struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length) + bytes(4)


def rpc(request_id: int, method: str, **params: Any) -> str:
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})


def text_frame(text: str) -> bytes:
    payload = text.encode()
    return frame_header(len(payload)) + payload


def closed_within(sock: socket.socket, seconds: float, drip: bytes = b"") -> bool:
    """Send ``drip`` a byte every 0.1 s until the server closes the connection or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    sock.settimeout(0.1)
    index = 0
    while time.monotonic() < deadline:
        try:
            if index < len(drip):
                sock.send(drip[index : index + 1])
                index += 1
            if not sock.recv(65536):
                return True
        except TimeoutError:
            continue
        except OSError:
            return True
    return False


def children_of(pid: int) -> list[int]:
    """Live (not zombie) processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z" and int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# -- item 1: resource exhaustion never ends the process ------------------------------------


def test_item1_accept_survives_descriptor_exhaustion() -> None:
    srv = capped("--handshake-timeout", "2")
    socks: list[socket.socket] = []
    try:
        pid = srv.proc.pid
        room = len(os.listdir(f"/proc/{pid}/fd")) + 6
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (room, room))
        for _ in range(60):  # many more than `room`: accept() fails with EMFILE
            socks.append(socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT))
        eventually(lambda: logged(srv, "cannot accept connections") > 0, what="the EMFILE warning")
        time.sleep(1.0)
        assert srv.proc.poll() is None, "".join(srv.output)
        for sock in socks:
            sock.close()
        eventually(lambda: logged(srv, "accepting connections again") > 0, what="accepting again")
        assert health(srv)["status"] == "ok"
        with remote(srv.url) as r:
            instance_id = r.rpc("make", env_id=CARTPOLE)["instance_id"]
            r.rpc("reset", instance_id=instance_id)
            assert "observation" in r.rpc("step", instance_id=instance_id, action=0)
        assert logged(srv, "cannot accept connections") == 1, "one warning per burst"
    finally:
        for sock in socks:
            sock.close()
        srv.stop()


def test_item1_the_connection_limit_fits_the_descriptor_limit() -> None:
    srv = capped(nofile=(64, 64))
    socks: list[socket.socket] = []
    try:
        assert logged(srv, "file descriptors (ulimit -n") == 1, "".join(srv.output)
        with remote(srv.url) as r:
            fitted = r.rpc("server_info")["limits"]["max_connections"]
        assert 1 <= fitted < 64
        for _ in range(150):
            socks.append(socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT))
        time.sleep(1.0)
        assert srv.proc.poll() is None, "".join(srv.output)
        for sock in socks:
            sock.close()
        eventually(lambda: http_get(srv, "/healthz")[0] == 200, what="/healthz after the flood")
    finally:
        for sock in socks:
            sock.close()
        srv.stop()
    raised = capped(nofile=(64, 4096))
    try:
        limits_text = Path(f"/proc/{raised.proc.pid}/limits").read_text()
        assert re.search(r"Max open files\s+4096\s+4096", limits_text), limits_text
        assert logged(raised, "file descriptors (ulimit -n") == 0, "".join(raised.output)
    finally:
        raised.stop()


def test_item1_descriptor_budget() -> None:
    assert budget(Settings(), 20_000, 20) == Budget(1000, 64, 20_000)
    under_1024 = budget(Settings(), 1024, 15)  # the case: 1000 + 64 did not fit
    assert (under_1024.max_connections, under_1024.headroom) == (929, 64)
    assert under_1024.warning is not None and "fit 929 WebSockets, not 1000" in under_1024.warning
    isolated = budget(Settings(isolation="process", max_envs=100, max_workers=200), 1024, 15)
    assert isolated.max_connections == 929 - 4 * 100  # at most max_envs workers
    by_workers = budget(Settings(isolation="process", max_connections=None, max_workers=50), 1024, 15)
    assert by_workers == Budget(929 - 4 * 50, 64, 1024)  # at most max_workers workers
    assert budget(Settings(), 20, 18).max_connections == 1


# -- item 2: a peer that stops reading; fragments held at their size --------------------------


def test_item2_send_timeout_closes_a_peer_that_stops_reading() -> None:
    srv = capped("--send-timeout", "1")
    sock = raw_websocket(srv, rcvbuf=4096)
    try:
        sock.sendall(text_frame(rpc(1, "make", env_id=CARTPOLE, render_mode="rgb_array")))
        instance_id = json.loads(sock.recv(4096)[2:])["result"]["instance_id"]
        sock.sendall(text_frame(rpc(2, "reset", instance_id=instance_id)))
        for i in range(3, 10):  # each rendered frame is ~2 MB of JSON; none is read
            sock.sendall(text_frame(rpc(i, "render", instance_id=instance_id)))
        eventually(lambda: health(srv)["connections"] == 0, timeout=1 + TIMEOUT, what="the connection closed")
        assert health(srv)["envs"] == 0
        assert logged(srv, "a send stayed blocked for 1 s") == 1, "".join(srv.output)
    finally:
        sock.close()
        srv.stop()


def test_item2_a_dribbled_frame_costs_about_its_size() -> None:
    srv = capped()
    sock = raw_websocket(srv)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        time.sleep(0.3)
        before = rss(srv.proc.pid)
        sock.sendall(frame_header(8 * 2**20 - 1, opcode=2))
        sent, deadline = 0, time.monotonic() + 2.0
        while time.monotonic() < deadline:  # one byte per TCP segment, for two seconds
            for _ in range(200):
                sock.send(b"x")
            sent += 200
        time.sleep(0.5)
        grown = rss(srv.proc.pid) - before
        assert grown < 3 * sent + 4 * 2**20, f"{sent} bytes held in {grown} bytes ({grown / sent:.1f}x)"
        assert srv.proc.poll() is None
    finally:
        sock.close()
        srv.stop()


# -- item 5: every HTTP request has a deadline; /healthz answers when full and dripped ------


def test_item5_a_second_request_or_a_body_cannot_be_dripped_forever() -> None:
    srv = capped("--handshake-timeout", "1")
    try:
        with raw_connect(srv) as keep_alive:
            keep_alive.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert keep_alive.recv(65536).startswith(b"HTTP/1.1 200")
            assert closed_within(keep_alive, 3.0, drip=b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X" * 60)
        with raw_connect(srv) as body:
            body.sendall(b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
            assert body.recv(65536).startswith(b"HTTP/1.1 200")
            assert closed_within(body, 3.0, drip=b"y" * 60)
        with raw_connect(srv) as slow_handshake:
            assert closed_within(slow_handshake, 3.0, drip=upgrade_request(srv)[:-2])
    finally:
        srv.stop()


def test_item5_healthz_answers_while_websockets_are_full_and_clients_drip() -> None:
    srv = capped("--max-connections", "2", "--handshake-timeout", "60")
    drippers: list[socket.socket] = []
    try:
        with remote(srv.url), remote(srv.url):
            assert http_get(srv, "/gym", headers=HANDSHAKE)[0] == 503
            for _ in range(100):  # more than the 64 spare green threads
                sock = raw_connect(srv)
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                drippers.append(sock)
            time.sleep(0.5)
            started = time.monotonic()
            status, _, body = http_get(srv, "/healthz")
            assert status == 200 and b'"connections": 2' in body
            assert time.monotonic() - started < 2.0
    finally:
        for sock in drippers:
            sock.close()
        srv.stop()


# -- item 6: the supervisor's children die with it ---------------------------------------


def test_item6_children_die_with_a_killed_supervisor_and_the_port_is_free() -> None:
    srv = capped("--processes", "2")
    children: list[int] = []
    again: ServerProcess | None = None
    try:
        children = children_of(srv.proc.pid)
        assert len(children) >= 2
        os.kill(srv.proc.pid, signal.SIGKILL)
        srv.proc.wait(TIMEOUT)
        eventually(lambda: not any(map(alive, children)), what="the children exited")
        again = capped("--port", str(srv.port), "--processes", "2")
        assert again.port == srv.port
        assert health(again)["status"] == "ok"
    finally:
        for pid in children:  # only left over when the test fails
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        srv.stop()
        if again is not None:
            again.stop()


# -- item 8: no silent downgrade of security ----------------------------------------------


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--token", ""], {}),
        (["--token", "  "], {}),
        ([], {"GYMIE_TOKEN": ""}),
        (["--allowed-origins", ""], {}),
        (["--allowed-origins", " , "], {}),
    ],
)
def test_item8_an_empty_token_or_origin_list_is_refused_at_start(
    args: list[str], env: dict[str, str]
) -> None:
    cmd = [sys.executable, "-m", "gymie", "--host", "127.0.0.1", "--port", "0", *args]
    done = _run_bounded(cmd, env)
    assert done.returncode == 2, done.stderr
    assert "empty" in done.stderr


@pytest.mark.parametrize(("call", "env"), [("token=''", {}), ("", {"GYMIE_TOKEN": ""})])
def test_item8_start_refuses_an_empty_token(call: str, env: dict[str, str]) -> None:
    code = f"import gymie; gymie.start('127.0.0.1', 0, {call})"
    done = _run_bounded([sys.executable, "-c", code], env)
    assert done.returncode == 1 and "ValueError: --token is empty" in done.stderr, done.stderr


def _run_bounded(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``cmd``; a server that starts instead of refusing is stopped and fails the test."""
    proc = subprocess.Popen(
        [*limited(), *cmd],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.terminate()
        out, err = proc.communicate(timeout=TIMEOUT)
        pytest.fail(f"the server started instead of refusing: {err}")
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


# -- item 10: a worker that dies while idle is given back at once -------------------------


def test_item10_an_idle_worker_killed_from_outside_frees_its_slot_at_once() -> None:
    srv = capped("--isolation", "process", "--max-envs", "1", "--import", "tests.faults")
    try:
        with remote(srv.url) as r:
            instance_id = r.rpc("make", env_id="gymie-test/Crash-v0")["instance_id"]
            worker = r.rpc("reset", instance_id=instance_id)["info"]["pid"]
            assert health(srv)["workers"] == 1
            os.kill(worker, signal.SIGKILL)
            eventually(
                lambda: (health(srv)["workers"], health(srv)["envs"]) == (0, 0),
                timeout=3.0,
                what="the dead worker forgotten",
            )
            again = r.rpc("make", env_id="gymie-test/Crash-v0")["instance_id"]
            assert r.rpc("reset", instance_id=again)["info"]["pid"] != worker
            assert r.rpc_reply("step", instance_id=instance_id, action=0)["error"]["code"] == -32001
    finally:
        srv.stop()
