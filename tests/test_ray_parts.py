"""The Ray backend's parts that need no cluster: placement checks, batches, shards, the waker, the host.

Nothing here imports Ray (``tests/test_ray_backend.py`` runs the real thing): shards are stood in
for by local vector envs, Ray's futures by ``concurrent.futures``.
"""

from __future__ import annotations

import functools
import json
import os
import pickle
import select
import socket
import threading
import time
from concurrent.futures import Future
from typing import Any

import gymnasium
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.vector import AutoresetMode

from gymie import api, cli, vector
from gymie.backends import batches
from gymie.backends.local import LocalBackend
from gymie.backends.ray import waker
from gymie.backends.ray.host import EnvHost
from gymie.backends.ray.sharded import ShardedEnv
from gymie.backends.remote import BlockingRuntime
from gymie.encoded import Encoded
from gymie.envs import make_adapter
from gymie.exceptions import InvalidParams, WorkerCrashed
from gymie.methods import placement
from gymie.methods.context import Context
from gymie.registry import EnvRegistry, OverrideRegistry
from gymie.settings import Settings

RAY = Settings(isolation="ray", ray_resources_allowed=["node_a", "num_gpus"])


def context(settings: Settings, backend: Any = None) -> Context:
    overrides = OverrideRegistry(api.get_env, api.process_step)
    return Context(EnvRegistry(), overrides, settings, backend or LocalBackend())


# -- placement ----------------------------------------------------------------


def test_allowed_resources_pass_as_floats() -> None:
    assert placement.check_resources(context(RAY), {"node_a": 1, "num_gpus": 0.5}) == {
        "node_a": 1.0,
        "num_gpus": 0.5,
    }
    assert placement.check_resources(context(RAY), None) is None


@pytest.mark.parametrize(
    ("settings", "resources", "why"),
    [
        (Settings(), {"num_cpus": 1}, "needs a server started with --isolation ray"),
        (RAY, {"gpu_host": 1}, "gpu_host not allowed \\(the server allows: node_a, num_gpus\\)"),
        (Settings(isolation="ray"), {"node_a": 1}, "node_a not allowed \\(the server allows: none\\)"),
        (RAY, {"node_a": -1}, "non-negative numbers"),
        (RAY, {"node_a": True}, "non-negative numbers"),
        (RAY, {"node_a": float("inf")}, "non-negative numbers"),
        (RAY, ["node_a"], "non-negative numbers"),
    ],
)
def test_resources_are_refused_with_the_reason(settings: Settings, resources: Any, why: str) -> None:
    with pytest.raises(InvalidParams, match=f"resources=.*: .*{why}"):
        placement.check_resources(context(settings), resources)


def test_num_shards_needs_a_sharding_backend_and_fits_num_envs() -> None:
    assert placement.check_shards(context(Settings()), 1, 4) == 1
    with pytest.raises(InvalidParams, match="num_shards=2: .*--isolation ray"):
        placement.check_shards(context(Settings()), 2, 4)
    for bad in (0, 5, 1.0, "2", True):
        with pytest.raises(InvalidParams, match="from 1 to num_envs \\(4\\)"):
            placement.check_shards(context(Settings()), bad, 4)


def test_shards_are_near_equal_larger_first() -> None:
    assert placement.shard_sizes(10, 4) == [3, 3, 2, 2]
    assert placement.shard_sizes(1024, 4) == [256] * 4 and placement.shard_sizes(3, 3) == [1, 1, 1]


def test_make_and_make_vec_refuse_placement_without_ray() -> None:
    dispatcher = api.dispatcher(Settings())
    session = dispatcher.open_session()
    for method, params in (
        ("make", {"env_id": "CartPole-v1", "resources": {"a": 1}}),
        ("make_vec", {"env_id": "CartPole-v1", "num_envs": 2, "num_shards": 2}),
    ):
        message = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
        reply = dispatcher.handle(message, session).frames[0]
        assert '"code":-32602' in reply.replace(" ", "") and "--isolation ray" in reply
    assert len(dispatcher.envs) == 0


