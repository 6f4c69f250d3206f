"""Scale by connection: nginx (deploy/nginx/gymie.conf) balancing two gymie servers on loopback.

The committed config runs as it is, with only its backend ports and its ``listen`` port replaced,
inside a minimal main config that keeps nginx's files in a temporary prefix. nginx comes from
the OS packages (``./run_tests.sh`` installs it): when it is missing these tests fail, they do
not skip, so CI cannot pass without having run them.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import pytest
from websockets.sync.client import connect as ws_connect

import gymie.client
from tests.conftest import ROOT, TIMEOUT, ServerProcess, start_server
from tests.http_helpers import eventually, free_port, health

CONFIG = ROOT / "deploy" / "nginx" / "gymie.conf"
CLIENTS = 40
ROUNDS = 3
STEPS = 4
NGINX_CANDIDATES = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")
UPSTREAM_SERVER = re.compile(r"^(\s*server\s+)127\.0\.0\.1:\d+(\s[^;]*)?;", re.MULTILINE)
LISTEN = re.compile(r"^(\s*listen\s+)\d+;", re.MULTILINE)
MAIN_CONF = """\
worker_processes 1;
events {{ worker_connections 1024; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/gymie.conf;
}}
"""


def nginx_binary() -> str:
    """The nginx executable ($GYMIE_NGINX, PATH, or Debian's /usr/sbin, often not on a user's PATH)."""
    candidates = [os.environ.get("GYMIE_NGINX", ""), shutil.which("nginx") or "", *NGINX_CANDIDATES]
    for path in candidates:
        if path and os.access(path, os.X_OK):
            return path
    pytest.fail("nginx is missing (./run_tests.sh installs it: apt-get install -y nginx)", pytrace=False)


def render(config: str, backend_ports: list[int], listen_port: int) -> str:
    """The committed config with the test's ports; fails if its shape no longer matches the test's."""
    servers = UPSTREAM_SERVER.findall(config)
    assert len(servers) == len(backend_ports), f"expected {len(backend_ports)} upstream servers: {servers}"
    ports = iter(backend_ports)
    config = UPSTREAM_SERVER.sub(lambda m: f"{m.group(1)}127.0.0.1:{next(ports)}{m.group(2) or ''};", config)
    config, listens = LISTEN.subn(lambda m: f"{m.group(1)}127.0.0.1:{listen_port};", config)
    assert listens == 1, "expected one listen line"
    return config


@dataclass
class Proxy:
    """nginx in the foreground, in front of ``backends``, with its files in ``prefix``."""

    backends: list[ServerProcess]
    prefix: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gym"

    def log(self) -> str:
        parts = []
        for name in ("nginx.stderr", "access.log"):
            path = self.prefix / name
            if path.exists():
                parts.append(f"--- {name}\n{path.read_text(errors='replace')}")
        return "\n".join(parts)

    def start(self) -> None:
        binary = nginx_binary()
        for attempt in range(3):  # a free port may be taken between the probe and nginx's bind
            self.port = free_port()
            site = render(CONFIG.read_text(), [b.port for b in self.backends], self.port)
            (self.prefix / "gymie.conf").write_text(site)
            (self.prefix / "nginx.conf").write_text(MAIN_CONF.format(prefix=self.prefix))
            with open(self.prefix / "nginx.stderr", "wb") as stderr:
                self.proc = subprocess.Popen(
                    [
                        binary,
                        "-p", str(self.prefix),
                        "-c", str(self.prefix / "nginx.conf"),
                        "-e", "stderr",
                        "-g", f"daemon off; pid {self.prefix}/nginx.pid; error_log stderr;",
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=stderr,
                    stderr=stderr,
                )  # fmt: skip
            if self.wait_listening():
                return
            self.stop()
            if attempt == 2 or "Address already in use" not in self.log():
                raise RuntimeError("nginx did not start:\n" + self.log())

    def wait_listening(self) -> bool:
        assert self.proc is not None
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline and self.proc.poll() is None:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.2):
                return True
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: nginx's fast shutdown, workers included
            try:
                self.proc.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(TIMEOUT)

    def get(self, path: str) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()


@contextlib.contextmanager
def proxied_pair() -> Iterator[Proxy]:
    """Two gymie servers and nginx in front of them; everything stopped on the way out."""
    nginx_binary()  # fail before starting anything when nginx is missing
    # nginx's workers drop root for "nobody": the prefix must be readable by them.
    with tempfile.TemporaryDirectory(prefix="gymie-nginx-") as tmp:
        prefix = Path(tmp)
        prefix.chmod(0o755)
        proxy = Proxy([], prefix)
        try:
            proxy.backends.extend(start_server() for _ in range(2))
            proxy.start()
            yield proxy
        except BaseException:
            print(proxy.log())
            raise
        finally:
            proxy.stop()
            for backend in proxy.backends:
                backend.stop()


@pytest.fixture(scope="module")
def proxy() -> Iterator[Proxy]:
    with proxied_pair() as proxy:
        yield proxy


def split(proxy: Proxy, key: str) -> list[int]:
    return [int(health(backend)[key]) for backend in proxy.backends]


def close_all(clients: list[gymie.client.Client]) -> None:
    for client in clients:
        with contextlib.suppress(Exception):
            client.close()


def test_connections_are_spread_and_each_instance_stays_on_its_connection(proxy: Proxy) -> None:
    clients: list[gymie.client.Client] = []
    try:
        envs = []
        for _ in range(CLIENTS):
            clients.append(gymie.client.connect(proxy.url, timeout=TIMEOUT))
            envs.append(clients[-1].make("CartPole-v1"))
        connections, made = split(proxy, "connections"), split(proxy, "envs")
        assert sum(connections) == CLIENTS and sum(made) == CLIENTS, (connections, made)
        # least_conn on connections opened one after another alternates between the backends.
        assert min(connections) >= CLIENTS // 4, f"one backend got almost nothing: {connections}"
        assert len({health(backend)["pid"] for backend in proxy.backends}) == 2

        # Interleaved across every connection, each remote env must follow its own local twin:
        # an instance answered by another backend, or by another connection's env, would diverge.
        twins = [gymnasium.make("CartPole-v1") for _ in range(CLIENTS)]
        for round_ in range(ROUNDS):
            order = list(range(CLIENTS)) if round_ % 2 == 0 else list(reversed(range(CLIENTS)))
            for i in order:
                seed = 1000 * round_ + i
                obs, _ = envs[i].reset(seed=seed)
                np.testing.assert_array_equal(obs, twins[i].reset(seed=seed)[0])
            for step in range(STEPS):
                for i in order:
                    action = (i + step + round_) % 2
                    got = envs[i].step(action)
                    want = twins[i].step(action)
                    np.testing.assert_array_equal(got[0], want[0])
                    assert got[1:4] == want[1:4]
        for twin in twins:
            twin.close()
    finally:
        close_all(clients)
    # Closing a client through the proxy closes its connection on the backend, and its env.
    eventually(lambda: split(proxy, "connections") == [0, 0], what="every proxied connection closed")
    assert split(proxy, "envs") == [0, 0]


def legacy_call(ws: Any, method: str, **params: Any) -> str:
    ws.send(json.dumps({"method": method, "params": params}))
    reply = ws.recv(timeout=TIMEOUT)
    assert isinstance(reply, str), "0.5.4 answers with text frames"
    return reply


def test_the_legacy_protocol_passes_through(proxy: Proxy) -> None:
    with ws_connect(proxy.url, open_timeout=TIMEOUT, close_timeout=TIMEOUT) as ws:
        instance_id = legacy_call(ws, "make", env_id="CartPole-v1")
        assert re.fullmatch(r"[0-9a-f]{32}", instance_id), instance_id
        assert len(json.loads(legacy_call(ws, "reset", instance_id=instance_id))) == 4
        for _ in range(3):
            obs, reward, done, info = json.loads(legacy_call(ws, "step", instance_id=instance_id, action=1))
            assert len(obs) == 4 and reward == 1.0 and done is False and info == {}
        assert legacy_call(ws, "close", instance_id=instance_id) == "true"


def test_health_and_the_root_page_pass_through(proxy: Proxy) -> None:
    status, body = proxy.get("/healthz")
    assert status == 200
    assert json.loads(body)["pid"] in {health(backend)["pid"] for backend in proxy.backends}
    assert proxy.get("/") == (200, b"Gymie is running...")
    assert proxy.get("/metrics")[0] == 404  # scraped per backend, not through the balancer


def test_a_backend_that_stops_is_skipped_and_the_other_keeps_its_envs() -> None:
    with proxied_pair() as proxy:
        clients: list[gymie.client.Client] = []
        try:
            envs = []
            for _ in range(6):
                clients.append(gymie.client.connect(proxy.url, timeout=TIMEOUT))
                envs.append(clients[-1].make("CartPole-v1"))
            survivor, stopped = proxy.backends
            kept = health(survivor)["envs"]
            assert kept >= 1
            assert stopped.stop() == 0
            # The survivor's envs keep working...
            alive = 0
            for env in envs:
                with contextlib.suppress(Exception):
                    env.reset(seed=0)
                    env.step(0)
                    alive += 1
            assert alive == kept
            # ...and every new connection lands on it (nginx retries a refused connect elsewhere).
            for _ in range(4):
                clients.append(gymie.client.connect(proxy.url, timeout=TIMEOUT))
                env = clients[-1].make("CartPole-v1")
                env.reset(seed=0)
                env.step(0)
            assert health(survivor)["envs"] == kept + 4
        finally:
            close_all(clients)
