"""Client loads: one small class per way of reaching an env, and the timed loops over them.

The minimal clients (``Legacy``, ``JsonRpc``, ``Msgpack``) go through the same ``wire.Client``;
requests are built and replies decoded on every step, as a real client must: JSON with orjson
(a C parser, as a browser's ``JSON.parse``; ``stdlib=True`` decodes with ``json`` instead),
msgpack with ``gymie.codec``. ``GymieClient`` is what a user holds: ``gymie.client``'s
``RemoteEnv`` and ``RemoteVectorEnv`` over msgpack. Actions come from a seeded generator,
pre-drawn outside the timed loop, in the form the wire carries.

Run as a script (``python bench/loads.py worker``) this is the client process of the
concurrent-clients load: it reads JSON commands on stdin and answers on stdout.
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from wire import Client  # noqa: E402

from gymie.codec import decode_msgpack, encode_msgpack  # noqa: E402

MSGPACK_SUBPROTOCOL = "gymie.msgpack"


class OrderError(AssertionError):
    """A reply that is missing, malformed or out of order."""


# -- ways of reaching an env ----------------------------------------------


class Local:
    """In-process Gymnasium: the baseline every remote variant is compared with."""

    wire = False

    def __init__(self, url: str | None = None, tag: str = "") -> None:
        import gymnasium

        self.gym = gymnasium
        try:
            import ale_py

            gymnasium.register_envs(ale_py)
        except ImportError:
            pass

    def make(self, env_id: str) -> Any:
        return self.gym.make(env_id)

    def make_vec(self, env_id: str, num_envs: int, seed: int = 0) -> Any:
        env = self.gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point")
        env.reset(seed=seed)
        return env

    def reset(self, env: Any) -> None:
        env.reset(seed=0)

    def step(self, env: Any, action: Any) -> bool:
        _, _, terminated, truncated, _ = env.step(action)
        return bool(terminated or truncated)

    def step_vec(self, env: Any, actions: Any) -> None:
        env.step(actions)

    def close(self) -> None:
        pass


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


class Legacy:
    """The 0.5.4 text protocol: ``{"method", "params"}`` in, a bare JSON value out."""

    wire = True

    def __init__(self, url: str, tag: str = "", stdlib: bool = False) -> None:
        self.ws = Client(url)
        self.replies = 0
        self.loads = json.loads if stdlib else orjson.loads

    def _call(self, method: str, **params: Any) -> str | bytes:
        reply = self.ws.roundtrip(dumps({"method": method, "params": params}))
        self.replies += 1
        return reply

    def make(self, env_id: str) -> str:
        return str(self._call("make", env_id=env_id))

    def reset(self, instance_id: str) -> None:
        self.loads(self._call("reset", instance_id=instance_id))

    def step(self, instance_id: str, action: Any) -> bool:
        reply = self.loads(self._call("step", instance_id=instance_id, action=action))
        check_legacy_step(reply)
        return bool(reply[2])

    def burst(self, instance_id: str, actions: list[Any]) -> int:
        """Send every step before reading any reply; return how many well-formed replies came back."""
        for action in actions:
            self.ws.send(dumps({"method": "step", "params": {"instance_id": instance_id, "action": action}}))
        for _ in actions:
            check_legacy_step(self.loads(self.ws.recv()))
            self.replies += 1
        return len(actions)

    def close(self) -> None:
        self.ws.close()


def check_legacy_step(reply: Any) -> None:
    if not (isinstance(reply, list) and len(reply) == 4 and isinstance(reply[2], bool)):
        raise OrderError(f"legacy step reply is not [obs, reward, done, info]: {str(reply)[:120]}")


class JsonRpc:
    """JSON-RPC 2.0 in JSON text frames; every reply's id is checked against its request's."""

    wire = True
    subprotocol: str | None = None

    def __init__(self, url: str, tag: str = "", stdlib: bool = False) -> None:
        self.ws = Client(url, self.subprotocol)
        self.tag = tag
        self.next_id = 0
        self.replies = 0
        self.loads = json.loads if stdlib else orjson.loads

    def encode(self, message: Any) -> str | bytes:
        return dumps(message)

    def decode(self, raw: str | bytes) -> Any:
        return self.loads(raw)

    def _request(self, method: str, params: dict[str, Any]) -> tuple[Any, str | bytes]:
        self.next_id += 1
        rid = f"{self.tag}-{self.next_id}" if self.tag else self.next_id
        return rid, self.encode({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})

    def _result(self, rid: Any, raw: str | bytes) -> Any:
        reply = self.decode(raw)
        self.replies += 1
        if not isinstance(reply, dict) or reply.get("id") != rid:
            raise OrderError(f"expected the reply to {rid!r}, got {str(reply)[:160]}")
        if "error" in reply:
            raise RuntimeError(f"server error: {reply['error']}")
        return reply["result"]

    def call(self, method: str, **params: Any) -> Any:
        rid, frame = self._request(method, params)
        return self._result(rid, self.ws.roundtrip(frame))

    def make(self, env_id: str) -> str:
        return str(self.call("make", env_id=env_id)["instance_id"])

    def make_vec(self, env_id: str, num_envs: int, seed: int = 0) -> str:
        result = self.call(
            "make_vec", env_id=env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", seed=seed
        )
        instance_id = str(result["instance_id"])
        self.call("reset", instance_id=instance_id, seed=seed)
        return instance_id

    def reset(self, instance_id: str) -> None:
        self.call("reset", instance_id=instance_id)

    def step(self, instance_id: str, action: Any) -> bool:
        result = self.call("step", instance_id=instance_id, action=action)
        return bool(result["terminated"] or result["truncated"])

    def step_vec(self, instance_id: str, actions: Any) -> None:
        result = self.call("step", instance_id=instance_id, action=actions)
        if len(result["reward"]) != len(actions):
            raise OrderError(f"{len(actions)} actions, {len(result['reward'])} rewards")

    def burst(self, instance_id: str, actions: list[Any]) -> int:
        """Send every step before reading any reply; return how many replies came back in order."""
        sent = []
        for action in actions:
            rid, frame = self._request("step", {"instance_id": instance_id, "action": action})
            self.ws.send(frame)
            sent.append(rid)
        for rid in sent:
            self._result(rid, self.ws.recv())
        return len(sent)

    def close(self) -> None:
        self.ws.close()


class Msgpack(JsonRpc):
    """JSON-RPC 2.0 over the ``gymie.msgpack`` subprotocol: binary frames, ndarrays as raw bytes."""

    subprotocol = MSGPACK_SUBPROTOCOL

    def encode(self, message: Any) -> bytes:
        return encode_msgpack(message)

    def decode(self, raw: str | bytes) -> Any:
        if not isinstance(raw, bytes):
            raise OrderError(f"msgpack reply in a text frame: {raw[:120]}")
        return decode_msgpack(raw)


class GymieClient:
    """``gymie.client`` over msgpack: ``RemoteEnv`` and ``RemoteVectorEnv``, the envs a user holds."""

    wire = True

    def __init__(self, url: str, tag: str = "", stdlib: bool = False) -> None:
        import gymie.client

        self.client = gymie.client.connect(url, encoding="msgpack")
        self.replies = 0

    def make(self, env_id: str) -> Any:
        return self.client.make(env_id)

    def make_vec(self, env_id: str, num_envs: int, seed: int = 0) -> Any:
        env = self.client.make_vec(env_id, num_envs, vectorization_mode="vector_entry_point", seed=seed)
        env.reset(seed=seed)
        return env

    def reset(self, env: Any) -> None:
        env.reset()
        self.replies += 1

    def step(self, env: Any, action: Any) -> bool:
        _, _, terminated, truncated, _ = env.step(action)
        self.replies += 1
        return bool(terminated or truncated)

    def step_vec(self, env: Any, actions: Any) -> None:
        _, reward, _, _, _ = env.step(actions)
        if len(reward) != len(actions):
            raise OrderError(f"{len(actions)} actions, {len(reward)} rewards")

    def burst(self, env: Any, actions: list[Any]) -> int:
        """RemoteEnv waits for each reply: the burst is sequential steps, each reply checked."""
        for action in actions:
            if self.step(env, action):
                env.reset()
        return len(actions)

    def close(self) -> None:
        self.client.close()


VARIANTS: dict[str, type[Any]] = {
    "inprocess": Local,
    "gymie054": Legacy,
    "legacy": Legacy,
    "jsonrpc": JsonRpc,
    "msgpack": Msgpack,
    "client": GymieClient,
}


# -- timed loops -----------------------------------------------------------


@dataclass
class Sample:
    """One timed run: ``steps`` env steps (round trips x num_envs) in ``seconds``."""

    steps: int
    seconds: float
    calls: int
    p50_us: float = math.nan
    p99_us: float = math.nan
    server_cpu: float = math.nan
    client_cpu: float = math.nan
    check: dict[str, Any] | None = None

    @property
    def rate(self) -> float:
        return self.steps / self.seconds if self.seconds else math.nan


def single_actions(n_actions: int, seed: int = 0, count: int = 4096) -> list[int]:
    return [int(a) for a in np.random.default_rng(seed).integers(0, n_actions, count)]


def vector_actions(num_envs: int, as_list: bool, seed: int = 0, count: int = 16) -> list[Any]:
    rng = np.random.default_rng(seed)
    batches = [rng.integers(0, 2, num_envs, dtype=np.int64) for _ in range(count)]
    return [b.tolist() for b in batches] if as_list else batches


def percentile(values: list[int], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000.0


def run_single(
    client: Any, handle: Any, actions: list[int], seconds: float, min_steps: int, max_steps: int, warmup: int
) -> Sample:
    """Step one env for ``seconds`` (at least ``min_steps``, at most ``max_steps``), resetting on done.

    ``client_cpu``: this process's CPU per call over the timed steps (warm-up not included).
    """
    n_actions = len(actions)
    for i in range(warmup):
        if client.step(handle, actions[i % n_actions]):
            client.reset(handle)
    latencies: list[int] = []
    clock = time.perf_counter_ns
    cpu0 = time.process_time()
    start = time.perf_counter()
    deadline = start + seconds
    steps = calls = 0
    while steps < max_steps and (steps < min_steps or time.perf_counter() < deadline):
        t0 = clock()
        done = client.step(handle, actions[steps % n_actions])
        latencies.append(clock() - t0)
        steps += 1
        calls += 1
        if done:
            client.reset(handle)
            calls += 1
    elapsed = time.perf_counter() - start
    cpu = (time.process_time() - cpu0) / max(calls, 1) * 1e6
    return Sample(
        steps, elapsed, calls, percentile(latencies, 0.5), percentile(latencies, 0.99), client_cpu=cpu
    )


def run_vector(
    client: Any, handle: Any, batches: list[Any], num_envs: int, seconds: float, min_calls: int, warmup: int
) -> Sample:
    """Step a vector env (it autoresets) for ``seconds``; count env steps."""
    n_batches = len(batches)
    for i in range(warmup):
        client.step_vec(handle, batches[i % n_batches])
    latencies: list[int] = []
    clock = time.perf_counter_ns
    cpu0 = time.process_time()
    start = time.perf_counter()
    deadline = start + seconds
    calls = 0
    while calls < min_calls or time.perf_counter() < deadline:
        t0 = clock()
        client.step_vec(handle, batches[calls % n_batches])
        latencies.append(clock() - t0)
        calls += 1
    elapsed = time.perf_counter() - start
    cpu = (time.process_time() - cpu0) / max(calls, 1) * 1e6
    return Sample(
        calls * num_envs,
        elapsed,
        calls,
        percentile(latencies, 0.5),
        percentile(latencies, 0.99),
        client_cpu=cpu,
    )


# -- the concurrent-clients worker ------------------------------------------

BURST = 256


def worker() -> None:
    """Answer JSON commands on stdin: ``prep`` (connect, make, warm up), ``go`` (timed run), ``quit``."""
    client: Any = None
    handle: Any = None
    prep: dict[str, Any] = {}
    actions = single_actions(2)
    for line in sys.stdin:
        command = json.loads(line)
        try:
            if command["cmd"] == "prep":
                prep = command
                client = VARIANTS[prep["variant"]](prep.get("url"), tag=prep["tag"])
                handle = client.make("CartPole-v1")
                client.reset(handle)
                run_single(client, handle, actions, 0.0, 0, 0, warmup=prep["warmup"])
                answer: dict[str, Any] = {"ready": True}
            elif command["cmd"] == "go":
                answer = _go(client, handle, actions, prep)
            else:
                break
        except Exception as exc:  # reported to the parent, which marks the cell failed
            answer = {"ready": False, "ok": False, "error": f"{type(exc).__name__}: {exc}"}
            client = None
        print(json.dumps(answer), flush=True)


def _go(client: Any, handle: Any, actions: list[int], prep: dict[str, Any]) -> dict[str, Any]:
    if client.wire:
        client.replies = 0
    sample = run_single(client, handle, actions, prep["seconds"], 1, 10**9, warmup=0)
    result: dict[str, Any] = {**asdict(sample), "ok": True, "burst": 0}
    if client.wire:
        # Pipelined: BURST requests in flight at once, then every reply read and checked in order.
        result["burst"] = client.burst(handle, actions[:BURST])
        result["sent"] = sample.calls + BURST
        result["replies"] = client.replies
        client.close()
    return result


if __name__ == "__main__" and sys.argv[1:] == ["worker"]:
    worker()
