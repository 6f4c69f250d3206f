"""The ``gymie.msgpack`` subprotocol over a real server, read with plain msgpack as any client would.

These tests use the ``websockets`` client and ``msgpack`` directly (not gymie.client), so they pin
the wire format a JavaScript or other client sees: binary frames, ndarrays as extension type 1
holding ``[dtype, shape, raw bytes]``.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

import msgpack
import numpy as np
import pytest
from websockets.sync.client import ClientConnection, connect

from gymie import codec
from tests.conftest import TIMEOUT, ServerProcess

_ids = itertools.count(1)


@pytest.fixture
def ws(server: ServerProcess) -> Iterator[ClientConnection]:
    with connect(server.url, subprotocols=["gymie.msgpack"], open_timeout=TIMEOUT, compression=None) as ws:
        assert ws.subprotocol == "gymie.msgpack"
        yield ws


def request(method: str, **params: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "method": method, "params": params, "id": next(_ids)}


def exchange(ws: ClientConnection, message: dict[str, Any] | bytes | str) -> bytes:
    """Send one frame (a dict is packed with gymie's codec); return the binary reply frame."""
    ws.send(codec.encode_msgpack(message) if isinstance(message, dict) else message)
    reply = ws.recv(timeout=TIMEOUT)
    assert isinstance(reply, bytes), "a msgpack session answers in binary frames"
    return reply


def call(ws: ClientConnection, method: str, **params: Any) -> Any:
    message = request(method, **params)
    reply = codec.decode_msgpack(exchange(ws, message))
    assert reply["id"] == message["id"] and "error" not in reply, reply
    return reply["result"]


def test_pong_frames_arrive_as_uint8_arrays(ws: ClientConnection) -> None:
    pytest.importorskip("ale_py")
    instance_id = call(ws, "make", env_id="ALE/Pong-v5")["instance_id"]
    obs = call(ws, "reset", instance_id=instance_id, seed=0)["observation"]
    assert isinstance(obs, np.ndarray) and obs.dtype == np.uint8 and obs.shape == (210, 160, 3)
    step = call(ws, "step", instance_id=instance_id, action=np.int64(3))
    assert step["observation"].shape == (210, 160, 3) and isinstance(step["reward"], float)


def test_the_ndarray_extension_as_a_plain_msgpack_reader_sees_it(ws: ClientConnection) -> None:
    instance_id = call(ws, "make", env_id="CartPole-v1")["instance_id"]
    raw = exchange(ws, request("reset", instance_id=instance_id, seed=0))
    reply = msgpack.unpackb(raw)  # no ext_hook: the extension value as it is on the wire
    ext = reply["result"]["observation"]
    assert isinstance(ext, msgpack.ExtType) and ext.code == 1
    dtype, shape, data = msgpack.unpackb(ext.data)
    assert (dtype, shape, len(data)) == ("<f4", [4], 16)
    np.testing.assert_array_equal(
        np.frombuffer(data, "<f4"), codec.decode_msgpack(raw)["result"]["observation"]
    )


def test_actions_travel_as_arrays(ws: ClientConnection) -> None:
    instance_id = call(ws, "make", env_id="MountainCarContinuous-v0")["instance_id"]
    call(ws, "reset", instance_id=instance_id, seed=0)
    step = call(ws, "step", instance_id=instance_id, action=np.array([0.75], np.float32))
    assert step["observation"].dtype == np.float32 and step["observation"].shape == (2,)
    made = call(ws, "make_vec", env_id="CartPole-v1", num_envs=8, vectorization_mode="vector_entry_point")
    call(ws, "reset", instance_id=made["instance_id"], seed=0)
    step = call(ws, "step", instance_id=made["instance_id"], action=np.array([0, 1] * 4, np.int64))
    assert step["observation"].shape == (8, 4) and step["terminated"].dtype == np.bool_


def test_errors_are_msgpack_error_objects_and_the_connection_stays_open(ws: ClientConnection) -> None:
    message = request("step", instance_id="nope", action=0)
    reply = codec.decode_msgpack(exchange(ws, message))
    assert reply["id"] == message["id"]
    assert reply["error"]["code"] == -32001
    assert reply["error"]["data"] == {"error": "InstanceNotFound", "subject": "nope"}
    instance_id = call(ws, "make", env_id="CartPole-v1")["instance_id"]
    call(ws, "reset", instance_id=instance_id)
    wrong = codec.decode_msgpack(exchange(ws, request("step", instance_id=instance_id, action=np.zeros(3))))
    assert wrong["error"]["data"]["error"] == "WrongAction"
    garbage = codec.decode_msgpack(exchange(ws, b"\xc1 not msgpack"))
    assert garbage["id"] is None and garbage["error"]["code"] == -32700
    assert call(ws, "close", instance_id=instance_id) is True


def test_text_frames_with_json_are_still_accepted(ws: ClientConnection) -> None:
    message = request("make", env_id="CartPole-v1")
    reply = codec.decode_msgpack(exchange(ws, json.dumps(message)))
    assert reply["id"] == message["id"] and len(reply["result"]["instance_id"]) == 32
