"""``--processes 2`` against one process: 4 client processes stepping a CPU-bound env.

Run from the repository root::

    .venv/bin/python bench/bench_processes.py [--rounds 3] [--seconds 4] [--burn-ms 2]

Each round starts ``python -m gymie --processes N --import bench.bench_processes``, then 4
client processes (spawned, one WebSocket each) make ``gymie-bench/Burn-v0``, whose ``step``
burns ``--burn-ms`` of CPU in Python (holding the GIL, like a real env's physics), and step
it as fast as replies come for ``--seconds``. Rounds alternate between 1 and 2 processes; the
table shows the medians over rounds, and how the kernel spread the 4 connections (SO_REUSEPORT
hashes each connection to one process: with 4 connections, 1 round in 8 puts all on one).

Importing this module registers the env (that is what ``--import`` is for); the benchmark
code only runs under ``__main__``.
"""

from __future__ import annotations

import os
import time
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

ENV_ID = "gymie-bench/Burn-v0"


class BurnEnv(gymnasium.Env[np.ndarray, int]):
    """A stand-in for a CPU-heavy env: each step burns ``burn_ms`` of CPU time; reset says its pid."""

    def __init__(self, burn_ms: float = 2.0) -> None:
        self.burn = burn_ms / 1000
        self.observation_space = spaces.Box(-1, 1, (4,), np.float32)
        self.action_space = spaces.Discrete(2)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        return np.zeros(4, np.float32), {"pid": os.getpid()}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        end = time.thread_time() + self.burn
        while time.thread_time() < end:
            pass
        return np.zeros(4, np.float32), 1.0, False, False, {}


if ENV_ID not in gymnasium.registry:
    gymnasium.register(ENV_ID, entry_point=BurnEnv, disable_env_checker=True)


def client(url: str, burn_ms: float, seconds: float, start: Any, results: Any) -> None:
    """One client process: make, reset, wait for the others, then step for ``seconds``."""
    import json

    from websockets.sync.client import connect

    with connect(url, open_timeout=30) as ws:

        def call(method: str, **params: Any) -> Any:
            ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
            return json.loads(ws.recv(timeout=30))["result"]

        instance_id = call("make", env_id=ENV_ID, burn_ms=burn_ms)["instance_id"]
        pid = call("reset", instance_id=instance_id)["info"]["pid"]
        for _ in range(10):
            call("step", instance_id=instance_id, action=0)
        start.wait(60)
        latencies = []
        began = time.perf_counter()
        while (now := time.perf_counter()) - began < seconds:
            call("step", instance_id=instance_id, action=0)
            latencies.append(time.perf_counter() - now)
        call("close", instance_id=instance_id)
    results.put((pid, len(latencies), time.perf_counter() - began, latencies))


def one_round(processes: int, clients: int, burn_ms: float, seconds: float) -> dict[str, Any]:
    """Start a server with ``processes``, run the clients against it, stop it; return the figures."""
    import multiprocessing
    import statistics

    from tests.conftest import running_server

    with running_server("--processes", str(processes), "--import", "bench.bench_processes") as srv:
        context = multiprocessing.get_context("spawn")
        start, results = context.Barrier(clients), context.Queue()
        procs = [
            context.Process(target=client, args=(srv.url, burn_ms, seconds, start, results))
            for _ in range(clients)
        ]
        for proc in procs:
            proc.start()
        outcomes = [results.get(timeout=120) for _ in procs]
        for proc in procs:
            proc.join(30)
    steps = sum(n for _, n, _, _ in outcomes)
    wall = max(t for _, _, t, _ in outcomes)
    latencies = [x for *_, lats in outcomes for x in lats]
    shares = sorted(  # per server process: (connections, steps)
        (
            (sum(1 for o in outcomes if o[0] == pid), sum(o[1] for o in outcomes if o[0] == pid))
            for pid in {o[0] for o in outcomes}
        ),
        reverse=True,
    )
    return {
        "steps_per_s": steps / wall,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": float(np.percentile(latencies, 99)) * 1000,
        "spread": "-".join(str(n) for n, _ in shares)
        + " ("
        + "+".join(f"{k / wall:.0f}" for _, k in shares)
        + ")",
    }


