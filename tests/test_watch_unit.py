"""The watch API without a server: a watcher's sends, the hub's requests, and the ``/ui`` pages."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import eventlet
import msgpack
import numpy as np
import pytest

from gymie.registry import EnvRegistry, Instance
from gymie.server import tables, ui, watchers
from gymie.server.watch import WatchHub
from gymie.settings import Settings


class SlowSocket:
    """A WebSocket whose sends take ``delay`` seconds each (``None``: forever)."""

    def __init__(self, delay: float | None) -> None:
        self.delay, self.sent, self.shut = delay, [], False
        self.socket = SimpleNamespace(shutdown=lambda how: setattr(self, "shut", True))
        self.environ = {"REMOTE_ADDR": "::1", "REMOTE_PORT": "4242"}

    def send(self, frame: Any) -> None:
        eventlet.sleep(3600 if self.delay is None else self.delay)
        self.sent.append(json.loads(frame))


def test_a_slow_watcher_gets_the_latest_of_each_kind_and_posting_never_blocks() -> None:
    ws = SlowSocket(0.05)
    watcher = watchers.Watcher("w1", ws, msgpack=False)
    try:
        for seq in range(100):
            watcher.post("frame", {"seq": seq})  # returns at once, whatever the socket does
            watcher.post("tables", {"n": seq})
        assert len(watcher.pending) == 2
        eventlet.sleep(0.3)
        sent = [(m["method"], m["params"]) for m in ws.sent]
        assert sent[:2] == [("frame", {"seq": 99}), ("tables", {"n": 99})]
    finally:
        watcher.stop()


def test_a_watcher_that_takes_nothing_is_cut_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watchers, "SEND_TIMEOUT", 0.05)
    ws = SlowSocket(None)
    watcher = watchers.Watcher("w1", ws, msgpack=False)
    watcher.post("frame", {"seq": 1})
    eventlet.sleep(0.2)
    assert ws.shut  # its connection thread then sees the socket closed and cleans up
    watcher.stop()


def test_json_watchers_get_bytes_as_base64_and_peers_print_like_urls() -> None:
    watcher = watchers.Watcher("w1", SlowSocket(0), msgpack=False)
    message = watcher.encode({"jsonrpc": "2.0", "method": "frame", "params": {"png": b"\x89PNG"}})
    assert json.loads(message)["params"]["png"] == "iVBORw=="
    assert tables.peer_address(watcher.ws) == "[::1]:4242"
    watcher.stop()


def test_rates_need_a_whole_window() -> None:
    rate = watchers.Rate(0, now=10.0)
    assert rate.update(100, now=10.1) is None
    assert rate.update(300, now=11.0) == 300.0
    assert rate.update(400, now=11.2) == 300.0  # the window is not over: the last value stands


def hub() -> WatchHub:
    return WatchHub(EnvRegistry(), lambda: [], Settings(), started=0.0)


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        ({"jsonrpc": "2.0", "id": 1, "method": "step", "params": {"instance_id": "x", "action": 0}}, -32601),
        ({"jsonrpc": "2.0", "id": 1, "method": "watch_frames", "params": {"instance_id": "nope"}}, -32001),
        (
            {"jsonrpc": "2.0", "id": 1, "method": "watch_frames", "params": {"instance_id": None, "fps": -1}},
            -32602,
        ),
        ({"jsonrpc": "2.0", "id": 1, "method": "watch_frames", "params": {}}, -32602),
        ({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": [1, 2]}, -32602),
        ({"id": 1, "method": "ping"}, -32600),
    ],
)
def test_requests_answered_with_errors(request_: dict[str, Any], code: int) -> None:
    watcher = watchers.Watcher("w1", SlowSocket(0), msgpack=False)
    reply = hub().handle(watcher, json.dumps(request_))
    assert reply is not None and json.loads(reply)["error"]["code"] == code
    watcher.stop()


def test_undecodable_frames_get_a_parse_error_in_either_encoding() -> None:
    for binary in (False, True):
        watcher = watchers.Watcher("w1", SlowSocket(0), msgpack=binary)
        reply = hub().handle(watcher, b"\xff\xc1 not a message")
        assert reply is not None
        decoded = json.loads(reply) if isinstance(reply, str) else msgpack.unpackb(reply)
        assert decoded["error"]["code"] == -32700
        watcher.stop()


def test_the_snapshot_of_an_empty_server() -> None:
    watcher = watchers.Watcher("w1", SlowSocket(0), msgpack=False)
    h = hub()
    reply = json.loads(
        h.handle(watcher, '{"jsonrpc": "2.0", "id": 7, "method": "watch", "params": {"tables": false}}')
    )
    assert reply["id"] == 7 and reply["result"]["instances"] == [] and reply["result"]["connections"] == []
    assert reply["result"]["server"]["max_fps"] == 15.0
    assert h.handle(watcher, '{"jsonrpc": "2.0", "method": "ping"}') is None  # a notification
    h.close()
    watcher.stop()


# -- /ui --------------------------------------------------------------------------------


def get(
    path: str, settings: Settings, query: str = "", method: str = "GET"
) -> tuple[str, dict[str, str], bytes]:
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        answer.update(status=status, headers=dict(headers))

    environ = {"PATH_INFO": path, "QUERY_STRING": query, "REQUEST_METHOD": method}
    body = b"".join(ui.respond(environ, start_response, settings))
    return answer["status"], answer["headers"], body


def test_the_page_needs_the_token_and_says_so_in_a_page() -> None:
    settings = Settings(token="t0k")
    status, headers, body = get("/ui", settings)
    assert status == "401 Unauthorized" and headers["Content-Type"].startswith("text/html")
    assert b"a valid token is required" in body and b"/ui?token=" in body and b"no token" in body
    status, _, body = get("/ui", settings, "token=wrong")
    assert status == "401 Unauthorized" and b"not this server" in body
    status, headers, body = get("/ui", settings, "token=t0k")
    assert status == "200 OK" and b'src="/ui/app.js"' in body
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["Referrer-Policy"] == "no-referrer" and headers["Cache-Control"] == "no-store"


def test_static_files_their_types_and_nothing_else() -> None:
    settings = Settings(token="t0k")
    for path, kind in [
        ("/ui/app.js", "text/javascript"),
        ("/ui/style.css", "text/css"),
        ("/ui/vendor/gymie-client/index.js", "text/javascript"),
        ("/ui/vendor/msgpack/index.mjs", "text/javascript"),
    ]:
        status, headers, body = get(path, settings)
        assert (status, headers["Content-Type"].split(";")[0]) == ("200 OK", kind) and body, path
    for path in ("/ui/index.html", "/ui/__init__.py", "/ui/../settings.py", "/ui/nope.js", "/ui/vendor"):
        assert get(path, settings)[0] == "404 Not Found", path
    assert get("/ui/app.js", settings, method="POST")[0] == "405 Method Not Allowed"


def test_ui_off_answers_404_everywhere() -> None:
    status, _, body = get("/ui", Settings(ui=False))
    assert status == "404 Not Found" and b"--ui off" in body
    assert get("/ui/app.js", Settings(ui=False))[0] == "404 Not Found"


def test_a_render_in_progress_is_never_interrupted() -> None:
    # In a worker process an interrupted render would leave its reply in the pipe for the agent.
    finished: list[bool] = []

    class SlowRender:
        def render(self) -> Any:
            eventlet.sleep(0.1)
            finished.append(True)
            return np.zeros((2, 2, 3), np.uint8)

    env = SimpleNamespace(render_mode="rgb_array")
    envs = EnvRegistry()
    instance_id = envs.add(Instance(env, SlowRender()))  # type: ignore[arg-type]
    h = WatchHub(envs, lambda: [], Settings(), started=0.0)
    watcher = watchers.Watcher("w1", SlowSocket(0), msgpack=False)
    h.watch_frames(watcher, instance_id)
    eventlet.sleep(0.05)  # the source is inside render() now
    h.watch_frames(watcher, None)  # the last watcher leaves
    assert h.sources == {}
    eventlet.sleep(0.2)
    assert finished == [True]
    h.close()
    watcher.stop()