def test_the_cluster_flags_reach_the_settings() -> None:
    args = cli.build_parser().parse_args(
        ["--isolation", "ray", "--ray-address", "10.0.0.5:6379", "--ray-resources-allowed", "node_a",
         "--ray-resources-allowed", "num_gpus", "--ray-schedule-timeout", "5", "--step-timeout", "2"]
    )  # fmt: skip
    settings = cli.settings_from(args)
    assert (settings.ray_address, settings.ray_resources_allowed) == ("10.0.0.5:6379", ["node_a", "num_gpus"])
    assert (settings.ray_schedule_timeout, settings.step_timeout) == (5.0, 2.0)


@pytest.mark.parametrize(
    "argv",
    [
        ["--ray-address", "x:1"],
        ["--ray-resources-allowed", "a"],
        ["--isolation", "ray", "--ray-schedule-timeout", "0"],
    ],
)
def test_cluster_flags_without_ray_isolation_are_refused(argv: list[str]) -> None:
    with pytest.raises(ValueError, match="ray"):
        cli.settings_from(cli.build_parser().parse_args(argv))


# -- batches ------------------------------------------------------------------

SPACES = {
    "box": spaces.Box(-1, 1, (2,), np.float32),
    "dict": spaces.Dict({"a": spaces.Discrete(3), "b": spaces.Box(0, 1, (2, 2))}),
    "tuple": spaces.Tuple((spaces.MultiBinary(3), spaces.Discrete(2))),
    "text": spaces.Text(5),
}


@pytest.mark.parametrize("name", sorted(SPACES))
def test_a_batch_split_then_joined_is_the_same_batch(name: str) -> None:
    single = SPACES[name]
    batch = gymnasium.vector.utils.batch_space(single, 6)
    batch.seed(0)
    sample = batch.sample()
    parts = batches.split(single, sample, [3, 2, 1])
    assert batches.concat(single, parts).__repr__() == sample.__repr__()


def vector_infos(num_envs: int, seed: int) -> list[dict[str, Any]]:
    """The infos of a SameStep CartPole vector env (final_obs/final_info as episodes end)."""
    env = gymnasium.make_vec(
        "CartPole-v1", num_envs, "sync", vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP}
    )
    env.reset(seed=seed)
    infos = [vector.plain_info(env.step(np.ones(num_envs, np.int64))[4]) for _ in range(12)]
    env.close()
    return infos


def test_shard_infos_merge_into_the_info_of_one_vector_env() -> None:
    whole, first, second = vector_infos(5, 0), vector_infos(3, 0), vector_infos(2, 3)
    assert any("final_obs" in info for info in whole)
    for merged, expected in zip(
        (batches.merge_infos([a, b], [3, 2]) for a, b in zip(first, second, strict=True)), whole, strict=True
    ):
        assert merged.keys() == expected.keys()
        assert repr(merged) == repr(expected)


def test_a_key_one_shard_lacks_is_zero_false_or_none_there() -> None:
    merged = batches.merge_infos(
        [{"x": np.array([1.5, 2.5]), "_x": np.array([True, True]), "o": [None, "a"]}, {}], [2, 1]
    )
    assert merged["x"].tolist() == [1.5, 2.5, 0.0] and merged["_x"].tolist() == [True, True, False]
    assert merged["o"] == [None, "a", None]


# -- shards (stand-ins for actors) ---------------------------------------------


