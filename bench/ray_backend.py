"""``--isolation ray`` measured: step latency by backend, the hub under a slow actor, sharded vector envs.

Run from the repository root (needs ``gymie[ray,atari]``)::

    .venv/bin/python bench/ray_backend.py [--rounds 3] [--steps 2000] [--seconds 3]

1. Latency: one msgpack client steps CartPole-v1 on three servers started side by side
   (``--isolation none``, ``process``, ``ray`` joined to the simulated cluster); rounds rotate
   the order; medians over rounds of each round's p50/p99.
2. The hub: while one actor burns 1 s of CPU per step (``gymie-bench/Burn-v0``), another
   connection steps CartPole on the same Ray-backed server: its step latencies.
3. Shards: ``make_vec`` of 1024 CartPoles (``vector_entry_point``) and 64 Pongs (``sync``),
   in the server (reference) and as K = 1, 2, 4 actors; env-steps/s through one client.

The cluster is ``tests/ray_cluster.py``'s two simulated nodes, here with 2 logical CPUs each;
shards ask for ``num_cpus`` = 2 (K = 1, 2) or 1 (K = 4) so Ray spreads them over both nodes.
Everything shares the machine's cores; ``project`` turns the measured parts into a labelled
projection for a real cluster (one node per shard).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gymie.client  # noqa: E402
from bench.servers import ROOT, Server  # noqa: E402
from tests.ray_cluster import RayCluster  # noqa: E402

SHARDS = (1, 2, 4)
VECTORS = {  # name: (env_id, num_envs, vectorization_mode)
    "CartPole x1024": ("CartPole-v1", 1024, "vector_entry_point"),
    "Pong x64": ("ALE/Pong-v5", 64, "sync"),
}
RTT_MS = 0.2
"""Projection: network round trip between the server and a node (same data centre)."""
BANDWIDTH = 1.25e9
"""Projection: bytes/s between the server and a node (10 Gbit/s)."""


def start(cluster: RayCluster, isolation: str) -> Server:
    cmd = [sys.executable, "-m", "gymie", "--host", "127.0.0.1", "--port", "0", "--isolation", isolation]
    cmd += ["--import", "bench.bench_processes"]
    if isolation == "ray":
        cmd += ["--ray-address", cluster.address, "--ray-resources-allowed", "num_cpus"]
    server = Server(isolation, cmd, ROOT, env={**os.environ, **cluster.env, "PYTHONUNBUFFERED": "1"})
    return server.start()


def latency(url: str, steps: int) -> tuple[float, float]:
    """p50 and p99 (µs) of ``steps`` CartPole steps over msgpack."""
    with gymie.client.connect(url) as client:
        env = client.make("CartPole-v1")
        env.reset(seed=0)
        times = []
        for i in range(steps + 100):
            began = time.perf_counter()
            _, _, terminated, truncated, _ = env.step(i % 2)
            if i >= 100:
                times.append(time.perf_counter() - began)
            if terminated or truncated:
                env.reset()
        env.close()
    times.sort()
    return times[len(times) // 2] * 1e6, times[int(len(times) * 0.99)] * 1e6


def hub(url: str) -> list[float]:
    """Latencies (ms) of CartPole steps on one connection while another's actor burns 1 s per step."""
    with gymie.client.connect(url) as slow_client, gymie.client.connect(url) as fast_client:
        slow = slow_client.make("gymie-bench/Burn-v0", burn_ms=1000.0)
        fast = fast_client.make("CartPole-v1")
        slow.reset(), fast.reset()
        burner = threading.Thread(target=lambda: [slow.step(0) for _ in range(3)])
        burner.start()
        times = []
        while burner.is_alive():
            began = time.perf_counter()
            if any(fast.step(0)[2:4]):
                fast.reset()
            times.append((time.perf_counter() - began) * 1e3)
        burner.join()
    return times


