"""Hostile clients, core side (issue 8): each test attacks a real server as one client could.

Every server runs under an address-space cap (``MEMORY_CAP``), so a regression that bloats it
fails here cleanly instead of waking the OOM killer. Each test fails on the code before issue 8.
The last section checks the same rules in the I/O-free core, through ``Dispatcher.handle``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import msgpack
import pytest
from websockets.sync.client import ClientConnection, connect

from gymie import codec, spaces
from gymie.core import Dispatcher, RateLimit, Session
from gymie.encoded import Encoded
from gymie.exceptions import LimitExceeded
from gymie.excerpts import bounded, excerpt
from gymie.registry import EnvRegistry, Instance
from gymie.settings import Settings
from tests.conftest import SCALE, TIMEOUT, ServerProcess, running_server
from tests.http_helpers import eventually, health
from tests.remote import Remote, remote
from tests.support import new_dispatcher

MEMORY_CAP = 2 * 2**30
IMPORT = ("--import", "tests.hostile_envs")
EXCERPT_LIMIT = 200 + len("…".encode())


@contextmanager
def running(*args: str) -> Iterator[ServerProcess]:
    with running_server(*args, memory_cap=MEMORY_CAP) as srv:
        yield srv


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with running(*IMPORT) as srv:
        yield srv


@contextmanager
def msgpack_ws(url: str) -> Iterator[ClientConnection]:
    with connect(url, subprotocols=["gymie.msgpack"], open_timeout=TIMEOUT, max_size=None) as ws:  # type: ignore[list-item]
        yield ws


def mp_call(ws: ClientConnection, method: str, **params: Any) -> dict[str, Any]:
    """One JSON-RPC request over a msgpack session; the whole response."""
    ws.send(msgpack.packb({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
    return msgpack.unpackb(ws.recv(timeout=TIMEOUT))  # type: ignore[no-any-return]


def rpc_error(r: Remote, method: str, **params: Any) -> dict[str, Any]:
    reply = r.rpc_reply(method, **params)
    assert "error" in reply, reply
    return reply["error"]  # type: ignore[no-any-return]


PROBE = """
import http.client, sys, time
worst, polls = 0.0, 0
while not sys.stdin.readline().strip():  # a blank line: poll once more; "stop": done
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=60)
    conn.request("GET", "/healthz")
    conn.getresponse().read()
    conn.close()
    worst, polls = max(worst, time.monotonic() - started), polls + 1
print(worst, polls)
"""


class Probe:
    """Polls ``/healthz`` from another process and keeps its worst latency: what other clients wait.

    Another process, so that the test's own client (decoding megabytes in this one) cannot
    delay the probe by holding the GIL.
    """

    def __init__(self, server: ServerProcess) -> None:
        self.worst, self.polls = 0.0, 0
        cmd = [sys.executable, "-c", PROBE, str(server.port)]
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, daemon=True)

    def _tick(self) -> None:
        assert self._proc.stdin is not None
        while not self._stop.wait(0.01):
            self._proc.stdin.write("\n")
            self._proc.stdin.flush()

    def __enter__(self) -> Probe:
        self._ticker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._ticker.join(TIMEOUT)
        out, _ = self._proc.communicate("stop\n", timeout=6 * TIMEOUT)
        worst, polls = out.split()
        self.worst, self.polls = float(worst), int(polls)


def in_thread(work: Callable[[], Any]) -> Callable[[], Any]:
    """Run ``work`` in a thread now; the returned function joins it and returns its result."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["result"] = work()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def join() -> Any:
        thread.join(6 * TIMEOUT)
        if "error" in box:
            raise box["error"]
        return box["result"]

    return join


# -- item 2: bounded output -----------------------------------------------------------------