def isolation_overhead(steps: int) -> dict[str, dict[str, float]]:
    """One client stepping CartPole-v1 over JSON-RPC, with and without ``--isolation process``."""
    import json
    import statistics

    from websockets.sync.client import connect

    from tests.conftest import start_server

    figures = {}
    for isolation in ("none", "process"):
        srv = start_server("--isolation", isolation)
        try:
            with connect(srv.url, open_timeout=30) as ws:

                def call(method: str, **params: Any) -> Any:
                    ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
                    return json.loads(ws.recv(timeout=30))["result"]

                made = time.perf_counter()
                instance_id = call("make", env_id="CartPole-v1")["instance_id"]
                make_ms = (time.perf_counter() - made) * 1000
                call("reset", instance_id=instance_id)
                latencies = []
                for i in range(steps):
                    began = time.perf_counter()
                    if call("step", instance_id=instance_id, action=i % 2)["terminated"]:
                        call("reset", instance_id=instance_id)
                    latencies.append(time.perf_counter() - began)
                closed = time.perf_counter()
                call("close", instance_id=instance_id)
                close_ms = (time.perf_counter() - closed) * 1000
        finally:
            srv.stop()
        figures[isolation] = {
            "steps_per_s": len(latencies) / sum(latencies),
            "p50_us": statistics.median(latencies) * 1e6,
            "p99_us": float(np.percentile(latencies, 99)) * 1e6,
            "make_ms": make_ms,
            "close_ms": close_ms,
        }
    return figures


def main() -> None:
    """Alternate rounds of 1 and 2 processes; print a table of medians and the ratio."""
    import argparse
    import statistics
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--burn-ms", type=float, default=2.0)
    parser.add_argument("--overhead-steps", type=int, default=3000)
    args = parser.parse_args()
    runs: dict[int, list[dict[str, Any]]] = {1: [], 2: []}
    for _ in range(args.rounds):
        for processes in (1, 2):
            runs[processes].append(one_round(processes, args.clients, args.burn_ms, args.seconds))
    print(
        f"\n{args.clients} client processes, {args.burn_ms:g} ms CPU per step, {args.seconds:g} s per round, "
        f"{args.rounds} rounds, {os.cpu_count()} CPUs\n"
    )
    print("| server | steps/s (median) | p50 ms | p99 ms | steps/s by round | conns (steps/s) by process |")
    print("|---|---|---|---|---|---|")
    medians = {}
    for processes, rounds in runs.items():
        medians[processes] = statistics.median(r["steps_per_s"] for r in rounds)
        print(
            f"| --processes {processes} | {medians[processes]:.0f} "
            f"| {statistics.median(r['p50_ms'] for r in rounds):.2f} "
            f"| {statistics.median(r['p99_ms'] for r in rounds):.2f} "
            f"| {', '.join(format(r['steps_per_s'], '.0f') for r in rounds)} "
            f"| {', '.join(r['spread'] for r in rounds)} |"
        )
    pairs = [two["steps_per_s"] / one["steps_per_s"] for one, two in zip(runs[1], runs[2], strict=True)]
    print(f"\nratio (2 processes / 1): {medians[2] / medians[1]:.2f}x of the medians (target >= 1.6x); ")
    print(f"round by round: {', '.join(f'{r:.2f}x' for r in pairs)} (median {statistics.median(pairs):.2f}x)")
    overhead = isolation_overhead(args.overhead_steps)
    print(f"\nIsolation overhead: 1 client, CartPole-v1, JSON-RPC, {args.overhead_steps} steps\n")
    print("| --isolation | steps/s | p50 µs | p99 µs | make ms | close ms |")
    print("|---|---|---|---|---|---|")
    for isolation, f in overhead.items():
        print(
            f"| {isolation} | {f['steps_per_s']:.0f} | {f['p50_us']:.0f} | {f['p99_us']:.0f} "
            f"| {f['make_ms']:.1f} | {f['close_ms']:.1f} |"
        )


if __name__ == "__main__":
    main()
