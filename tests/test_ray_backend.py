"""``--isolation ray`` end to end: gymie servers (subprocesses) joining a simulated two-node cluster.

One cluster for the module (``tests/ray_cluster.py``, in its own process); one main server for
most tests, and servers of their own for the tests that kill one. Actors cost ~0.7 s each to
start here (a new Python process on a one-CPU node), so tests reuse envs where they can.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import pytest

import gymie.client
from gymie.exceptions import InvalidParams, LimitExceeded, StepTimeout, WorkerCrashed
from tests.conftest import SCALE, TIMEOUT, ServerProcess, running_server, start_server
from tests.faults import ENV_ID as CRASH_ENV
from tests.http_helpers import eventually, health
from tests.ray_cluster import RayCluster
from tests.remote import remote
from tests.watch_helpers import Stepper, Watch, decode_png, png_of

pytestmark = pytest.mark.timeout(300)
STEP_TIMEOUT = 3.0


@pytest.fixture(scope="module")
def cluster() -> Iterator[RayCluster]:
    ray_cluster = RayCluster()
    try:
        yield ray_cluster
    finally:
        ray_cluster.stop()


def ray_server(cluster: RayCluster, *args: str) -> contextlib.AbstractContextManager[ServerProcess]:
    """A gymie server joining ``cluster`` for a ``with`` block; it may place envs on either node."""
    return running_server(
        "--isolation", "ray", "--ray-address", cluster.address,
        "--ray-resources-allowed", "node_a", "--ray-resources-allowed", "node_b",
        "--import", "tests.faults_override", *args,
        env=cluster.env,
    )  # fmt: skip


@pytest.fixture(scope="module")
def server(cluster: RayCluster) -> Iterator[ServerProcess]:
    with ray_server(cluster, "--step-timeout", str(STEP_TIMEOUT)) as srv:
        yield srv


def prefix(srv: ServerProcess) -> str:
    return f"gymie-{srv.proc.pid}-"


def test_make_reset_step_close_in_an_actor_over_both_encodings(server: ServerProcess) -> None:
    local = gymnasium.make("CartPole-v1")
    expected = [local.reset(seed=5)[0], *(local.step(a)[0] for a in (0, 1, 1))]
    for encoding in ("msgpack", "json"):
        with gymie.client.connect(server.url, encoding=encoding) as client:
            env = client.make("CartPole-v1")
            got = [env.reset(seed=5)[0], *(env.step(a)[0] for a in (0, 1, 1))]
            assert [o.tobytes() for o in got] == [o.tobytes() for o in expected]
            info = client.call("env_info", instance_id=env.instance_id)
            assert info["pid"] != server.proc.pid and len(info["node_id"]) == 56
            assert health(server)["workers"] >= 1
            env.close()
    assert health(server)["workers"] == 0


def test_the_legacy_flow_of_a_054_client_is_unchanged(server: ServerProcess) -> None:
    with remote(server.url) as r:
        instance_id = r.make("CartPole-v1", seed=0)
        assert r.call("observation_space", instance_id=instance_id)["name"] == "Box"
        assert r.call("action_space", instance_id=instance_id) == {"name": "Discrete", "n": 2}
        assert len(r.call("reset", instance_id=instance_id)) == 4
        done, steps = False, 0
        while not done:
            action = r.call("action_sample", instance_id=instance_id)
            observation, reward, done, info = r.call("step", instance_id=instance_id, action=action)
            steps += 1
            assert len(observation) == 4 and reward == 1.0
        assert info["TimeLimit.truncated"] is False and 5 <= steps < 500
        assert r.call("close", instance_id=instance_id) is True


def test_envs_pinned_to_each_node_report_that_node(server: ServerProcess, cluster: RayCluster) -> None:
    with gymie.client.connect(server.url) as client:
        seen = {}
        for resource in ("node_a", "node_b"):
            env = client.make("CartPole-v1", resources={resource: 1})
            seen[resource] = client.call("env_info", instance_id=env.instance_id)["node_id"]
        assert seen == cluster.node_ids and len(set(seen.values())) == 2


def test_resources_must_be_allowed_by_the_operator(server: ServerProcess) -> None:
    with gymie.client.connect(server.url) as client:
        for resources in ({"gpu_host": 1}, {"node_a": -1}, {"num_gpus": 1}, ["node_a"], {"node_a": 1.5}):
            with pytest.raises(InvalidParams, match="resources"):
                client.make("CartPole-v1", resources=resources)
        with pytest.raises(InvalidParams, match="num_shards"):
            client.make_vec("CartPole-v1", num_envs=2, num_shards=3)


def test_an_actor_no_node_can_place_fails_within_the_schedule_timeout(cluster: RayCluster) -> None:
    with ray_server(cluster, "--ray-schedule-timeout", "2") as srv:
        with gymie.client.connect(srv.url) as client:
            started = time.monotonic()
            with pytest.raises(
                LimitExceeded, match=r"no Ray node offered the resources \{'node_a': 1000.0\} within 2 s"
            ):
                client.make("CartPole-v1", resources={"node_a": 1000})  # each node has 100
            assert 2 <= time.monotonic() - started < 2 + 5 * SCALE
            assert cluster.actors(prefix(srv)) == [] and health(srv)["workers"] == 0


def test_a_killed_actor_crashes_its_env_only(server: ServerProcess) -> None:
    with gymie.client.connect(server.url) as victim, gymie.client.connect(server.url) as bystander:
        doomed, spared = victim.make("CartPole-v1"), bystander.make("CartPole-v1")
        doomed.reset(), spared.reset()
        os.kill(victim.call("env_info", instance_id=doomed.instance_id)["pid"], signal.SIGKILL)
        with pytest.raises(WorkerCrashed, match="Environment crashed: actor gymie-.* died"):
            doomed.step(0)
        with pytest.raises(gymie.InstanceNotFound):
            doomed.step(0)  # the instance was removed
        for _ in range(5):
            spared.step(0)
        assert health(server)["envs"] == 1


def test_an_actor_killed_while_idle_frees_its_slot_at_once(cluster: RayCluster) -> None:
    with ray_server(cluster, "--max-envs", "1") as srv:
        with gymie.client.connect(srv.url) as client:
            env = client.make("CartPole-v1")
            pid = client.call("env_info", instance_id=env.instance_id)["pid"]
            assert (health(srv)["workers"], health(srv)["envs"]) == (1, 1)
            os.kill(pid, signal.SIGKILL)  # no call pending: only the actor's linger call notices
            eventually(
                lambda: (health(srv)["workers"], health(srv)["envs"]) == (0, 0),
                timeout=5.0 * SCALE,
                what="the dead actor forgotten without a call",
            )
            with pytest.raises(gymie.InstanceNotFound):
                env.step(0)
            again = client.make("CartPole-v1")  # the one slot is free again
            again.reset()
            assert client.call("env_info", instance_id=again.instance_id)["pid"] != pid
            again.close()
            assert health(srv)["workers"] == 0  # a closed actor is not counted (nor reported dead)


def test_an_env_on_a_lost_node_crashes_that_env_only(cluster: RayCluster) -> None:
    node_id = cluster.add_node("node_c")
    with ray_server(cluster, "--ray-resources-allowed", "node_c", "--step-timeout", "60") as srv:
        with gymie.client.connect(srv.url) as client:
            doomed = client.make("CartPole-v1", resources={"node_c": 1})
            spared = client.make("CartPole-v1", resources={"node_a": 1})
            doomed.reset(), spared.reset()
            assert client.call("env_info", instance_id=doomed.instance_id)["node_id"] == node_id
            cluster.remove_node("node_c")  # its raylet and workers killed, as when a host goes down
            deadline = time.monotonic() + 30 * SCALE
            # The actor's process outlives its raylet briefly. Then either a step finds it gone
            # (WorkerCrashed), or the server noticed first and forgot the instance (not found).
            with pytest.raises((WorkerCrashed, gymie.InstanceNotFound)) as crash:
                while time.monotonic() < deadline:
                    if doomed.step(0)[2]:
                        doomed.reset()
                    time.sleep(0.01)
            if crash.type is WorkerCrashed:
                why = r"\(pid \d+\) (died|is unreachable \(its node may be lost\))"
                assert re.fullmatch(rf"Environment crashed: actor gymie-\S+ {why}", str(crash.value))
                with pytest.raises(gymie.InstanceNotFound):
                    doomed.step(0)
            assert spared.step(0)[1] == 1.0  # the same connection's env on a live node is untouched
            assert health(srv)["envs"] == 1


def test_other_connections_keep_their_latency_while_an_actor_computes(server: ServerProcess) -> None:
    with gymie.client.connect(server.url) as slow_client, gymie.client.connect(server.url) as fast_client:
        slow = slow_client.make("Custom-v0", sleep=1.0)
        fast = fast_client.make("CartPole-v1")
        slow.reset(), fast.reset()
        thread = threading.Thread(target=lambda: [slow.step(0) for _ in range(2)])
        thread.start()
        latencies = []
        while thread.is_alive():
            started = time.perf_counter()
            _, _, terminated, truncated, _ = fast.step(0)
            latencies.append(time.perf_counter() - started)
            if terminated or truncated:
                fast.reset()
        thread.join()
    # 2 s of slow steps; the fast env answered all the while, each step in milliseconds.
    assert len(latencies) > 50, latencies
    assert statistics.median(latencies) < 0.05 * SCALE and max(latencies) < 0.5 * SCALE, latencies


def test_a_step_past_the_step_timeout_kills_the_actor(server: ServerProcess) -> None:
    with gymie.client.connect(server.url) as client:
        env = client.make(CRASH_ENV, at="step", how="hang")
        env.reset()
        started = time.monotonic()
        with pytest.raises(StepTimeout, match=f"no reply within {STEP_TIMEOUT:g} s, actor gymie-"):
            env.step(0)
        assert STEP_TIMEOUT - 0.1 < time.monotonic() - started < STEP_TIMEOUT + 5
        assert health(server)["envs"] == 0


def test_a_watcher_gets_frames_of_an_env_in_an_actor(server: ServerProcess) -> None:
    watcher = Watch(server)
    try:
        with gymie.client.connect(server.url) as client:
            env = client.make("CartPole-v1", render_mode="rgb_array")
            env.reset(seed=0)
            assert watcher.call("watch_frames", instance_id=env.instance_id)["renderable"] is True
            with Stepper(env):
                frame = watcher.next("frame", where=lambda p: p["stats"]["steps"] > 0)
            assert frame["problem"] is None, frame["problem"]
            assert decode_png(png_of(frame)).shape == (400, 600, 3)
    finally:
        watcher.close()


def test_env_errors_and_overrides_behave_as_with_worker_processes(server: ServerProcess) -> None:
    with gymie.client.connect(server.url) as client:
        with pytest.raises(gymie.EnvironmentNotFound):
            client.make("NoSuchEnv-v0")
        env = client.make("Custom-v0")  # made by the @override of tests.faults_override, in the actor
        assert env.reset()[1]["pid"] == client.call("env_info", instance_id=env.instance_id)["pid"]
        with pytest.raises(gymie.WrongAction):
            env.step(7)
        env.step(0)  # the actor lived on


def sharded_and_local(client: gymie.client.Client, num_shards: int) -> tuple[Any, Any]:
    remote_env = client.make_vec("CartPole-v1", num_envs=5, num_shards=num_shards, vectorization_mode="sync")
    return remote_env, gymnasium.make_vec("CartPole-v1", num_envs=5, vectorization_mode="sync")


def test_a_sharded_vector_env_matches_a_local_one_byte_for_byte(server: ServerProcess) -> None:
    with gymie.client.connect(server.url) as client:
        sharded, local = sharded_and_local(client, num_shards=2)
        info = client.call("env_info", instance_id=sharded.instance_id)
        assert info["num_envs"] == 5 and len({shard["pid"] for shard in info["shards"]}) == 2
        assert sharded.reset(seed=11)[0].tobytes() == local.reset(seed=11)[0].tobytes()
        actions = np.random.default_rng(0).integers(0, 2, size=(60, 5))
        for action in actions:  # long enough for some episodes to end and autoreset
            got, expected = sharded.step(action), local.step(action)
            for a, b in zip(got[:4], expected[:4], strict=True):
                assert np.asarray(a).tobytes() == np.asarray(b).tobytes()
            assert got[4].keys() == expected[4].keys()
        sharded.close()


def test_sigterm_leaves_no_actor_in_the_cluster(cluster: RayCluster) -> None:
    with ray_server(cluster) as srv:
        with gymie.client.connect(srv.url) as client:
            client.make("CartPole-v1")
            client.make_vec("CartPole-v1", num_envs=2, num_shards=2, vectorization_mode="sync")
            assert len(cluster.actors(prefix(srv))) == 3
            srv.proc.send_signal(signal.SIGTERM)
            assert srv.proc.wait(TIMEOUT) == 0
    assert cluster.actors(prefix(srv)) == []


def test_sigkill_of_the_server_leaves_no_actor_either(cluster: RayCluster) -> None:
    with ray_server(cluster) as srv:
        with gymie.client.connect(srv.url) as client:
            client.make("CartPole-v1")
            assert len(cluster.actors(prefix(srv))) == 1
            srv.proc.kill()
            srv.proc.wait(TIMEOUT)
    assert cluster.wait_no_actors(prefix(srv), 10 * SCALE) == []


def test_processes_share_the_one_local_cluster_their_supervisor_starts() -> None:
    tmpdir = tempfile.mkdtemp(prefix="gymie-ray-", dir="/tmp")  # the cluster's files, removed after
    env = {"RAY_TMPDIR": tmpdir, "RAY_ADDRESS": ""}
    srv = start_server("--isolation", "ray", "--processes", "2", env=env)
    try:
        pids, nodes = set(), set()
        for _ in range(40):
            with gymie.client.connect(srv.url) as client:
                env_id = client.make("CartPole-v1").instance_id
                info = client.call("env_info", instance_id=env_id)
                pids.add(health(srv)["pid"])
                nodes.add(info["node_id"])
            if len(pids) == 2:
                break
        assert len(pids) == 2 and len(nodes) == 1  # two servers, one cluster
        srv.proc.send_signal(signal.SIGTERM)
        assert srv.proc.wait(TIMEOUT) == 0
        eventually(lambda: not ray_processes_in(tmpdir), what="the cluster gone with its supervisor")
    finally:
        srv.stop()
        shutil.rmtree(tmpdir, ignore_errors=True)


def ray_processes_in(tmpdir: str) -> list[int]:
    """Pids of the processes whose command line names ``tmpdir`` (the cluster's gcs, raylet...)."""
    found = []
    for entry in os.listdir("/proc"):
        with contextlib.suppress(OSError):
            if entry.isdigit() and tmpdir.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                found.append(int(entry))
    return found