def test_an_error_quotes_an_excerpt_of_the_input_never_all_of_it(server: ServerProcess) -> None:
    big = "x" * 1_000_000
    with remote(server.url) as r:
        instance_id = r.rpc("make", env_id="CartPole-v1")["instance_id"]
        r.rpc("reset", instance_id=instance_id)
        requests = [
            big + "{",  # not JSON
            {"method": "reset", "params": {"instance_id": big}},  # unknown instance id
            {"method": "reset", "params": {"bogus": big}},  # a wrong param
            {"method": big, "params": {}},  # an unknown method
            {"method": "step", "params": {"instance_id": instance_id, "action": [0] * 300_000}},
        ]
        for i, request in enumerate(requests):
            raw = request if isinstance(request, str) else json.dumps({"jsonrpc": "2.0", "id": i, **request})
            r.ws.send(raw)
            reply = r.ws.recv(timeout=TIMEOUT)
            assert len(reply) < 2000, (i, len(reply))
            error = json.loads(reply)["error"]
            assert len(error["message"].encode()) <= 100 + EXCERPT_LIMIT, error["message"]
            subject = error["data"]["subject"]
            assert (
                isinstance(subject, str) and subject.endswith("…") and len(subject.encode()) <= EXCERPT_LIMIT
            )
    with msgpack_ws(server.url) as ws:
        ws.send(b"\xc1" * 1_000_000)  # never valid msgpack
        reply = ws.recv(timeout=TIMEOUT)
        assert len(reply) < 2000
        assert msgpack.unpackb(reply)["error"]["code"] == -32700
    with remote(server.url) as r:  # 0.5.4 clients: the close reason is cut as before
        r.ws.send(big + "{")
        code, reason = r.close_frame()
        assert code == 1003 and reason.startswith("Message `xxx") and len(reason.encode()) <= 123


def test_a_reply_over_max_reply_size_is_replaced_by_an_error() -> None:
    with running(*IMPORT, "--max-reply-size", "100000") as srv, remote(srv.url) as r:
        instance_id = r.rpc("make", env_id="gymie-test/Big-v0", side=128)[
            "instance_id"
        ]  # 49,152 bytes a frame
        started = time.monotonic()
        error = rpc_error(r, "observation_space", instance_id=instance_id)  # 98,304 numbers: not even built
        assert (error["code"], error["data"]["error"]) == (-32010, "ReplyTooLarge")
        assert "--max-reply-size 100000" in error["message"] and time.monotonic() - started < 1.0
        error = rpc_error(r, "reset", instance_id=instance_id)  # ~150 KB of JSON once built
        assert error["code"] == -32010 and "the reply would be" in error["message"]
        assert r.rpc("action_space", instance_id=instance_id) == {"name": "Discrete", "n": 2}  # still served
    with running(*IMPORT, "--max-reply-size", "100000") as srv, msgpack_ws(srv.url) as ws:
        instance_id = mp_call(ws, "make", env_id="gymie-test/Big-v0", side=128)["result"]["instance_id"]
        assert "result" in mp_call(ws, "reset", instance_id=instance_id)  # 49 KB of msgpack fits
        assert mp_call(ws, "observation_space", instance_id=instance_id)["error"]["code"] == -32010


# -- item 3: bounded work per request ----------------------------------------------------------


def test_a_batch_is_bounded_and_other_connections_are_served_during_it() -> None:
    with running("--max-batch", "2000") as srv, remote(srv.url) as r:
        too_many = [{"jsonrpc": "2.0", "id": i, "method": "server_info"} for i in range(2001)]
        r.ws.send(json.dumps(too_many))
        reply = json.loads(r.ws.recv(timeout=TIMEOUT))
        assert isinstance(reply, dict) and reply["id"] is None and reply["error"]["code"] == -32600
        assert "--max-batch" in reply["error"]["message"]
        batch = [{"jsonrpc": "2.0", "id": i, "method": "list_envs"} for i in range(2000)]
        with Probe(srv) as probe:
            started = time.monotonic()
            r.ws.send(json.dumps(batch))
            replies = json.loads(r.ws.recv(timeout=6 * TIMEOUT))
            took = time.monotonic() - started
        assert [reply["id"] for reply in replies] == list(range(2000))
        assert took > 0.5 and probe.polls > 5, (took, probe.polls)
        assert probe.worst < max(0.25 * SCALE, took / 4), (probe.worst, took)  # the hub yielded


