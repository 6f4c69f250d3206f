"""Token, Origin and allow-list checks: unit tests of ``gymie.server.security``, then over real handshakes."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from typing import Any

import msgpack
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from gymie.server import security
from gymie.settings import Settings
from tests.conftest import TIMEOUT, ServerProcess, running_server, start_server
from tests.http_helpers import http_get
from tests.remote import remote

TOKEN = "s3cret-Tøken"
MSGPACK = "gymie.msgpack"
MODULE_ID = "gymnasium.envs.classic_control.cartpole:CartPole-v1"

# -- unit ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "token"),
    [
        ({"HTTP_AUTHORIZATION": "Bearer abc"}, "abc"),
        ({"HTTP_AUTHORIZATION": "bearer  abc "}, "abc"),
        ({"QUERY_STRING": "x=1&token=abc"}, "abc"),
        ({"QUERY_STRING": "token=a%2Bb"}, "a+b"),
        ({"HTTP_AUTHORIZATION": "Bearer abc", "QUERY_STRING": "token=zzz"}, "abc"),
        ({"HTTP_AUTHORIZATION": "Basic abc"}, None),
        ({}, None),
    ],
)
def test_presented_token(environ: dict[str, str], token: str | None) -> None:
    assert security.presented_token(environ) == token


def test_token_ok_compares_whole_tokens() -> None:
    assert security.token_ok({"HTTP_AUTHORIZATION": "Bearer abc"}, "abc")
    for given in ("ab", "abcd", "ABC", ""):
        assert not security.token_ok({"HTTP_AUTHORIZATION": f"Bearer {given}"}, "abc")


@pytest.mark.parametrize(
    ("origin", "normal"),
    [
        ("https://Example.COM", "https://example.com"),
        ("https://example.com:443", "https://example.com"),
        ("http://example.com:80/", "http://example.com"),
        ("http://localhost:8080", "http://localhost:8080"),
        ("http://[::1]:3000", "http://[::1]:3000"),
        ("null", "null"),
    ],
)
def test_normalize_origin(origin: str, normal: str) -> None:
    assert security.normalize_origin(origin) == normal


def test_origin_ok() -> None:
    allowed = ["https://app.example.com", "http://localhost:8080"]
    assert security.origin_ok(None, allowed)  # not a browser
    assert security.origin_ok("https://app.example.com:443", allowed)
    assert not security.origin_ok("https://evil.example", allowed)
    assert not security.origin_ok("null", allowed)
    assert security.origin_ok("https://evil.example", ["*"])


def test_parse_origins() -> None:
    assert security.parse_origins([]) is None
    assert security.parse_origins(["a, b", "c"]) == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("host", "warned"),
    [
        ("127.0.0.1", False),
        ("::1", False),
        ("localhost", False),
        ("0.0.0.0", True),
        ("::", True),
        ("10.1.2.3", True),
    ],
)
def test_a_warning_when_reachable_from_other_machines_without_a_token(host: str, warned: bool) -> None:
    assert bool(security.startup_warnings(host, Settings())) == warned
    assert security.startup_warnings(host, Settings(token="t")) == []


# -- over the wire ------------------------------------------------------------------


@pytest.fixture(scope="module")
def guarded() -> Iterator[ServerProcess]:
    srv = start_server(
        "--token", TOKEN, "--allowed-origins", "https://app.example.com,http://localhost:8080",
        "--allowed-origins", "https://other.example",
    )  # fmt: skip
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def allow_listed() -> Iterator[ServerProcess]:
    srv = start_server("--allow", "CartPole-v1", "--allow", "gymnasium.envs.classic_control.*:Cart*")
    yield srv
    srv.stop()


def handshake_status(url: str, **kwargs: Any) -> int:
    """101 when the WebSocket opens, else the HTTP status of the refusal."""
    try:
        with connect(url, open_timeout=TIMEOUT, **kwargs) as ws:
            ws.ping().wait(TIMEOUT)
    except InvalidStatus as refused:
        return refused.response.status_code
    return 101


def bearer(token: str) -> dict[str, Any]:
    return {"additional_headers": {"Authorization": f"Bearer {token}"}}


def test_a_handshake_without_the_token_gets_401(guarded: ServerProcess) -> None:
    assert handshake_status(guarded.url) == 401
    assert handshake_status(guarded.url, **bearer("wrong")) == 401
    assert handshake_status(guarded.url + "?token=wrong") == 401
    with pytest.raises(InvalidStatus) as refused, connect(guarded.url, open_timeout=TIMEOUT):
        pass
    assert refused.value.response.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_token_in_a_header_or_in_the_query_opens_the_socket(guarded: ServerProcess) -> None:
    assert handshake_status(guarded.url, **bearer(TOKEN)) == 101
    assert handshake_status(guarded.url + "?token=s3cret-T%C3%B8ken") == 101


@pytest.mark.parametrize(
    ("origin", "status"),
    [
        (None, 101),
        ("https://app.example.com", 101),
        ("https://app.example.com:443", 101),
        ("http://localhost:8080", 101),
        ("https://other.example", 101),
        ("https://evil.example", 403),
        ("http://localhost:8081", 403),
        ("null", 403),
    ],
)
def test_only_listed_origins_may_connect(guarded: ServerProcess, origin: str | None, status: int) -> None:
    assert handshake_status(guarded.url, origin=origin, **bearer(TOKEN)) == status


def test_metrics_need_the_token_but_health_and_root_do_not(guarded: ServerProcess) -> None:
    assert http_get(guarded, "/metrics")[0] == 401
    assert http_get(guarded, "/metrics", {"Authorization": f"Bearer {TOKEN}"})[0] == 200
    assert http_get(guarded, "/healthz")[0] == 200
    assert http_get(guarded, "/")[:3:2] == (200, b"Gymie is running...")


def test_the_token_can_come_from_the_environment() -> None:
    with running_server(env={"GYMIE_TOKEN": "from-env"}) as srv:
        assert handshake_status(srv.url) == 401
        assert handshake_status(srv.url, **bearer("from-env")) == 101


def test_the_allow_list_refuses_other_ids(allow_listed: ServerProcess) -> None:
    with remote(allow_listed.url) as r:
        assert r.rpc("make", env_id="CartPole-v1")
        error = r.rpc_reply("make", env_id="MountainCar-v0")["error"]
        assert (error["code"], error["message"]) == (-32005, "Environment `MountainCar-v0` is not allowed")
    with remote(allow_listed.url) as r:
        assert r.closed_by("make", env_id="Acrobot-v1") == (1008, "Environment `Acrobot-v1` is not allowed")


def test_module_ids_only_when_a_pattern_allows_them(allow_listed: ServerProcess) -> None:
    with remote(allow_listed.url) as r:
        assert r.rpc("make", env_id=MODULE_ID)
        other = "gymnasium.envs.classic_control.acrobot:Acrobot-v1"
        assert r.rpc_reply("make", env_id=other)["error"]["code"] == -32005


def test_module_ids_are_refused_by_default(server: ServerProcess) -> None:
    with remote(server.url) as r:
        error = r.rpc_reply("make", env_id=MODULE_ID)["error"]
    assert (error["code"], error["data"]["error"]) == (-32005, "EnvironmentNotAllowed")


def test_no_warning_on_loopback(allow_listed: ServerProcess) -> None:
    assert "without a token" not in "".join(allow_listed.output)


def test_a_pickle_on_the_wire_is_just_an_invalid_message(server: ServerProcess) -> None:
    payload = pickle.dumps(print)
    with remote(server.url) as r:
        r.ws.send(payload)
        code, _ = r.close_frame()
    assert code == 1003
    # The msgpack subprotocol decodes msgpack only (its one extension type is the ndarray).
    with connect(server.url, open_timeout=TIMEOUT, subprotocols=[MSGPACK]) as ws:  # type: ignore[list-item]
        ws.send(payload)
        reply = msgpack.unpackb(ws.recv(timeout=TIMEOUT))
        assert reply["error"]["code"] == -32700 and reply["error"]["data"]["error"] == "InvalidMessage"
