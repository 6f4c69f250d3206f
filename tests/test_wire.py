"""A 0.5.4 client must see the recorded frames: replay every conversation of the golden file.

Ids and float values depend on the RNG; everything else (frame types, JSON layout, ints,
bools, keys, close codes and reasons) must match. Space descriptions, ``close`` replies
and errors are compared byte for byte.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
from typing import Any

import gymnasium
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.conftest import TIMEOUT
from tests.golden_wire import Conversation, Exchange, load

CONVERSATIONS = load()
FLOAT = re.compile(r"-?\d+(?:\.\d+(?:e[+-]?\d+)?|e[+-]?\d+)")
HEX_ID = re.compile(r"^[0-9a-f]{32}$")
UNKNOWN_ID = "0123456789abcdef0123456789abcdef"
RNG_METHODS = {"reset", "step", "action_sample"}


def seed_ending_after(steps: int) -> int:
    """A seed whose CartPole episode, pushed left every step, ends exactly at step ``steps``."""
    env = gymnasium.make("CartPole-v1")
    for seed in range(1000):
        env.reset(seed=seed)
        ends = [env.step(0)[2] for _ in range(steps)]
        if ends[-1] and not any(ends[:-1]):
            return seed
    raise AssertionError("no such seed")


def shape_of(value: Any) -> Any:
    """The value with floats and ints replaced by their type: what the RNG cannot change."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return type(value).__name__
    if isinstance(value, list):
        return [shape_of(v) for v in value]
    return {k: shape_of(v) for k, v in value.items()}


def check_text(exchange: Exchange, got: str | bytes, method: str | None) -> None:
    assert isinstance(got, str), "0.5.4 answers with text frames"
    expected = exchange.expected
    assert isinstance(expected, str)
    if expected == "<ID>":
        assert HEX_ID.match(got), got
    elif method in RNG_METHODS:
        assert shape_of(json.loads(got)) == shape_of(json.loads(expected))
        if method != "action_sample":
            assert FLOAT.sub("F", got) == FLOAT.sub("F", expected)
    else:
        assert got == expected


def replay(url: str, conversation: Conversation, seed: int) -> None:
    instance_id = UNKNOWN_ID
    with connect(url, open_timeout=TIMEOUT, close_timeout=TIMEOUT, max_size=None) as ws:
        for exchange in conversation.exchanges:
            sent = exchange.sent.replace("<ID>", instance_id)
            if conversation.title.startswith("CartPole-v1 step 0 until done") and '"make"' in sent:
                sent = sent.replace('"CartPole-v1"}', f'"CartPole-v1", "seed": {seed}}}')
            ws.send(sent.encode() if exchange.binary else sent)
            try:
                method = json.loads(sent).get("method")
            except (ValueError, AttributeError):
                method = None
            if exchange.kind == "text":
                got = ws.recv(timeout=TIMEOUT)
                check_text(exchange, got, method)
                if exchange.expected == "<ID>":
                    assert isinstance(got, str)
                    instance_id = got
                continue
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=TIMEOUT)
            assert closed.value.rcvd is not None
            code, reason = exchange.expected  # type: ignore[misc]
            assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (
                code,
                reason.replace("<ID>", instance_id),
            )


@pytest.fixture(scope="module")
def done_seed() -> int:
    return seed_ending_after(9)


def test_reference_has_the_recorded_conversations() -> None:
    titles = [c.title for c in CONVERSATIONS]
    assert len(CONVERSATIONS) >= 15
    assert any("happy path" in t for t in titles) and any("bad JSON" in t for t in titles)


@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=[c.title[:40] for c in CONVERSATIONS])
def test_conversation_matches_0_5_4(ws_url: str, conversation: Conversation, done_seed: int) -> None:
    replay(ws_url, conversation, done_seed)


def test_json_that_is_not_an_object_gets_1003(ws_url: str) -> None:
    # 0.5.4 wrote an HTTP 500 traceback onto the upgraded socket here.
    with connect(ws_url, open_timeout=TIMEOUT) as ws:
        ws.send("[1, 2]")
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=TIMEOUT)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1003, "Message `[1, 2]` is invalid")


def test_long_close_reason_is_cut_on_a_utf8_boundary(ws_url: str) -> None:
    env_id = "é" * 200
    with connect(ws_url, open_timeout=TIMEOUT) as ws:
        ws.send(json.dumps({"method": "make", "params": {"env_id": env_id}}))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=TIMEOUT)
    rcvd = closed.value.rcvd
    assert rcvd is not None and rcvd.code == 1007
    assert len(rcvd.reason.encode()) <= 123
    assert rcvd.reason.startswith("Environment `éé")


def http_get(server_http: str, path: str) -> tuple[int, dict[str, str], bytes]:
    host, port = server_http.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=TIMEOUT)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def test_plain_get_says_gymie_is_running(server: Any) -> None:
    status, headers, body = http_get(server.http, "/")
    assert (status, body) == (200, b"Gymie is running...")
    assert headers["Content-Type"] == "text/plain"


def test_plain_get_on_gym_is_a_bad_request(server: Any) -> None:
    status, _, body = http_get(server.http, "/gym")
    assert (status, body) == (400, b"")


def test_garbage_on_the_socket_leaves_the_server_up(server: Any) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
        sock.sendall(b"\x00\xff garbage \r\n\r\n")
        sock.recv(1024)
    status, _, _ = http_get(server.http, "/")
    assert status == 200