def test_num_envs_and_env_kwargs_are_bounded(server: ServerProcess) -> None:
    with remote(server.url) as r:
        started = time.monotonic()
        error = rpc_error(r, "make_vec", env_id="CartPole-v1", num_envs=20_000_000)
        assert error["code"] == -32602
        assert error["message"] == "num_envs must be an integer from 1 to 1024 (--max-num-envs), got 20000000"
        bomb = ["F" * 700] * 700  # a 700x700 FrozenLake map: 1 MB asked, GBs to build
        error = rpc_error(r, "make", env_id="FrozenLake-v1", desc=bomb, is_slippery=True)
        assert error["code"] == -32602 and "--max-params-size" in error["message"]
        assert time.monotonic() - started < 2.0 * SCALE
        assert r.rpc("make", env_id="FrozenLake-v1", desc=["SF", "FG"])  # a small map is fine
    assert health(server)["status"] == "ok"


def test_every_process_a_request_starts_counts_against_max_workers() -> None:
    with running("--isolation", "process", "--max-workers", "3") as srv, remote(srv.url) as r:
        error = rpc_error(r, "make_vec", env_id="CartPole-v1", num_envs=4, vectorization_mode="async")
        assert error["code"] == -32006 and "3 worker processes per server (5 needed" in error["message"]
        vec = r.rpc("make_vec", env_id="CartPole-v1", num_envs=2, vectorization_mode="async")["instance_id"]
        error = rpc_error(r, "make", env_id="CartPole-v1")  # the worker and its 2 sub-processes: 3
        assert error["code"] == -32006 and "(1 needed, 3 in use)" in error["message"]
        r.rpc("close", instance_id=vec)
        assert r.rpc("make", env_id="CartPole-v1")  # released when it ended
    with running("--max-workers", "2") as srv, remote(srv.url) as r:  # in-server: async ones count too
        error = rpc_error(r, "make_vec", env_id="CartPole-v1", num_envs=3, vectorization_mode="async")
        assert error["code"] == -32006
        assert r.rpc("make", env_id="CartPole-v1")  # an in-server env starts no process


def test_big_spaces_and_observations_are_encoded_off_the_hub() -> None:
    with running(*IMPORT, "--isolation", "process") as srv, remote(srv.url) as r:
        made = r.rpc("make_vec", env_id="gymie-test/Big-v0", num_envs=4, side=256)  # 786,432 bytes a step
        instance_id = made["instance_id"]

        def heavy() -> int:  # 1.6 M numbers to describe (7 MB of JSON, ~2 s), 3 MB to reset: in the worker
            space = r.rpc("observation_space", instance_id=instance_id)
            obs = r.rpc("reset", instance_id=instance_id)["observation"]
            return len(space["low"]) + len(obs)

        with Probe(srv) as probe:
            started = time.monotonic()
            assert in_thread(heavy)() == 8
            took = time.monotonic() - started
        assert probe.worst < 0.5 * SCALE, (probe.worst, took)


def test_worker_memory_turns_an_allocation_bomb_into_a_clear_error() -> None:
    with running(*IMPORT, "--isolation", "process", "--worker-memory", "800") as srv:
        with remote(srv.url) as r:
            instance_id = r.rpc("make", env_id="gymie-test/Bomb-v0", gb=1.5)["instance_id"]
            error = rpc_error(r, "reset", instance_id=instance_id)
            assert error["code"] in (-32006, -32007), error
            assert "out of memory" in error["message"]
        with remote(srv.url) as other:  # the server and other clients carry on
            cartpole = other.rpc("make", env_id="CartPole-v1")["instance_id"]
            assert other.rpc("reset", instance_id=cartpole)
        assert health(srv)["status"] == "ok"


# -- item 4: limits hold under concurrency -------------------------------------------------------


