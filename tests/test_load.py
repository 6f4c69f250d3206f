"""Load: 200 connections at once doing make/step/close, and memory after 10,000 make/close cycles.

The figures these tests measure (connections held, replies, RSS before and after) are
printed with ``-s`` and recorded in ``bench/RESULTS.md``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect

from tests.conftest import TIMEOUT, ServerProcess, start_server
from tests.http_helpers import eventually, health

CLIENTS = 200
STEPS = 20
CYCLES = 10_000
BATCH = 100
RSS_SLACK_MB = 16
WORKER_CYCLES = 200


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    srv = start_server()
    yield srv
    srv.stop()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def client(
    url: str, index: int, everyone_connected: threading.Barrier, go: threading.Barrier, errors: list[str]
) -> None:
    """Connect, wait until all are connected (and counted), then make, pipeline reset + steps + close."""
    try:
        with connect(url, open_timeout=3 * TIMEOUT, close_timeout=TIMEOUT) as ws:
            everyone_connected.wait(3 * TIMEOUT)
            go.wait(3 * TIMEOUT)
            ws.send(
                json.dumps(
                    {
                        "jsonrpc": "2.0",
                        "id": 0,
                        "method": "make",
                        "params": {"env_id": "CartPole-v1", "seed": index},
                    }
                )
            )
            instance_id = json.loads(ws.recv(timeout=3 * TIMEOUT))["result"]["instance_id"]
            requests: list[dict[str, Any]] = [{"method": "reset", "params": {"instance_id": instance_id}}]
            requests += [
                {"method": "step", "params": {"instance_id": instance_id, "action": i % 2}}
                for i in range(STEPS)
            ]
            requests.append({"method": "close", "params": {"instance_id": instance_id}})
            for rid, request in enumerate(requests, 1):
                ws.send(json.dumps({"jsonrpc": "2.0", "id": rid, **request}))
            for rid in range(1, len(requests) + 1):
                reply = json.loads(ws.recv(timeout=3 * TIMEOUT))
                if reply.get("id") != rid or "result" not in reply:
                    errors.append(f"client {index}: expected reply {rid}, got {reply}")
                    return
    except Exception as exc:  # reported, not raised: the thread must not die silently
        errors.append(f"client {index}: {exc!r}")


def test_200_connections_at_once_get_every_reply_in_order(server: ServerProcess) -> None:
    everyone_connected = threading.Barrier(CLIENTS + 1)
    go = threading.Barrier(CLIENTS + 1)  # counted before any client can finish and leave
    errors: list[str] = []
    threads = [
        threading.Thread(target=client, args=(server.url, i, everyone_connected, go, errors))
        for i in range(CLIENTS)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    everyone_connected.wait(3 * TIMEOUT)
    held = health(server)["connections"]
    go.wait(3 * TIMEOUT)
    for thread in threads:
        thread.join(6 * TIMEOUT)
    took = time.monotonic() - started
    assert errors == []
    assert held == CLIENTS
    eventually(lambda: health(server)["envs"] == 0 and health(server)["connections"] == 0, what="all closed")
    print(f"\n{CLIENTS} connections held at once, {CLIENTS * (STEPS + 3)} replies in order, {took:.1f} s")


def make_close_cycles(url: str, n: int, batch: int) -> None:
    """Make and close ``n`` CartPoles over one connection, ``batch`` at a time in JSON-RPC batches."""
    with connect(url, open_timeout=TIMEOUT) as ws:
        for _ in range(n // batch):
            makes = [
                {"jsonrpc": "2.0", "id": i, "method": "make", "params": {"env_id": "CartPole-v1"}}
                for i in range(batch)
            ]
            ws.send(json.dumps(makes))
            ids = [r["result"]["instance_id"] for r in json.loads(ws.recv(timeout=TIMEOUT))]
            closes = [
                {"jsonrpc": "2.0", "id": i, "method": "close", "params": {"instance_id": iid}}
                for i, iid in enumerate(ids)
            ]
            ws.send(json.dumps(closes))
            assert all(r["result"] is True for r in json.loads(ws.recv(timeout=TIMEOUT)))


def test_memory_returns_near_its_baseline_after_10000_make_close_cycles(server: ServerProcess) -> None:
    pid = health(server)["pid"]

    def cycles(n: int) -> None:
        make_close_cycles(server.url, n, BATCH)

    cycles(1_000)  # warm-up: imports, caches, allocator pools
    baseline = rss_mb(pid)
    started = time.monotonic()
    cycles(CYCLES)
    took = time.monotonic() - started
    after = rss_mb(pid)
    assert health(server)["envs"] == 0
    print(f"\nRSS {baseline:.1f} MB -> {after:.1f} MB after {CYCLES} make/close cycles ({took:.1f} s)")
    assert after - baseline < RSS_SLACK_MB


def fds(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))


def test_worker_make_close_cycles_leak_no_fds_and_no_memory() -> None:
    srv = start_server("--isolation", "process")
    try:
        pid = health(srv)["pid"]

        def cycles(n: int) -> None:
            make_close_cycles(srv.url, n, 10)

        cycles(20)
        time.sleep(0.2)  # let the server finish closing the connection of the warm-up
        before_fds, before_rss = fds(pid), rss_mb(pid)
        started = time.monotonic()
        cycles(WORKER_CYCLES)
        took = time.monotonic() - started
        eventually(lambda: health(srv)["workers"] == 0, what="every worker reaped")
        print(
            f"\nworkers: fds {before_fds} -> {fds(pid)}, RSS {before_rss:.1f} -> {rss_mb(pid):.1f} MB, "
            f"{WORKER_CYCLES} cycles {took:.1f} s"
        )
        # A /healthz connection just made may still be open on the server side for a moment.
        eventually(lambda: fds(pid) <= before_fds, what=f"open fds back to {before_fds}")
        assert rss_mb(pid) - before_rss < RSS_SLACK_MB
    finally:
        srv.stop()
