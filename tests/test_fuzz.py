"""Fuzzing the message layer: whatever arrives, the answer is a clean protocol error (or a result).

The bulk runs against the I/O-free Dispatcher (thousands of inputs a second); a smaller run
goes over a real socket and checks that the server stays up and a second connection is not
disturbed. ``GYMIE_FUZZ_SCALE`` multiplies the number of examples.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import random
import socket
import struct
from collections.abc import Iterator
from typing import Any

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from gymie import codec
from gymie.core import MSGPACK_SUBPROTOCOL, Dispatcher, Session
from gymie.exceptions import ERRORS
from gymie.methods import METHODS
from gymie.protocol import Reply
from tests.conftest import TIMEOUT, ServerProcess, start_server
from tests.http_helpers import health, raw_connect, read_until_closed, upgrade_request
from tests.support import new_dispatcher

SCALE = float(os.environ.get("GYMIE_FUZZ_SCALE", "1"))
CLOSE_CODES = {1002, 1003, 1007, 1008, 1009, 1011}
WIRE_CODES = {spec.code for spec in ERRORS.values()}
METHOD_NAMES = sorted(METHODS)
PARAMS = {
    name: [p for p in inspect.signature(m.handler).parameters if p != "ctx"] for name, m in METHODS.items()
}
ENV_IDS = ["CartPole-v1", "MountainCarContinuous-v0", "gymie-test/Box-v0", "NoSuch-v0", "os:system", ""]

pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


def examples(n: int) -> Any:
    return settings(
        max_examples=int(n * SCALE), deadline=None, suppress_health_check=list(HealthCheck), database=None
    )


# -- strategies ---------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(ENV_IDS)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=16,
)
REAL = "<the instance>"


@st.composite
def params(draw: st.DrawFn, method: str) -> dict[str, Any] | list[Any]:
    """Params for ``method``: each one missing, the real instance id, or any value; maybe extra keys."""
    chosen: dict[str, Any] = {}
    for name in PARAMS.get(method, []):
        kind = draw(st.sampled_from(["missing", "real", "value", "value"]))
        if kind == "real":
            chosen[name] = REAL
        elif kind == "value":
            chosen[name] = draw(values)
    chosen.update(draw(st.dictionaries(st.text(max_size=6), values, max_size=2)))
    if draw(st.integers(0, 9)) == 0:
        return list(chosen.values())
    return chosen


@st.composite
def request(draw: st.DrawFn) -> Any:
    method = draw(st.sampled_from(METHOD_NAMES) | st.text(max_size=8) | values)
    body: dict[str, Any] = {
        "method": method,
        "params": draw(params(method if isinstance(method, str) else "")),
    }
    if draw(st.booleans()):
        body["jsonrpc"] = draw(st.sampled_from(["2.0", "2.0", "1.0", None]))
        if draw(st.integers(0, 4)):
            body["id"] = draw(st.integers(-(2**70), 2**70) | st.text(max_size=5) | st.none() | values)
    for key in draw(st.lists(st.sampled_from(["method", "params"]), max_size=1)):
        del body[key]
    return body


messages = request() | st.lists(request(), max_size=4) | values


def deep(depth: int, kind: str) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = [value] if kind == "list" else {"k": value}
    return value


# -- the invariant ------------------------------------------------------------------


def check(reply: Reply, session: Session) -> None:
    """A reply is a close with a protocol code, or frames that are valid replies."""
    if reply.close is not None:
        code, reason = reply.close
        assert code in CLOSE_CODES and len(reason.encode()) <= 123 and not reply.frames
        return
    for frame in reply.frames:
        if not session.rpc:  # a 0.5.4 reply: a text frame, JSON or the bare id of `make`
            assert isinstance(frame, str)
            continue
        if session.msgpack:
            assert isinstance(frame, bytes)
            payload = codec.decode_msgpack(frame)
        else:
            assert isinstance(frame, str)
            payload = json.loads(frame)
        if session.rpc:
            for response in payload if isinstance(payload, list) else [payload]:
                assert response["jsonrpc"] == "2.0" and "id" in response
                assert ("result" in response) != ("error" in response), response
                if "error" in response:
                    assert response["error"]["code"] in WIRE_CODES


@pytest.fixture(scope="module")
def dispatcher() -> Dispatcher:
    return new_dispatcher()  # tests.support, imported, registered gymie-test/*


def run(dispatcher: Dispatcher, raw: str | bytes, subprotocol: str | None = None, rpc: bool = False) -> None:
    session = dispatcher.open_session(subprotocol)
    session.rpc = session.rpc or rpc
    shared = dispatcher.envs.instance(_cartpole(dispatcher))
    real = dispatcher.envs.add(dataclasses.replace(shared, owner=session.id))  # a live id to aim at
    raw = raw.replace(json.dumps(REAL), json.dumps(real)) if isinstance(raw, str) else raw
    try:
        check(dispatcher.handle(raw, session), session)
    finally:
        if real in dispatcher.envs:  # the shared CartPole under the session's own id: not closed
            dispatcher.envs.pop_instance(real)
        dispatcher.end_session(session)
        for instance_id in [real, *[i for i in dispatcher.envs if dispatcher.envs.instance(i).owner is None]]:
            if instance_id in dispatcher.envs and instance_id != _CARTPOLE.get("id"):
                dispatcher.envs.pop_instance(instance_id)
    assert len(dispatcher.envs) <= 1, "the fuzzing leaks environments"


_CARTPOLE: dict[str, str] = {}


def _cartpole(dispatcher: Dispatcher) -> str:
    if "id" not in _CARTPOLE:
        session = dispatcher.open_session()
        _CARTPOLE["id"] = dispatcher.handle(
            json.dumps({"method": "make", "params": {"env_id": "CartPole-v1"}}), session
        ).frames[0]  # type: ignore[assignment]
        dispatcher.envs.instance(_CARTPOLE["id"]).owner = None
    return _CARTPOLE["id"]


# -- against the Dispatcher -----------------------------------------------------------


@examples(600)
@given(messages)
def test_any_json_message(dispatcher: Dispatcher, message: Any) -> None:
    run(dispatcher, json.dumps(message))


@examples(400)
@given(messages)
def test_any_json_message_on_a_json_rpc_connection(dispatcher: Dispatcher, message: Any) -> None:
    run(dispatcher, json.dumps(message), rpc=True)


@examples(400)
@given(messages)
def test_any_msgpack_message(dispatcher: Dispatcher, message: Any) -> None:
    try:
        raw = msgpack.packb(message, use_bin_type=True)
    except (OverflowError, ValueError, TypeError):
        raw = b"\xc1"
    run(dispatcher, raw, MSGPACK_SUBPROTOCOL)


@examples(400)
@given(st.binary(max_size=64) | st.text(max_size=64), st.sampled_from([None, MSGPACK_SUBPROTOCOL]))
def test_random_bytes_and_text(dispatcher: Dispatcher, raw: str | bytes, subprotocol: str | None) -> None:
    run(dispatcher, raw, subprotocol)


@examples(300)
@given(request(), st.data())
def test_truncated_messages(dispatcher: Dispatcher, message: Any, data: st.DataObject) -> None:
    text = json.dumps(message)
    run(dispatcher, text[: data.draw(st.integers(0, max(0, len(text) - 1)))])
    packed = msgpack.packb(message, use_bin_type=True, default=str) if _packable(message) else b""
    run(dispatcher, packed[: data.draw(st.integers(0, max(0, len(packed) - 1)))], MSGPACK_SUBPROTOCOL)


@examples(200)
@given(st.integers(0, 2**31), st.binary(max_size=40), st.sampled_from([1, 1, 1, 0, 2, 127]))
def test_msgpack_extension_values(dispatcher: Dispatcher, shape: int, data: bytes, code: int) -> None:
    for dtype in ("<f4", "|u1", "|O", "<U3", "x"):
        array = msgpack.ExtType(code, msgpack.packb([dtype, [shape], data]))
        raw = msgpack.packb(
            {"jsonrpc": "2.0", "id": 1, "method": "step", "params": {"instance_id": REAL, "action": array}}
        )
        run(dispatcher, raw, MSGPACK_SUBPROTOCOL)


@pytest.mark.parametrize("depth", [10, 500, 990, 5_000, 200_000])
@pytest.mark.parametrize("kind", ["list", "dict"])
@pytest.mark.parametrize("rpc", [False, True])
def test_deeply_nested_messages(dispatcher: Dispatcher, depth: int, kind: str, rpc: bool) -> None:
    opening, closing = ("[", "]") if kind == "list" else ('{"k":', "}")
    nested = opening * depth + "0" + closing * depth
    envelope = '{"jsonrpc": "2.0", "id": 1, ' if rpc else "{"
    for raw in (nested, envelope + f'"method": "step", "params": {{"instance_id": {nested}, "action": 0}}}}'):
        run(dispatcher, raw)
    if depth <= 5_000:
        packer = msgpack.Packer(use_bin_type=True)
        try:
            packed = packer.pack(
                {"jsonrpc": "2.0", "id": 1, "method": "reset", "params": {"options": deep(depth, kind)}}
            )
        except ValueError:  # too deep for msgpack's own packer
            return
        run(dispatcher, packed, MSGPACK_SUBPROTOCOL)


def test_oversized_numbers_and_strings(dispatcher: Dispatcher) -> None:
    for raw in (
        "1" * 5000,
        "[" + "9" * 5000 + "]",
        json.dumps({"method": "make", "params": {"env_id": "x" * 100_000}}),
    ):
        run(dispatcher, raw)
        run(dispatcher, raw, rpc=True)
    big = {"jsonrpc": "2.0", "id": 2**70, "method": "nope", "params": {}}
    run(
        dispatcher,
        msgpack.packb(big, use_bin_type=True, default=str) if False else json.dumps(big).encode(),
        MSGPACK_SUBPROTOCOL,
    )
    run(dispatcher, json.dumps(big), rpc=True)


# -- a fast mutational fuzzer: valid messages, mangled (no hypothesis: ~10,000 inputs a second) ----

SEEDS: list[Any] = [
    {"method": "make", "params": {"env_id": "CartPole-v1", "seed": 0}},
    {"method": "reset", "params": {"instance_id": REAL}},
    {"method": "step", "params": {"instance_id": REAL, "action": 1}},
    {"method": "action_sample", "params": {"instance_id": REAL}},
    {"method": "observation_space", "params": {"instance_id": REAL}},
    {"method": "close", "params": {"instance_id": "0" * 32}},
    {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "step",
        "params": {"instance_id": REAL, "action": 0, "render": False},
    },
    {
        "jsonrpc": "2.0",
        "id": "a",
        "method": "reset",
        "params": {"instance_id": REAL, "seed": 3, "options": {}},
    },
    [{"jsonrpc": "2.0", "id": 2, "method": "server_info"}, {"jsonrpc": "2.0", "method": "list_envs"}],
    {"jsonrpc": "2.0", "id": 3, "method": "make_vec", "params": {"env_id": "CartPole-v1", "num_envs": 2}},
]
TOKENS = [
    b"0",
    b"-1",
    b"1e999",
    b"null",
    b"true",
    b'""',
    b"[]",
    b"{}",
    b'"x"',
    b"[[[[",
    b"\\u0000",
    b"NaN",
    b"1.5",
]


def mutate(rng: random.Random, data: bytes) -> bytes:
    """One to four random edits: flip, insert, delete, duplicate, truncate, or swap in a JSON token."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op, at = rng.randrange(7), rng.randrange(len(out) + 1)
        if op == 0 and out:
            out[min(at, len(out) - 1)] ^= 1 << rng.randrange(8)
        elif op == 1:
            out[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 3)))
        elif op == 2:
            del out[at : at + rng.randint(1, 8)]
        elif op == 3:
            out[at:at] = out[at : at + rng.randint(1, 16)]
        elif op == 4:
            del out[at:]
        else:
            end = at + rng.randint(0, 6)
            out[at:end] = rng.choice(TOKENS)
    return bytes(out)