def test_concurrent_makes_cannot_pass_max_envs() -> None:
    with running("--isolation", "process", "--max-envs", "2") as srv:
        barrier = threading.Barrier(6)

        def make() -> dict[str, Any]:
            with remote(srv.url) as r:
                barrier.wait(TIMEOUT)
                reply = r.rpc_reply("make", env_id="CartPole-v1")
                if "result" in reply:
                    time.sleep(0.5 * SCALE)  # hold it while the others try
                return reply

        joins = [in_thread(make) for _ in range(6)]
        replies = [join() for join in joins]
        made = [reply for reply in replies if "result" in reply]
        refused = [reply["error"] for reply in replies if "error" in reply]
        assert len(made) == 2, replies
        assert {(e["code"], e["message"]) for e in refused} == {
            (-32006, "Limit exceeded: 2 environments per server")
        }
        eventually(lambda: health(srv)["envs"] == 0 and health(srv)["workers"] == 0, what="envs closed")
        with remote(srv.url) as r:  # a failed make gives its slot back
            assert rpc_error(r, "make", env_id="NotFound-v1")["code"] == -32002
            r.rpc("make", env_id="CartPole-v1")
            r.rpc("make", env_id="CartPole-v1")


# -- item 7: client errors are not server errors -------------------------------------------------


def test_client_mistakes_are_invalid_params_and_are_not_logged_as_errors(server: ServerProcess) -> None:
    logged = len(server.output)
    with remote(server.url) as r:
        cases = [
            ("make", {"env_id": "CartPole-v1", "max_episode_steps": -5}),
            ("make", {"env_id": "CartPole-v1", "foo": 1}),
            ("make", {"env_id": "FrozenLake-v1", "map_name": "9x9"}),
            ("reset", {"bogus": 1}),
        ]
        messages = [rpc_error(r, method, **params) for method, params in cases]
        cartpole = r.rpc("make", env_id="CartPole-v1")["instance_id"]
        messages.append(rpc_error(r, "reset", instance_id=cartpole, options={"low": "x"}))
        vec = r.rpc("make_vec", env_id="CartPole-v1", num_envs=2, vectorization_mode="sync")["instance_id"]
        r.rpc("reset", instance_id=vec)
        messages.append(rpc_error(r, "reset", instance_id=vec, options={"reset_mask": [True]}))
        assert [m["code"] for m in messages] == [-32602] * 6, messages
        assert messages[0]["message"] == "max_episode_steps must be a positive integer or -1, got -5"
        assert messages[1]["message"] == "unknown parameter 'foo' for make"
        assert messages[2]["message"].startswith("FrozenLake-v1 refused its parameters: KeyError")
        assert messages[3]["message"] == "unknown parameter 'bogus' for reset"
        assert messages[4]["message"].startswith("the env refused the reset options: ValueError")
        bomb = r.rpc("make", env_id="gymie-test/Bomb-v0")["instance_id"]
        for _ in range(20):  # a bug the client can trigger at will: logged once, not 20 times
            error = rpc_error(r, "reset", instance_id=bomb, options={"raise": "kaboom"})
            assert (error["code"], error["message"]) == (-32603, "Internal error: kaboom")
        r.rpc("server_info")
    log = "".join(server.output[logged:])
    assert "Unknonwn" not in json.dumps(messages)
    assert log.count("ERROR") == 1 and log.count("Traceback") == 1, log
    assert "unexpected error: RuntimeError: kaboom" in log


# -- item 9: instances belong to their connection --------------------------------------------------


def test_another_connections_instance_is_not_found(server: ServerProcess) -> None:
    unknown = "0123456789abcdef0123456789abcdef"
    with remote(server.url) as a, remote(server.url) as b:
        theirs = a.rpc("make", env_id="CartPole-v1")["instance_id"]
        a.rpc("reset", instance_id=theirs)
        for method, params in [("step", {"action": 0}), ("close", {}), ("env_info", {})]:
            error = rpc_error(b, method, instance_id=theirs, **params)
            like_unknown = rpc_error(b, method, instance_id=unknown, **params)
            assert error == {**like_unknown, "message": error["message"], "data": error["data"]}
            assert (error["code"], error["message"]) == (-32001, f"Instance `{theirs}` not found")
        assert a.rpc("step", instance_id=theirs, action=0)  # still the owner's
        with remote(server.url) as legacy:
            assert legacy.closed_by("step", instance_id=theirs, action=0) == (
                1007,
                f"Instance `{theirs}` not found",
            )
    with running("--share-instances") as srv, remote(srv.url) as a, remote(srv.url) as b:
        shared = a.make("CartPole-v1")  # 0.5.4 clients passing ids around: opt in
        assert b.call("reset", instance_id=shared)