class LocalShard:
    """An ActorEnv stand-in: a vector env in this process; ``submit`` computes, ``collect`` answers."""

    def __init__(self, adapter: Any) -> None:
        self.adapter, self.dead, self.exit_reason, self.name = adapter, False, "", "local"
        self.crash_on: str | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["adapter"], name)

    def submit(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return (True, getattr(self.adapter, method)(*args, **kwargs))

    def collect(self, ref: Any, timeout: float | None) -> Any:
        if self.crash_on:
            self.kill("died")
            raise WorkerCrashed(f"actor {self.name} died")
        return ref

    def kill(self, reason: str) -> None:
        self.dead, self.exit_reason = True, reason

    def close(self) -> None:
        self.adapter.close()

    def location(self) -> dict[str, Any]:
        return {"node_id": None, "hostname": "here", "pid": os.getpid()}


def local_vec(num_envs: int, seed: int | None = None, **vector_kwargs: Any) -> Any:
    return vector.make_adapter("CartPole-v1", num_envs, "sync", vector_kwargs, {}, seed)


def test_a_sharded_env_steps_like_one_vector_env() -> None:
    sharded = ShardedEnv([LocalShard(local_vec(3, 7)), LocalShard(local_vec(2, 10))], BlockingRuntime(), None)
    whole = local_vec(5, 7)
    assert (sharded.num_envs, sharded.sizes, sharded.offsets) == (5, [3, 2], [0, 3])
    assert sharded.observation_space == whole.observation_space and sharded.action_space == whole.action_space
    assert sharded.reset()[0].tobytes() == whole.reset()[0].tobytes()  # the seeds given at make
    assert sharded.reset(seed=1)[0].tobytes() == whole.reset(seed=1)[0].tobytes()
    for action in np.random.default_rng(1).integers(0, 2, (40, 5)):
        got, expected = sharded.step(action), whole.step(action)
        assert [np.asarray(x).tobytes() for x in got[:4]] == [np.asarray(x).tobytes() for x in expected[:4]]
    assert sharded.sample_action().shape == (5,)
    assert sharded.location()["shards"][1]["hostname"] == "here"


def test_a_reset_mask_is_split_over_the_shards() -> None:
    kwargs = {"autoreset_mode": AutoresetMode.DISABLED}
    sharded = ShardedEnv(
        [LocalShard(local_vec(2, 0, **kwargs)), LocalShard(local_vec(2, 2, **kwargs))],
        BlockingRuntime(),
        None,
    )
    whole = local_vec(4, 0, **kwargs)
    sharded.reset(), whole.reset()
    mask = np.array([True, False, False, True])
    assert (
        sharded.reset(options={"reset_mask": mask})[0].tobytes()
        == whole.reset(options={"reset_mask": mask})[0].tobytes()
    )


def test_one_dead_shard_takes_the_whole_env_down() -> None:
    shards = [LocalShard(local_vec(1)), LocalShard(local_vec(1))]
    sharded = ShardedEnv(shards, BlockingRuntime(), None)
    sharded.reset(seed=0)
    shards[1].crash_on = "step"
    with pytest.raises(WorkerCrashed):
        sharded.step(np.zeros(2, np.int64))
    assert sharded.dead and all(shard.dead for shard in shards) and "died" in sharded.exit_reason


# -- the waker and the host -----------------------------------------------------


class Ref:
    """An ObjectRef stand-in whose result arrives from another thread after ``delay`` seconds."""

    def __init__(self, value: Any, delay: float) -> None:
        self._future: Future[Any] = Future()
        threading.Timer(delay, self._future.set_result, (value,)).start()

    def future(self) -> Future[Any]:
        return self._future


def test_a_wait_returns_when_every_result_is_in_or_at_the_timeout() -> None:
    started = time.monotonic()
    futures = waker.wait(BlockingRuntime(), [Ref(1, 0.05), Ref(2, 0.15)], timeout=5)
    assert futures is not None and [f.result() for f in futures] == [1, 2]
    assert 0.14 < time.monotonic() - started < 2
    assert waker.wait(BlockingRuntime(), [Ref(3, 0.5)], timeout=0.1) is None
    time.sleep(0.6)  # the late callback found that wait's pipe closed and wrote nothing


def test_a_waker_closes_once_and_ignores_late_callbacks() -> None:
    pipe = waker.Waker(BlockingRuntime())
    future: Future[Any] = Future()
    assert pipe.wait([Ref(0, 0.0)], timeout=1) is not None
    pipe.close()
    pipe.close()
    pipe._poke(future)  # would write to a closed (maybe reused) descriptor without the guard


class WatchingRuntime(BlockingRuntime):
    """A Runtime that keeps what it is asked to watch, for the test to run by hand."""

    def __init__(self) -> None:
        self.watched: list[tuple[int, Any]] = []

    def watch(self, fileno: int, callback: Any) -> None:
        self.watched.append((fileno, callback))


class Proxy:
    def __init__(self) -> None:
        self.dead = False
        self.errors: list[BaseException] = []

    def fell(self, error: BaseException) -> None:
        self.dead = True
        self.errors.append(error)


class Linger:
    def __init__(self) -> None:
        self.pending: Future[Any] = Future()

    def future(self) -> Future[Any]:
        return self.pending


def test_a_death_watch_reports_only_actors_that_died_on_their_own() -> None:
    runtime = WatchingRuntime()
    deaths = waker.DeathWatch(runtime)
    died, closed, killed = Proxy(), Proxy(), Proxy()
    lingers = {proxy: Linger() for proxy in (died, closed, killed)}
    for proxy, linger in lingers.items():
        deaths.follow(proxy, linger)
    assert len(runtime.watched) == 1  # one pipe for every actor
    fileno, check = runtime.watched.pop()
    lingers[closed].pending.set_result(None)  # the env was closed: linger returned
    killed.dead = True  # the server killed it itself (a timeout): its linger fails, nothing to tell
    lingers[killed].pending.set_exception(RuntimeError("killed"))
    assert not select.select([fileno], [], [], 0)[0]
    error = RuntimeError("actor died")
    threading.Thread(target=lingers[died].pending.set_exception, args=(error,)).start()  # a Ray thread
    assert select.select([fileno], [], [], 5)[0]
    assert check() is True  # the server is told to forget the instance
    assert died.errors == [error] and closed.errors == [] and killed.errors == []
    assert runtime.watched and runtime.watched[0][0] == fileno  # watching again
    assert check() is False  # nothing new


def test_the_host_builds_with_the_factory_and_answers_like_a_worker() -> None:
    host = EnvHost(["tests.faults"], 30, 1 << 20)
    factory = functools.partial(make_adapter, api.get_env, "gymie-test/Crash-v0", {})
    ok, attributes = host.build(pickle.dumps(factory))
    assert ok and attributes["action_space"] == spaces.Discrete(2)
    assert host.call("reset", (), {"seed": 0})[0]
    ok, described = host.describe("action_space", "json", 1 << 20)
    assert ok and json.loads(described.data) == {"name": "Discrete", "n": 2}
    ok, error = host.call("step", (7,), {})
    assert not ok and error[1] == "builtins.ValueError" and "bad action 7" in error[2]
    assert host.call("_private", (), {})[0] is False
    linger = threading.Thread(target=host.linger)
    linger.start()
    linger.join(0.2)
    assert linger.is_alive()  # pending for the env's whole life
    assert host.close() == (True, None) and host.close() == (True, None)
    linger.join(5)
    assert not linger.is_alive()  # a closed env's linger returns: the server knows it was no death
    ok, error = EnvHost([], 30, 1 << 20).build(
        pickle.dumps(functools.partial(make_adapter, api.get_env, "Nope-v0", {}))
    )
    assert not ok and error[1] == "gymie.exceptions.EnvironmentNotFound"


@pytest.mark.parametrize("isolation", ["none", "process"])
def test_env_info_says_where_an_env_runs_on_any_backend(isolation: str) -> None:
    # The forkserver keeps the preloads of its first start: the ones tests/test_workers.py expects.
    dispatcher = api.dispatcher(Settings(isolation=isolation, imports=["tests.faults"]))
    session = dispatcher.open_session()

    def rpc(method: str, **params: Any) -> Any:
        message = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
        return json.loads(dispatcher.handle(message, session).frames[0])["result"]

    try:
        info = rpc("env_info", instance_id=rpc("make", env_id="CartPole-v1")["instance_id"])
        assert info["node_id"] is None and info["hostname"] == socket.gethostname()
        assert (info["pid"] == os.getpid()) == (isolation == "none")
    finally:
        dispatcher.end_session(session)
        api.dispatcher(Settings())


def test_the_host_encodes_big_results_and_describes_batches_of_a_shard() -> None:
    host = EnvHost([], 30, 64 << 20)
    factory = functools.partial(vector.make_adapter, "CartPole-v1", 5000, "sync", {}, {}, 0)
    assert host.build(pickle.dumps(factory))[0]
    ok, (observation, _) = host.call("reset", (), {}, "msgpack")
    assert ok and isinstance(observation, Encoded)  # 80 KB of floats: encoded where computed
    ok, described = host.describe("observation_space", "json", 64 << 20, num_envs=6000)
    assert ok and json.loads(described.data)["shape"] == [6000, 4]
    ok, error = host.describe("observation_space", "json", 1000)
    assert not ok and error[1] == "gymie.exceptions.ReplyTooLarge"
    host.close()