MUTATIONS = int(SCALE * 20_000)


@pytest.mark.parametrize("encoding", ["json-legacy", "json-rpc", "msgpack"])
def test_mutated_messages(dispatcher: Dispatcher, encoding: str) -> None:
    rng = random.Random(f"gymie-{encoding}")
    real = json.dumps(_cartpole(dispatcher))
    for _ in range(MUTATIONS):
        seed = rng.choice(SEEDS)
        if encoding == "msgpack":
            raw: str | bytes = mutate(rng, msgpack.packb(seed, use_bin_type=True))
            run(dispatcher, raw, MSGPACK_SUBPROTOCOL)
        else:
            raw = mutate(rng, json.dumps(seed).replace(json.dumps(REAL), real).encode())
            run(
                dispatcher,
                raw.decode("utf-8", errors="replace") if rng.random() < 0.7 else raw,
                rpc=encoding == "json-rpc",
            )


def _packable(message: Any) -> bool:
    try:
        msgpack.packb(message, use_bin_type=True)
    except (OverflowError, ValueError, TypeError):
        return False
    return True


# -- over a real socket --------------------------------------------------------------


@pytest.fixture(scope="module")
def wire() -> Iterator[ServerProcess]:
    srv = start_server("--import", "tests.support", "--max-message-size", "65536")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def bystander(wire: ServerProcess) -> Iterator[Any]:
    with connect(wire.url, open_timeout=TIMEOUT) as ws:
        yield ws