# -- item 10: protocol corners -----------------------------------------------------------------


def test_ids_that_cannot_come_back_are_refused_before_anything_runs(server: ServerProcess) -> None:
    eventually(lambda: health(server)["envs"] == 0, what="a server without envs")
    make = {"jsonrpc": "2.0", "method": "make", "params": {"env_id": "CartPole-v1"}}
    with msgpack_ws(server.url) as ws:  # a JSON text frame in a msgpack session: the reply is msgpack
        ws.send(json.dumps({**make, "id": 10**30}))
        reply = msgpack.unpackb(ws.recv(timeout=TIMEOUT))
        assert reply["id"] is None and reply["error"]["code"] == -32600
        assert health(server)["envs"] == 0
    with remote(server.url) as r:
        for raw_id in ("1e400", "1.5", "Infinity"):
            r.ws.send(json.dumps(make).replace('"jsonrpc"', f'"id": {raw_id}, "jsonrpc"'))
            reply = json.loads(r.ws.recv(timeout=TIMEOUT))
            assert reply["id"] is None and reply["error"]["code"] == -32600, (raw_id, reply)
        assert health(server)["envs"] == 0
        r.ws.send(json.dumps({**make, "id": 2**70}))  # any JSON integer comes back as it was
        assert json.loads(r.ws.recv(timeout=TIMEOUT))["id"] == 2**70


def test_a_lossy_float_cast_is_refused(server: ServerProcess) -> None:
    with remote(server.url) as r:
        instance_id = r.rpc("make", env_id="MountainCarContinuous-v0")["instance_id"]
        r.rpc("reset", instance_id=instance_id)
        error = rpc_error(r, "step", instance_id=instance_id, action=[1e39])  # float32's max is 3.4e38
        assert error["code"] == -32004
        assert r.rpc("step", instance_id=instance_id, action=[0.5])


# -- the same rules, in the I/O-free core (fast, no sockets) ------------------------------------


def dispatcher(**settings: Any) -> Dispatcher:
    return new_dispatcher(Settings(**settings))


def rpc_frame(d: Dispatcher, session: Session, method: str, **params: Any) -> dict[str, Any]:
    reply = d.handle(json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}), session)
    return json.loads(reply.frames[0])  # type: ignore[no-any-return]


def test_an_excerpt_is_short_printable_and_cheap_whatever_the_value() -> None:
    nested: list[Any] = []
    deep = nested
    for _ in range(100_000):  # str() of this would recurse past Python's limit
        deep.append([])
        deep = deep[0]
    for value in (
        "a\nb\x00" * 10**6,
        list(range(10**6)),
        {"k": "v" * 10**6},
        10**5000,
        nested,
        b"\xff" * 10**6,
    ):
        text = excerpt(value)
        assert len(text.encode()) <= EXCERPT_LIMIT and text.isprintable()
    assert excerpt({"bogus": 1}) == "{'bogus': 1}" and excerpt("x" * 300).endswith("…")
    assert bounded({"bogus": 1}) == {"bogus": 1} and bounded(10**30) == str(
        10**30
    )  # msgpack could not carry it


def test_a_batch_yields_between_its_requests_and_keeps_its_wire_form() -> None:
    yields: list[int] = []
    d = dispatcher(max_batch=5)
    d.yield_hook = lambda: yields.append(1)
    session = d.open_session()
    batch = [{"jsonrpc": "2.0", "id": i, "method": "server_info"} for i in range(5)]
    reply = d.handle(json.dumps(batch), session).frames[0]
    assert len(yields) == 4 and [r["id"] for r in json.loads(reply)] == list(range(5))
    assert reply == codec.encode_json_compact(json.loads(reply))  # spliced as one encoding would write it
    msgpack_session = d.open_session("gymie.msgpack")
    packed = d.handle(msgpack.packb(batch), msgpack_session).frames[0]
    assert [r["id"] for r in msgpack.unpackb(packed)] == list(range(5))
    too_long = json.loads(d.handle(json.dumps(batch * 2), session).frames[0])
    assert too_long["error"]["code"] == -32600 and "--max-batch" in too_long["error"]["message"]


