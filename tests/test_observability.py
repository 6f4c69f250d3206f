"""``/healthz``, ``/metrics`` and the access log of a real server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

import gymie
import gymie.client
from tests.conftest import TIMEOUT, ServerProcess, start_server
from tests.http_helpers import eventually, health, http_get
from tests.remote import remote


@pytest.fixture(scope="module")
def logged() -> Iterator[ServerProcess]:
    srv = start_server("--access-log")
    yield srv
    srv.stop()


def samples(server: ServerProcess) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, headers, body = http_get(server, "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
    }


def test_healthz_reports_status_version_and_counts(logged: ServerProcess) -> None:
    before = health(logged)
    assert before["status"] == "ok" and before["version"] == gymie.__version__
    assert before["pid"] == logged.proc.pid and before["isolation"] == "none"
    assert (before["connections"], before["envs"]) == (0, 0)
    with remote(logged.url) as r:
        r.rpc("make", env_id="CartPole-v1")
        during = health(logged)
        assert (during["connections"], during["envs"]) == (1, 1)
    eventually(lambda: health(logged)["envs"] == 0, what="the env closed with its connection")


def test_metrics_count_requests_errors_latency_and_bytes(logged: ServerProcess) -> None:
    before = samples(logged)
    with remote(logged.url) as r:
        instance_id = r.rpc("make", env_id="CartPole-v1")["instance_id"]
        r.rpc("reset", instance_id=instance_id)
        for _ in range(3):
            r.rpc("step", instance_id=instance_id, action=0)
        r.rpc_reply("step", instance_id="nope", action=0)
        r.rpc_reply("no_such_method")
        during = samples(logged)
    after = samples(logged)

    def grew(name: str, by: float, **labels: str) -> bool:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0) == by

    assert grew("gymie_requests_total", 4, method="step")
    assert grew("gymie_requests_total", 1, method="other")
    assert grew("gymie_request_duration_seconds_count", 4, method="step")
    assert grew("gymie_errors_total", 1, code="-32001", error="InstanceNotFound")
    assert grew("gymie_errors_total", 1, code="-32601", error="MethodNotFound")
    assert after[("gymie_received_bytes_total", ())] > before.get(("gymie_received_bytes_total", ()), 0) + 300
    assert after[("gymie_sent_bytes_total", ())] > before.get(("gymie_sent_bytes_total", ()), 0) + 300
    assert during[("gymie_connections", ())] == 1 and during[("gymie_envs", ())] == 1
    assert after[("process_resident_memory_bytes", ())] > 0


def test_root_and_plain_gym_answer_as_0_5_4(logged: ServerProcess) -> None:
    status, headers, body = http_get(logged, "/")
    assert (status, headers["Content-Type"], body) == (200, "text/plain", b"Gymie is running...")
    assert http_get(logged, "/gym")[0] == 400


@pytest.mark.parametrize("path", ["/", "/gym/", "/ws", "/healthz"])
def test_a_websocket_handshake_elsewhere_gets_404_naming_gym(logged: ServerProcess, path: str) -> None:
    handshake = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
    }
    status, _, body = http_get(logged, path, handshake)
    assert (status, body) == (404, b"Not found: gymie serves WebSockets at /gym, e.g. ws://HOST:PORT/gym")
    assert http_get(logged, path)[0] == 200  # a plain GET still gets 0.5.4's answer


def test_the_python_client_without_the_gym_path_says_where_to_go(logged: ServerProcess) -> None:
    base = logged.url.removesuffix("/gym")
    with pytest.raises(ConnectionError, match="gymie serves WebSockets at /gym") as refused:
        gymie.client.connect(base, timeout=TIMEOUT)
    assert f"({base}/gym)" in str(refused.value) and "HTTP 404" in str(refused.value)


def test_the_access_log_is_off_by_default(server: ServerProcess) -> None:
    http_get(server, "/healthz")
    assert "GET /healthz" not in "".join(server.output)


def test_the_access_log_is_on_with_access_log(logged: ServerProcess) -> None:
    http_get(logged, "/healthz?probe=1")
    eventually(lambda: "GET /healthz?probe=1" in "".join(logged.output), what="an access log line")
