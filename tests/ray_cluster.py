"""A simulated two-node Ray cluster for the tests, run in its own process (``RayCluster``).

The test process never imports Ray: Ray reads its authentication settings when it loads, takes
over SIGTERM, and starts threads, none of which belongs in pytest. This module is both the
helper process (``python -m tests.ray_cluster``: start ``ray.cluster_utils.Cluster``, print its
address and node ids as one JSON line, answer ``actors`` on stdin with the live named actors,
``add_node NAME`` / ``remove_node NAME`` with a third node offering resource NAME started / killed
(a lost host), shut down on EOF) and the handle the tests use. The cluster has token authentication, its
own ``RAY_TMPDIR`` (removed afterwards: nothing under ``/tmp/ray`` or ``~/.ray``), and nodes
of one CPU each (``num_cpus`` logical CPUs: the benchmark asks for 2) with the custom resources
``node_a`` and ``node_b`` to pin actors to either.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

from tests.conftest import ROOT, SCALE

NODES = {"node_a": 100, "node_b": 100}
"""Custom resources, one per node: ``{"node_a": 1}`` puts an actor on the first node."""
START_TIMEOUT = 90.0 * SCALE
HEALTH_CHECKS = {
    "health_check_period_ms": 1000,
    "health_check_timeout_ms": 3000,
    "health_check_failure_threshold": 3,
}
"""A killed node is declared dead in ~6 s (Ray's defaults: ~16 s), so the scheduler stops using it;
a node that is only slow still has 3 s to answer each check."""


class RayCluster:
    """The helper process: ``address``, ``node_ids`` (resource name → node id), ``env`` for servers."""

    def __init__(self, num_cpus: int = 1) -> None:
        self.tmpdir = tempfile.mkdtemp(prefix="gymie-ray-", dir="/tmp")  # Ray's socket paths must be short
        self.env = {
            "RAY_TMPDIR": self.tmpdir,
            "RAY_AUTH_MODE": "token",
            "RAY_AUTH_TOKEN": secrets.token_hex(16),
            "RAY_USAGE_STATS_ENABLED": "0",
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.ray_cluster", str(num_cpus)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, **self.env},
        )
        hello = self._line(START_TIMEOUT)
        self.address: str = hello["address"]
        self.node_ids: dict[str, str] = hello["node_ids"]

    def actors(self, prefix: str = "gymie-") -> list[str]:
        """Names of the live named actors starting with ``prefix``."""
        return [name for name in self._command("actors", 30.0 * SCALE) if name.startswith(prefix)]

    def add_node(self, resource: str) -> str:
        """Start a third node offering ``resource`` (100 of it); return its node id."""
        return str(self._command(f"add_node {resource}", START_TIMEOUT))

    def remove_node(self, resource: str) -> None:
        """Kill the node ``add_node(resource)`` started, as a lost host: no graceful drain."""
        self._command(f"remove_node {resource}", 60.0 * SCALE)

    def wait_no_actors(self, prefix: str, timeout: float) -> list[str]:
        """Poll until no actor starts with ``prefix`` (or ``timeout``); return those left."""
        deadline = time.monotonic() + timeout
        while (left := self.actors(prefix)) and time.monotonic() < deadline:
            time.sleep(0.2)
        return left

    def stop(self) -> None:
        """Shut the cluster down and remove its files."""
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            self.proc.wait(60 * SCALE)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        finally:
            if self.proc.stdout is not None:
                self.proc.stdout.close()
            shutil.rmtree(self.tmpdir, ignore_errors=True)

    def _command(self, command: str, timeout: float) -> Any:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self._line(timeout)

    def _line(self, timeout: float) -> Any:
        assert self.proc.stdout is not None
        import selectors

        with selectors.DefaultSelector() as selector:
            selector.register(self.proc.stdout, selectors.EVENT_READ)
            if not selector.select(timeout):
                self.proc.kill()
                raise TimeoutError("the Ray cluster helper did not answer")
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the Ray cluster helper exited ({self.proc.wait()})")
        return json.loads(line)


def main() -> None:
    """The helper process: start the cluster, answer ``actors``, stop at EOF."""
    import logging

    import ray
    from ray.cluster_utils import Cluster

    num_cpus = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    answers = os.fdopen(os.dup(1), "w")  # the answers' own channel: Ray may print to stdout
    os.dup2(2, 1)
    first, second = NODES.items()
    cluster = Cluster(
        initialize_head=True,
        head_node_args={
            "num_cpus": num_cpus,
            "resources": dict([first]),
            "include_dashboard": False,
            "_system_config": HEALTH_CHECKS,
        },
    )
    try:
        cluster.add_node(num_cpus=num_cpus, resources=dict([second]))
        ray.init(address=cluster.address, logging_level=logging.ERROR, log_to_driver=False)
        cluster.wait_for_nodes()
        node_ids = {
            name: node["NodeID"] for node in ray.nodes() for name in NODES if name in node["Resources"]
        }
        print(json.dumps({"address": cluster.address, "node_ids": node_ids}), file=answers, flush=True)
        added: dict[str, Any] = {}
        for line in sys.stdin:
            command, _, resource = line.strip().partition(" ")
            if command == "actors":
                names = [actor["name"] for actor in ray.util.list_named_actors(all_namespaces=True)]
                print(json.dumps(names), file=answers, flush=True)
            elif command == "add_node":
                added[resource] = cluster.add_node(num_cpus=num_cpus, resources={resource: 100})
                cluster.wait_for_nodes()
                print(json.dumps(added[resource].node_id), file=answers, flush=True)
            elif command == "remove_node":
                node = added.pop(resource)
                cluster.remove_node(node, allow_graceful=False)
                deadline = time.monotonic() + 60 * SCALE  # until Ray stops placing actors there
                while time.monotonic() < deadline and any(
                    n["NodeID"] == node.node_id and n["Alive"] for n in ray.nodes()
                ):
                    time.sleep(0.1)
                print(json.dumps(None), file=answers, flush=True)
    finally:
        ray.shutdown()
        cluster.shutdown()


if __name__ == "__main__":
    main()