def test_a_slot_is_taken_before_building_and_given_back_on_failure() -> None:
    envs, settings = EnvRegistry(), Settings(max_envs=1, max_workers=3)
    slot = envs.reserve(7, settings, processes=2)
    with pytest.raises(LimitExceeded, match="1 environments per server"):
        envs.reserve(8, settings)  # the pending slot counts
    envs.release(slot)
    slot = envs.reserve(7, settings, processes=3)
    with pytest.raises(LimitExceeded, match=r"3 worker processes per server \(1 needed, 3 in use\)"):
        envs.reserve(8, Settings(max_workers=3), processes=1)
    instance_id = envs.add(Instance(None, None, 7), slot)  # type: ignore[arg-type]
    envs.release(slot)  # after add: nothing to give back
    del envs[instance_id]
    assert envs.reserve(8, Settings(max_workers=3), processes=3)  # the instance's processes came back
    d = dispatcher(max_envs=1)
    session = d.open_session()
    assert rpc_frame(d, session, "make", env_id="NotFound-v1")["error"]["code"] == -32002
    assert "result" in rpc_frame(d, session, "make", env_id="CartPole-v1")  # the failed make's slot came back


def test_a_huge_space_is_refused_before_it_is_described(monkeypatch: pytest.MonkeyPatch) -> None:
    import tests.hostile_envs  # noqa: F401 (registers gymie-test/Big-v0)

    d = dispatcher(max_reply_size=50_000)
    session = d.open_session()
    instance_id = rpc_frame(d, session, "make", env_id="gymie-test/Big-v0", side=128)["result"]["instance_id"]
    monkeypatch.setattr(spaces, "describe", lambda space: pytest.fail("described"))
    error = rpc_frame(d, session, "observation_space", instance_id=instance_id)["error"]
    assert error["code"] == -32010 and "at least 196608 bytes" in error["message"]


def test_an_instance_answers_its_own_connection_only() -> None:
    d = dispatcher()
    a, b = d.open_session(), d.open_session()
    instance_id = rpc_frame(d, a, "make", env_id="CartPole-v1")["result"]["instance_id"]
    assert rpc_frame(d, b, "reset", instance_id=instance_id)["error"]["code"] == -32001
    assert "result" in rpc_frame(d, a, "reset", instance_id=instance_id)
    assert d.envs.instance(instance_id).owner == a.id  # and server-side code (no owner) sees it
    shared = dispatcher(share_instances=True)
    a, b = shared.open_session(), shared.open_session()
    instance_id = rpc_frame(shared, a, "make", env_id="CartPole-v1")["result"]["instance_id"]
    assert "result" in rpc_frame(shared, b, "reset", instance_id=instance_id)


def test_unexpected_errors_are_logged_once_a_minute_per_kind() -> None:
    limit = RateLimit(period=60.0)
    assert [limit.admit("a"), limit.admit("a"), limit.admit("b"), limit.admit("a")] == [0, None, 0, None]
    limit._seen["a"] = (time.monotonic() - 61, 2)  # a minute later: says how many it held back
    assert limit.admit("a") == 2


def test_encoded_values_are_spliced_into_either_encoding() -> None:
    inner = {"obs": [1, 2], "none": None, "text": "é"}
    for value in (inner, [inner]):
        for encode in (codec.encode_json, codec.encode_json_compact):
            spliced = encode({"r": Encoded(encode(value)), "x": None})  # null: the json.dumps path
            assert json.loads(spliced) == {"r": value, "x": None}
            assert json.loads(encode({"r": Encoded(encode(value))})) == {"r": value}  # the orjson path
        assert msgpack.unpackb(codec.encode_msgpack({"r": Encoded(codec.encode_msgpack(value))})) == {
            "r": value
        }