def bystander_ok(ws: Any) -> None:
    ws.send(json.dumps({"jsonrpc": "2.0", "id": "b", "method": "server_info", "params": {}}))
    assert json.loads(ws.recv(timeout=TIMEOUT))["id"] == "b"


def answer_or_close(ws: Any, subprotocol: str | None) -> None:
    """Read what the server says to one message, then to a probe sent after it.

    Every reply must decode; the probe must be answered, unless the server closed the
    connection with a protocol code because of the message.
    """
    probe = {"jsonrpc": "2.0", "id": "probe", "method": "server_info", "params": {}}
    try:
        ws.send(msgpack.packb(probe) if subprotocol else json.dumps(probe))
        while True:
            reply = ws.recv(timeout=TIMEOUT)
            decoded = codec.decode_msgpack(reply) if isinstance(reply, bytes) else json.loads(reply)
            if isinstance(decoded, dict) and decoded.get("id") == "probe":
                return
    except ConnectionClosed as closed:
        assert closed.rcvd is not None and closed.rcvd.code in CLOSE_CODES, closed


@examples(150)
@given(messages | st.binary(max_size=64), st.sampled_from([None, MSGPACK_SUBPROTOCOL]))
def test_fuzz_over_the_wire(
    wire: ServerProcess, bystander: Any, message: Any, subprotocol: str | None
) -> None:
    raw: str | bytes
    if isinstance(message, bytes):
        raw = message
    elif subprotocol:
        raw = msgpack.packb(message, use_bin_type=True) if _packable(message) else b"\xc1"
    else:
        raw = json.dumps(message)
    protocols = [subprotocol] if subprotocol else None
    with connect(wire.url, open_timeout=TIMEOUT, subprotocols=protocols) as ws:  # type: ignore[list-item]
        ws.send(raw)
        answer_or_close(ws, subprotocol)
    bystander_ok(bystander)


def frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    """A masked client frame (mask of zeros, so the payload is sent as is)."""
    length = len(payload)
    head = bytes([(0x80 if fin else 0) | opcode])
    if length < 126:
        head += bytes([0x80 | length])
    elif length < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", length)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", length)
    return head + b"\x00\x00\x00\x00" + payload


@pytest.mark.parametrize(
    ("frames", "code"),
    [
        ([frame(1, b"\xff\xfe not utf-8")], 1007),
        ([frame(0, b"continuation first")], 1002),
        ([frame(3, b"reserved opcode")], 1002),
        ([frame(9, b"x" * 126)], 1002),
        ([frame(1, b"x" * 70_000)], 1009),
        ([frame(1, b"{", fin=False)] + [frame(0, b" " * 60_000, fin=False)] * 2, 1009),
        ([frame(1, b"[1,", fin=False), frame(1, b"2]")], 1002),
        ([frame(8, b"\x03\xe8" + b"\xff")], 1002),
    ],
)
def test_malformed_frames_close_with_a_protocol_code(
    wire: ServerProcess, bystander: Any, frames: list[bytes], code: int
) -> None:
    with raw_connect(wire) as sock:
        sock.sendall(upgrade_request(wire))
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(1)
        assert head.startswith(b"HTTP/1.1 101")
        try:
            for data in frames:
                sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        closing = read_until_closed(sock)
    assert closing[0] == 0x88 and struct.unpack("!H", closing[2:4])[0] == code, closing[:40]
    bystander_ok(bystander)
    assert health(wire)["status"] == "ok"


def test_the_server_survived(wire: ServerProcess) -> None:
    assert wire.proc.poll() is None
    assert "Traceback" not in "".join(wire.output)
    with socket.create_connection(("127.0.0.1", wire.port), timeout=TIMEOUT):
        pass
