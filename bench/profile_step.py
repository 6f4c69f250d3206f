"""Profile gymie's per-step path: the I/O-free Dispatcher in-process, then the whole server.

Usage (from the repository root)::

    .venv/bin/python bench/profile_step.py [--steps 20000] [--top 18] [--only dispatcher|server]

1. ``Dispatcher.handle`` with no sockets: CartPole-v1 legacy JSON and msgpack JSON-RPC
   steps, ALE/Pong-v5 msgpack steps, and a 1024-env CartPole vector env over msgpack. Each
   is timed bare (µs/step), then run under cProfile.
2. The real server (``bench/profiled_server.py``: ``gymie.cli.main`` under cProfile) while
   ``wire.Client`` drives legacy steps at it: what eventlet's WebSocket costs around the
   Dispatcher.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import math
import pstats
import signal
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

import loads  # noqa: E402
import numpy as np  # noqa: E402
import patches  # noqa: E402
import servers  # noqa: E402

from gymie import api  # noqa: E402
from gymie.codec import decode_msgpack, encode_msgpack  # noqa: E402
from gymie.core import MSGPACK_SUBPROTOCOL  # noqa: E402


def stats_text(profile: cProfile.Profile | str, top: int, total_label: str) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    lines = out.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("ncalls"))
    body = [line.replace(str(servers.ROOT) + "/", "").replace(sys.prefix + "/", "") for line in lines[start:]]
    return total_label + "\n" + "\n".join(line for line in body if line.strip())


class Driver:
    """A Dispatcher session and the frames of one workload."""

    def __init__(self, msgpack: bool) -> None:
        self.dispatcher = api.dispatcher()
        self.session = self.dispatcher.open_session(MSGPACK_SUBPROTOCOL if msgpack else None)
        self.msgpack = msgpack
        self.next_id = 0

    def rpc(self, method: str, **params: Any) -> Any:
        self.next_id += 1
        message = {"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params}
        frame = encode_msgpack(message) if self.msgpack else json.dumps(message)
        reply = self.dispatcher.handle(frame, self.session).frames[0]
        decoded = decode_msgpack(reply) if self.msgpack else json.loads(reply)
        return decoded["result"]

    def frame(self, method: str, **params: Any) -> str | bytes:
        if self.msgpack:
            return encode_msgpack({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
        return json.dumps({"method": method, "params": params})


def workload(name: str, steps: int) -> tuple[Callable[[int], None], int]:
    """Build one workload: a function stepping ``n`` times (resetting on done) and its step count."""
    if name == "cartpole-legacy":
        d = Driver(msgpack=False)
        iid = d.dispatcher.handle(d.frame("make", env_id="CartPole-v1"), d.session).frames[0]
        return _single(d, str(iid), 2, done=lambda reply: ", true, {" in reply), steps
    if name == "cartpole-msgpack":
        d = Driver(msgpack=True)
        iid = d.rpc("make", env_id="CartPole-v1")["instance_id"]
        return _single(d, iid, 2, done=_rpc_done), steps
    if name == "pong-msgpack":
        d = Driver(msgpack=True)
        iid = d.rpc("make", env_id="ALE/Pong-v5")["instance_id"]
        return _single(d, iid, 6, done=_rpc_done), max(steps // 10, 200)
    if name == "vector1024-msgpack":
        d = Driver(msgpack=True)
        iid = d.rpc("make_vec", env_id="CartPole-v1", num_envs=1024, vectorization_mode="vector_entry_point")[
            "instance_id"
        ]
        d.rpc("reset", instance_id=iid, seed=0)
        batches = [
            d.frame("step", instance_id=iid, action=b) for b in loads.vector_actions(1024, as_list=False)
        ]

        def run_vec(n: int) -> None:
            for i in range(n):
                d.dispatcher.handle(batches[i % len(batches)], d.session)

        return run_vec, max(steps // 10, 200)
    raise ValueError(name)


def _rpc_done(reply: bytes) -> bool:
    result = decode_msgpack(reply)["result"]
    return bool(result["terminated"] or result["truncated"])


def _single(d: Driver, iid: str, n_actions: int, done: Callable[[Any], bool]) -> Callable[[int], None]:
    d.dispatcher.handle(d.frame("reset", instance_id=iid), d.session)
    frames = [d.frame("step", instance_id=iid, action=a) for a in range(n_actions)]
    reset = d.frame("reset", instance_id=iid)
    actions = loads.single_actions(n_actions)
    handle, session = d.dispatcher.handle, d.session

    def run(n: int) -> None:
        for i in range(n):
            reply = handle(frames[actions[i % len(actions)]], session).frames[0]
            if done(reply):
                handle(reset, session)

    return run


WORKLOADS = ("cartpole-legacy", "cartpole-msgpack", "pong-msgpack", "vector1024-msgpack")


def time_dispatcher(steps: int, repeats: int) -> dict[str, float]:
    """Best-of-``repeats`` CPU µs per step of each workload (process time: other load barely shows)."""
    timings = {}
    for name in WORKLOADS:
        run, n = workload(name, steps)
        run(min(n, 500))  # warm up
        best = math.inf
        for _ in range(repeats):
            t0 = time.process_time()
            run(n)
            best = min(best, (time.process_time() - t0) / n * 1e6)
        timings[name] = best
    return timings


def profile_dispatcher(steps: int, top: int) -> None:
    for name in WORKLOADS:
        run, n = workload(name, steps)
        run(min(n, 500))  # warm up
        t0 = time.perf_counter()
        run(n)
        bare = (time.perf_counter() - t0) / n * 1e6
        profile = cProfile.Profile()
        profile.runcall(run, n)
        label = f"== Dispatcher.handle, {name}: {n} steps, {bare:.1f} µs/step without the profiler"
        print(stats_text(profile, top, label), "\n", flush=True)


def profile_server(steps: int, top: int) -> None:
    out = Path(tempfile.mkdtemp()) / "server.prof"
    server = servers.current(launcher=[str(servers.BENCH / "profiled_server.py"), str(out)]).start()
    try:
        client = loads.Legacy(server.url)
        iid = client.make("CartPole-v1")
        client.reset(iid)
        actions = loads.single_actions(2)
        cpu0 = server.cpu_seconds()
        sample = loads.run_single(client, iid, actions, 0.0, steps, steps, warmup=200)
        cpu = (server.cpu_seconds() - cpu0) / sample.calls * 1e6
        client.close()
    finally:
        assert server.proc is not None
        server.proc.send_signal(signal.SIGINT)
        server.proc.wait(30)
        server.stop()
    label = (
        f"== whole server (eventlet + Dispatcher), CartPole-v1 legacy JSON: {steps} steps, "
        f"{sample.rate:,.0f} steps/s under the profiler, server CPU {cpu:.0f} µs/step"
    )
    print(stats_text(str(out), top, label), flush=True)
    print(split(str(out), sample.calls), flush=True)


def split(path: str, calls: int) -> str:
    """Where the server's wall time per request went: waiting, the kernel, the Dispatcher, the rest."""
    stats = pstats.Stats(path).stats  # type: ignore[attr-defined]

    def total(match: Callable[[tuple[str, int, str]], bool], cumulative: bool = False) -> float:
        return sum(v[3 if cumulative else 2] for k, v in stats.items() if match(k))

    everything = total(lambda k: True)
    waiting = total(lambda k: "epoll" in k[2] and "poll" in k[2])
    kernel = total(
        lambda k: (
            k[2]
            in ("<method 'send' of '_socket.socket' objects>", "<method 'recv' of '_socket.socket' objects>")
        )
    )
    dispatcher = total(lambda k: k[0].endswith("gymie/core.py") and k[2] == "handle", cumulative=True)
    rest = everything - waiting - kernel - dispatcher
    per = lambda t: f"{t / calls * 1e6:.0f} µs"  # noqa: E731
    return (
        "per request, wall time under the profiler (which inflates every Python call, so the "
        f"Python-heavy parts most): epoll wait {per(waiting)}, socket send+recv {per(kernel)}, "
        f"Dispatcher.handle {per(dispatcher)}, everything else (eventlet, metrics, ...) {per(rest)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--top", type=int, default=18)
    parser.add_argument("--only", choices=["dispatcher", "server"])
    parser.add_argument("--patch", default="none", help="apply bench/patches.py changes first (e.g. all)")
    parser.add_argument(
        "--time-only",
        type=int,
        metavar="REPEATS",
        help="only time the Dispatcher workloads (best of REPEATS)",
    )
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    np.seterr(all="ignore")
    applied = patches.apply(args.patch)
    if args.time_only:
        timings = time_dispatcher(args.steps, args.time_only)
        print(json.dumps({"patches": applied, **{k: round(v, 2) for k, v in timings.items()}}))
        return
    if args.only != "server":
        profile_dispatcher(args.steps, args.top)
    if args.only != "dispatcher":
        profile_server(args.steps // 4, args.top)


if __name__ == "__main__":
    main()