def vector_rate(url: str, name: str, shards: int | None, seconds: float) -> tuple[float, list[str]]:
    """Env-steps/s of one vector env (``shards`` None: in the server); and the node of each shard."""
    env_id, num_envs, mode = VECTORS[name]
    kwargs: dict[str, Any] = {"vectorization_mode": mode}
    if shards is not None:
        kwargs |= {"num_shards": shards, "resources": {"num_cpus": min(2, 4 // shards)}}
    with gymie.client.connect(url, timeout=120) as client:
        venv = client.make_vec(env_id, num_envs=num_envs, **kwargs)
        info = client.call("env_info", instance_id=venv.instance_id)
        nodes = [shard["node_id"][:6] for shard in info.get("shards", [info])] if shards else []
        venv.reset(seed=0)
        actions = np.random.default_rng(0).integers(0, venv.single_action_space.n, (16, num_envs))
        for i in range(3):
            venv.step(actions[i])
        steps, began = 0, time.perf_counter()
        while time.perf_counter() - began < seconds:
            venv.step(actions[steps % 16])
            steps += 1
        rate = steps * num_envs / (time.perf_counter() - began)
        venv.close()
    return rate, nodes


def compute_per_step(name: str, num_envs: int, repeats: int = 50) -> float:
    """Seconds one in-process vector env of ``num_envs`` takes per step (what a node computes)."""
    import gymnasium

    from gymie.envs import import_namespace

    env_id, _, mode = VECTORS[name]
    import_namespace(env_id)
    env = gymnasium.make_vec(env_id, num_envs, mode)
    env.reset(seed=0)
    actions = np.zeros(num_envs, np.int64)
    for _ in range(3):
        env.step(actions)
    began = time.perf_counter()
    for _ in range(repeats):
        env.step(actions)
    seconds = (time.perf_counter() - began) / repeats
    env.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    began = time.time()
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    cluster = RayCluster(num_cpus=2)
    servers: dict[str, Server] = {}
    try:
        for isolation in ("none", "process", "ray"):
            servers[isolation] = start(cluster, isolation)
        run(servers, args)
    finally:
        for server in servers.values():
            server.stop()
        cluster.stop()
    print(f"\nload average after: {os.getloadavg()[0]:.2f}; {time.time() - began:.0f} s")


def run(servers: dict[str, Server], args: argparse.Namespace) -> None:
    columns = list(servers)
    samples: dict[str, list[tuple[float, float]]] = {c: [] for c in columns}
    for r in range(args.rounds):
        for column in columns[r % 3 :] + columns[: r % 3]:
            samples[column].append(latency(servers[column].url, args.steps))
    print("\n| CartPole-v1, one msgpack client | in-server | process worker | Ray actor |\n|---|---|---|---|")
    for i, label in enumerate(("round trip p50 µs", "round trip p99 µs")):
        cells = [f"{statistics.median(s[i] for s in samples[c]):,.0f}" for c in columns]
        print(f"| {label} | " + " | ".join(cells) + " |")
    cells = [f"{1e6 / statistics.median(s[0] for s in samples[c]):,.0f}" for c in columns]
    print("| steps/s (1 / p50) | " + " | ".join(cells) + " |")
    p50 = {c: statistics.median(s[0] for s in samples[c]) for c in columns}
    per_call = (p50["ray"] - p50["none"]) / 2 / 1e6  # the server's side of one actor call, roughly

    times = hub(servers["ray"].url)
    print(f"\nhub: {len(times)} CartPole steps during 3 s of 1 s actor steps:", end=" ")
    print(f"median {statistics.median(times):.2f} ms, max {max(times):.1f} ms")

    print("\n| env-steps/s | in-server | K=1 | K=2 | K=4 | K=2 / K=1 | K=4 / K=1 |")
    print("|---|---|---|---|---|---|---|")
    for name in VECTORS:
        rates: dict[Any, list[float]] = {}
        placed: dict[int, list[str]] = {}
        order: list[int | None] = [None, *SHARDS]
        for r in range(args.rounds):
            for shards in order[r % 4 :] + order[: r % 4]:
                url = servers["none" if shards is None else "ray"].url
                rate, placed[shards or 0] = vector_rate(url, name, shards, args.seconds)
                rates.setdefault(shards, []).append(rate)
        median = {k: statistics.median(v) for k, v in rates.items()}
        cells = [f"{median[k]:,.0f}" for k in order] + [f"{median[k] / median[1]:.2f}×" for k in (2, 4)]
        print(f"| {name} | " + " | ".join(cells) + " |")
        print(f"  nodes per shard: {placed}; efficiency K=2 {median[2] / (2 * median[1]):.0%}, "
              f"K=4 {median[4] / (4 * median[1]):.0%}")  # fmt: skip
        project(name, median[1], per_call)


def project(name: str, measured_k1: float, per_call: float) -> None:
    """A computed projection, one node per shard: the slowest shard's compute, the overhead measured
    at K=1, ``per_call`` for each further shard's reply, one network RTT, and every shard's
    observations through the server's link."""
    env_id, num_envs, _ = VECTORS[name]
    whole = compute_per_step(name, num_envs)
    overhead = num_envs / measured_k1 - whole  # per batch step: everything but the env's own compute
    transfer = num_envs * (16 if env_id.startswith("CartPole") else 210 * 160 * 3) / BANDWIDTH
    print(f"  projection inputs: compute {whole * 1e3:.2f} ms/step ({num_envs} envs, one process); overhead "
          f"{overhead * 1e3:.2f} ms/step at K=1; {per_call * 1e3:.2f} ms per further shard; RTT {RTT_MS} ms; "
          f"{transfer * 1e3:.2f} ms of observations at 10 Gbit/s")  # fmt: skip
    for shards in SHARDS:
        compute = whole if shards == 1 else compute_per_step(name, num_envs // shards)
        step = compute + overhead + (shards - 1) * per_call + RTT_MS / 1e3 + transfer
        print(f"  PROJECTION K={shards}: {step * 1e3:.2f} ms/step → {num_envs / step:,.0f} env-steps/s")


if __name__ == "__main__":
    main()
