"""Server limits over real connections: each refuses with a clear error and disturbs nothing else."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from gymie import cli
from gymie.settings import Settings
from tests.conftest import SCALE, TIMEOUT, ServerProcess, start_server
from tests.http_helpers import eventually, health, raw_connect, read_until_closed
from tests.remote import Remote, remote

LIMITS = {
    "--max-envs": "3",
    "--max-envs-per-connection": "2",
    "--max-message-size": "1024",
    "--max-connections": "4",
    "--idle-timeout": "1",
    "--handshake-timeout": "0.5",
}


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    srv = start_server(*[part for item in LIMITS.items() for part in item])
    yield srv
    srv.stop()


@pytest.fixture(autouse=True)
def clean(server: ServerProcess) -> Iterator[None]:
    yield
    eventually(
        lambda: health(server)["connections"] == 0 and health(server)["envs"] == 0, what="a clean server"
    )


def make_error(r: Remote) -> dict[str, object]:
    reply = r.rpc_reply("make", env_id="CartPole-v1")
    assert "error" in reply, reply
    return reply["error"]  # type: ignore[no-any-return]


def test_envs_per_connection(server: ServerProcess) -> None:
    with remote(server.url) as a, remote(server.url) as b:
        first = a.rpc("make", env_id="CartPole-v1")["instance_id"]
        a.rpc("make", env_id="CartPole-v1")
        error = make_error(a)
        assert (error["code"], error["message"]) == (-32006, "Limit exceeded: 2 environments per connection")
        assert b.rpc("make", env_id="CartPole-v1")  # another connection is not affected
        a.rpc("close", instance_id=first)
        assert a.rpc("make", env_id="CartPole-v1")  # room again


def test_envs_per_server(server: ServerProcess) -> None:
    with remote(server.url) as a, remote(server.url) as b:
        a.rpc("make", env_id="CartPole-v1")
        a.rpc("make", env_id="CartPole-v1")
        kept = b.rpc("make", env_id="CartPole-v1")["instance_id"]
        error = make_error(b)
        assert (error["code"], error["message"]) == (-32006, "Limit exceeded: 3 environments per server")
        assert b.rpc("reset", instance_id=kept)  # the connection and its env carry on


def test_a_legacy_client_over_the_limit_is_closed_1008(server: ServerProcess) -> None:
    with remote(server.url) as r:
        r.make("CartPole-v1")
        r.make("CartPole-v1")
        assert r.closed_by("make", env_id="CartPole-v1") == (
            1008,
            "Limit exceeded: 2 environments per connection",
        )


def test_an_oversize_message_closes_1009(server: ServerProcess) -> None:
    with remote(server.url) as r, remote(server.url) as bystander:
        r.rpc("server_info")
        r.ws.send(json.dumps({"method": "make", "params": {"env_id": "x" * 2000}}))
        code, _ = r.close_frame()
        assert code == 1009
        assert bystander.rpc("server_info")["version"]


def test_an_oversize_message_in_small_fragments_closes_1009(server: ServerProcess) -> None:
    # eventlet caps single frames only; gymie caps the message across its fragments.
    with pytest.raises(ConnectionClosed) as closed:  # from send, recv or close: the server was quick
        with connect(server.url, open_timeout=TIMEOUT, compression=None) as ws:
            ws.send(iter(["x" * 600, "y" * 600]))
            ws.recv(timeout=TIMEOUT)
    rcvd = closed.value.rcvd
    assert rcvd is not None and (rcvd.code, rcvd.reason) == (1009, "Message is above the limit of 1024 bytes")


def test_a_compressed_message_is_capped_once_inflated(server: ServerProcess) -> None:
    with remote(server.url) as r:  # permessage-deflate: 5 KB of "x" travels as a few bytes
        r.ws.send("x" * 5000)
        assert r.close_frame() == (1009, "Incoming compressed frame exceeds length limit of 1024 bytes.")


def test_a_message_just_under_the_limit_is_fine(server: ServerProcess) -> None:
    with remote(server.url) as r:
        message = {"jsonrpc": "2.0", "id": 1, "method": "server_info", "params": {}}
        text = json.dumps(message)
        r.ws.send(iter([text[:10], text[10:] + " " * (1024 - len(text))]))
        assert json.loads(r.ws.recv(timeout=TIMEOUT))["result"]["version"]


def test_connections_over_the_limit_get_503(server: ServerProcess) -> None:
    with contextlib.ExitStack() as stack:
        held = [stack.enter_context(connect(server.url, open_timeout=TIMEOUT)) for _ in range(4)]
        with pytest.raises(InvalidStatus) as refused, connect(server.url, open_timeout=TIMEOUT):
            pass
        assert refused.value.response.status_code == 503
        assert health(server)["connections"] == 4  # plain HTTP is still answered
        held[0].close()
        eventually(lambda: health(server)["connections"] == 3, what="a free slot")
        with connect(server.url, open_timeout=TIMEOUT) as ws:
            ws.ping().wait(TIMEOUT)


def test_a_silent_connection_is_closed_after_the_idle_timeout(server: ServerProcess) -> None:
    with remote(server.url) as silent, remote(server.url) as chatty:
        started = time.monotonic()
        while time.monotonic() - started < 1.6:
            chatty.rpc("server_info")
            time.sleep(0.2)
        assert silent.close_frame() == (1001, "Idle for 1 s")
        assert chatty.rpc("server_info")["version"]  # kept alive by its messages


def test_a_connection_that_never_sends_its_request_is_dropped(server: ServerProcess) -> None:
    started = time.monotonic()
    with raw_connect(server) as sock:
        assert read_until_closed(sock) == b""
    assert time.monotonic() - started < 2 * SCALE


def test_a_request_dribbled_byte_by_byte_is_dropped_at_the_deadline(server: ServerProcess) -> None:
    # Each read is quick, so a per-read timeout alone would never fire; the deadline does.
    started = time.monotonic()
    with raw_connect(server) as sock:
        sock.sendall(b"GET /gym HTTP/1.1\r\n")
        with pytest.raises(OSError):
            for _ in range(int(10 / 0.1)):
                sock.sendall(b"X")
                time.sleep(0.1)
                assert time.monotonic() - started < 3 * SCALE, "never dropped"
            pytest.fail("never dropped")
    assert time.monotonic() - started < 3 * SCALE


# -- the flags themselves -------------------------------------------------------------


def test_flags_become_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GYMIE_TOKEN", raising=False)
    args = cli.build_parser().parse_args(
        [
            *[part for item in LIMITS.items() for part in item],
            "--isolation",
            "process",
            "--step-timeout",
            "2.5",
        ]
        + [
            "--shutdown-timeout",
            "3",
            "--token",
            "t",
            "--allowed-origins",
            "https://a,https://b",
            "--access-log",
        ]
    )
    assert cli.settings_from(args) == Settings(
        max_message_size=1024,
        isolation="process",
        step_timeout=2.5,
        max_envs=3,
        max_envs_per_connection=2,
        max_connections=4,
        idle_timeout=1.0,
        handshake_timeout=0.5,
        shutdown_timeout=3.0,
        token="t",
        allowed_origins=["https://a", "https://b"],
        access_log=True,
    )


def test_the_defaults_are_safe_and_compatible(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GYMIE_TOKEN", raising=False)
    settings = cli.settings_from(cli.build_parser().parse_args([]))
    assert settings == Settings()
    assert (settings.isolation, settings.max_connections, settings.handshake_timeout) == ("none", 1000, 10.0)
    assert settings.token is None and settings.idle_timeout is None and settings.max_envs is None


@pytest.mark.parametrize(
    "argv",
    [
        ["--max-envs", "0"],
        ["--max-message-size", "-1"],
        ["--idle-timeout", "0"],
        ["--processes", "0"],
        ["--step-timeout", "5"],
        ["--isolation", "process", "--step-timeout", "-1"],
    ],
)
def test_values_out_of_range_are_refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == 2 and ("must be" in (err := capsys.readouterr().err) or "needs" in err)
