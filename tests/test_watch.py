"""The dashboard's watch API (``/watch``) against a real server: tables, frames, read-only, security."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import numpy as np
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

import gymie.client
from tests.conftest import SCALE, TIMEOUT, ServerProcess, running_server, start_server
from tests.http_helpers import http_get
from tests.watch_helpers import Stepper, Watch, decode_png, png_of

TOKEN = "watch-token"
MSGPACK = "gymie.msgpack"
pytestmark = pytest.mark.filterwarnings("ignore:.*WARN:UserWarning")


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with running_server("--token", TOKEN) as srv:
        yield srv


@pytest.fixture
def watch(server: ServerProcess) -> Iterator[Watch]:
    watcher = Watch(server, token=TOKEN)
    yield watcher
    watcher.close()


@pytest.fixture
def agent(server: ServerProcess) -> Iterator[gymie.client.Client]:
    with gymie.client.connect(server.url, token=TOKEN, timeout=TIMEOUT) as client:
        yield client


# -- tables -------------------------------------------------------------------------


def test_watch_lists_this_process_connections_and_instances(
    watch: Watch, agent: gymie.client.Client, server: ServerProcess
) -> None:
    env = agent.make("CartPole-v1", render_mode="rgb_array")
    env.reset(seed=0)
    for _ in range(5):
        env.step(0)
    snapshot = watch.call("watch")
    assert snapshot["server"]["pid"] == json.loads(http_get(server, "/healthz")[2])["pid"]
    row = next(r for r in snapshot["instances"] if r["id"] == env.instance_id)
    assert (row["env_id"], row["steps"], row["render_mode"], row["episodes"]) == (
        "CartPole-v1",
        5,
        "rgb_array",
        0,
    )
    owner = next(c for c in snapshot["connections"] if c["id"] == row["owner"])
    assert owner["protocol"] == "json-rpc (msgpack)" and owner["instances"] >= 1 and owner["requests"] >= 7
    assert owner["peer"].startswith("127.0.0.1:")
    me = [c for c in snapshot["connections"] if c["protocol"] == "watch (msgpack)"]
    assert me and all(isinstance(c["id"], str) for c in me)


def test_tables_are_pushed_about_twice_a_second_with_rates(watch: Watch, agent: gymie.client.Client) -> None:
    env = agent.make("CartPole-v1")
    env.reset(seed=0)
    watch.call("watch")
    with Stepper(env) as stepper:
        notes = [n for n in watch.collect(2.0 * SCALE) if n.get("method") == "tables"]
    assert 2 <= len(notes) <= 6 * SCALE, len(notes)
    rows = [next(r for r in n["params"]["instances"] if r["id"] == env.instance_id) for n in notes]
    assert rows[-1]["steps"] > rows[0]["steps"] and rows[-1]["steps"] <= stepper.steps
    assert rows[-1]["steps_per_s"] and rows[-1]["steps_per_s"] > 0
    assert rows[-1]["episodes"] >= 1 and rows[-1]["last_return"] >= 1.0


def test_tables_stop_when_asked(watch: Watch) -> None:
    watch.call("watch")
    assert watch.call("watch", tables=False)["server"]
    watch.collect(0.6)  # one may have been on its way
    assert [n for n in watch.collect(1.2) if n.get("method") == "tables"] == []


# -- frames -------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["msgpack", "json"])
def test_frames_are_pngs_of_the_env_at_a_bounded_rate(
    server: ServerProcess, agent: gymie.client.Client, encoding: str
) -> None:
    watch = Watch(server, encoding, token=TOKEN)
    env = agent.make("CartPole-v1", render_mode="rgb_array")
    env.reset(seed=0)
    info = watch.call("watch_frames", instance_id=env.instance_id, fps=100)
    assert info == {
        "instance_id": env.instance_id, "env_id": "CartPole-v1", "render_mode": "rgb_array",
        "renderable": True, "problem": None, "fps": 15.0,
    }  # fmt: skip
    with Stepper(env):
        frames = [n["params"] for n in watch.collect(2.0) if n.get("method") == "frame"]
    watch.close()
    assert 2 <= len(frames) <= 2 * 15 + 1, len(frames)
    images = [decode_png(png_of(f)) for f in frames]
    assert all(image.shape == (400, 600, 3) for image in images)
    assert any(not np.array_equal(images[0], image) for image in images[1:])  # the cart moves
    assert [f["seq"] for f in frames] == sorted({f["seq"] for f in frames})
    assert frames[-1]["stats"]["steps"] > frames[0]["stats"]["steps"]
    assert (frames[-1]["width"], frames[-1]["height"], frames[-1]["problem"]) == (600, 400, None)


def test_frames_come_only_when_the_env_steps(watch: Watch, agent: gymie.client.Client) -> None:
    env = agent.make("CartPole-v1", render_mode="rgb_array")
    env.reset(seed=0)
    watch.call("watch_frames", instance_id=env.instance_id)
    first = watch.next("frame")  # the state as it is now
    assert first["seq"] == 1 and first["stats"]["steps"] == 0
    assert [n for n in watch.collect(0.5) if n.get("method") == "frame"] == []
    env.step(1)
    assert watch.next("frame")["stats"]["steps"] == 1


def test_an_instance_without_rgb_array_says_so_and_still_sends_statistics(
    watch: Watch, agent: gymie.client.Client
) -> None:
    env = agent.make("CartPole-v1")
    env.reset(seed=0)
    info = watch.call("watch_frames", instance_id=env.instance_id)
    assert info["renderable"] is False and info["render_mode"] is None
    assert "rgb_array" in info["problem"]
    env.step(0)
    frame = watch.next("frame", where=lambda p: p["stats"]["steps"] == 1)
    assert frame["png"] is None and "rgb_array" in frame["problem"]


def test_frames_end_when_the_instance_closes(watch: Watch, agent: gymie.client.Client) -> None:
    env = agent.make("CartPole-v1", render_mode="rgb_array")
    env.reset(seed=0)
    watch.call("watch_frames", instance_id=env.instance_id)
    watch.next("frame")
    env.close()
    assert watch.next("frames_ended") == {"instance_id": env.instance_id, "reason": "closed"}


def test_a_watcher_that_reads_nothing_holds_no_agent_up(
    server: ServerProcess, agent: gymie.client.Client
) -> None:
    env = agent.make("CartPole-v1", render_mode="rgb_array")
    env.reset(seed=0)
    stalled = Watch(server, token=TOKEN)
    stalled.call("watch_frames", instance_id=env.instance_id)
    stalled.call("watch")
    # It never reads again: the frames pile up in its socket until sends would block.
    started = time.monotonic()
    with Stepper(env) as stepper:
        time.sleep(3.0)
    assert stepper.steps > 1000 * (time.monotonic() - started) / 10, stepper.steps  # > 100 steps/s
    stalled.close()


# -- read-only and errors -----------------------------------------------------------


@pytest.mark.parametrize("method", ["make", "reset", "step", "close", "render", "action_sample", "make_vec"])
def test_no_method_acts_on_an_env(watch: Watch, agent: gymie.client.Client, method: str) -> None:
    env = agent.make("CartPole-v1")
    env.reset(seed=0)
    reply = watch.reply(method, instance_id=env.instance_id, action=0, env_id="CartPole-v1")
    assert reply["error"]["code"] == -32601, reply
    env.step(0)  # the instance is untouched and still the agent's


def test_errors_are_json_rpc_errors(watch: Watch) -> None:
    assert watch.reply("watch_frames", instance_id="0" * 32)["error"]["code"] == -32001
    assert watch.reply("watch_frames", instance_id="0" * 32, fps=0)["error"]["code"] == -32602
    assert watch.reply("watch", bogus=1)["error"]["code"] == -32602
    assert watch.reply("watch", tables="yes")["error"]["code"] == -32602
    watch.ws.send(b"\xc1")  # not msgpack
    assert watch.receive()["error"]["code"] == -32700
    watch.send({"id": 5, "method": "watch"})  # no "jsonrpc"
    reply = watch.receive()
    assert (reply["id"], reply["error"]["code"]) == (5, -32600)
    watch.send({"jsonrpc": "2.0", "method": "ping"})  # a notification: no reply
    assert watch.call("ping") is True


def test_watch_frames_none_stops_the_frames(watch: Watch, agent: gymie.client.Client) -> None:
    env = agent.make("CartPole-v1", render_mode="rgb_array")
    env.reset(seed=0)
    watch.call("watch_frames", instance_id=env.instance_id)
    watch.next("frame")
    assert watch.call("watch_frames", instance_id=None) is None
    env.step(0)
    assert [n for n in watch.collect(0.5) if n.get("method") == "frame"] == []


# -- security and --ui off ------------------------------------------------------------


def test_the_watch_socket_needs_the_token(server: ServerProcess) -> None:
    with pytest.raises(InvalidStatus) as refused:
        Watch(server, token="wrong")
    assert refused.value.response.status_code == 401


def test_the_watch_socket_checks_the_origin() -> None:
    with running_server("--allowed-origins", "http://good.example") as srv:
        url = srv.url.removesuffix("/gym") + "/watch"
        with pytest.raises(InvalidStatus) as refused:
            connect(url, origin="http://evil.example", open_timeout=TIMEOUT)  # type: ignore[arg-type]
        assert refused.value.response.status_code == 403
        with connect(url, origin="http://good.example", open_timeout=TIMEOUT) as ws:  # type: ignore[arg-type]
            ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
            assert json.loads(ws.recv(timeout=TIMEOUT))["result"] is True


def test_ui_off_disables_the_page_and_the_watch_socket() -> None:
    with running_server("--ui", "off") as srv:
        status, _, body = http_get(srv, "/ui")
        assert status == 404 and b"--ui off" in body
        with pytest.raises(InvalidStatus):
            connect(srv.url.removesuffix("/gym") + "/watch", open_timeout=TIMEOUT)
        assert http_get(srv, "/")[2] == b"Gymie is running..."


def test_shutdown_with_a_watcher_connected_is_clean(agent: gymie.client.Client) -> None:
    srv = start_server()
    watcher = Watch(srv, token="")
    try:
        with gymie.client.connect(srv.url, timeout=TIMEOUT) as client:
            env = client.make("CartPole-v1", render_mode="rgb_array")
            env.reset(seed=0)
            watcher.call("watch")
            watcher.call("watch_frames", instance_id=env.instance_id)
            started = time.monotonic()
            assert srv.stop() == 0
            assert time.monotonic() - started < TIMEOUT
    finally:
        watcher.close()
        srv.stop()
    assert "Traceback" not in "".join(srv.output)


def test_a_vector_env_counts_every_sub_env_and_shows_its_first_frame(
    watch: Watch, agent: gymie.client.Client
) -> None:
    venv = agent.make_vec("CartPole-v1", num_envs=3, vectorization_mode="sync", render_mode="rgb_array")
    venv.reset(seed=0)
    info = watch.call("watch_frames", instance_id=venv.instance_id)
    assert info["renderable"] is True
    venv.step(venv.action_space.sample())
    frame = watch.next("frame", where=lambda p: p["stats"]["steps"] == 3)
    assert decode_png(png_of(frame)).shape == (400, 600, 3)
    row = next(r for r in watch.call("watch")["instances"] if r["id"] == venv.instance_id)
    assert (row["env_id"], row["num_envs"], row["steps"]) == ("CartPole-v1 x3", 3, 3)


def test_frames_of_an_env_in_a_worker_process() -> None:
    srv = start_server("--isolation", "process")
    watcher = Watch(srv)
    try:
        with gymie.client.connect(srv.url, timeout=TIMEOUT) as client:
            env = client.make("CartPole-v1", render_mode="rgb_array")
            env.reset(seed=0)
            assert watcher.call("watch_frames", instance_id=env.instance_id)["renderable"] is True
            with Stepper(env):
                frame = watcher.next("frame", where=lambda p: p["stats"]["steps"] > 0)
            assert frame["problem"] is None, frame["problem"]
            assert decode_png(png_of(frame)).shape == (400, 600, 3)
            env.step(0)  # the agent's worker is fine after being rendered for a watcher
    finally:
        watcher.close()
        srv.stop()


def test_a_watcher_outlives_the_handshake_timeout() -> None:
    srv = start_server("--handshake-timeout", "1")
    watcher = Watch(srv)
    try:
        watcher.call("watch")
        time.sleep(2.0)
        assert watcher.call("ping") is True
        assert any(n.get("method") == "tables" for n in watcher.collect(0.6))
    finally:
        watcher.close()
        srv.stop()
