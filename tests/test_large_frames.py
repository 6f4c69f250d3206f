"""Large observations end to end, through both of the server's readers and writers.

A frame of Atari size is written in pieces (each distinct row of text once, an array's own
memory for msgpack) and sent without being joined: what arrives must still be 0.5.4's exact
text, JSON-RPC's values and msgpack's arrays. ``compression="deflate"`` takes eventlet's
reader and writer instead of gymie's.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from websockets.sync.client import connect

import gymie.client
from tests.conftest import TIMEOUT, ServerProcess
from tests.remote import Remote
from tests.support import image


@pytest.mark.parametrize("compression", [None, "deflate"])
def test_legacy_image_replies_are_0_5_4_text(support_server: ServerProcess, compression: str | None) -> None:
    with connect(support_server.url, open_timeout=TIMEOUT, max_size=None, compression=compression) as ws:
        r = Remote(ws)
        instance_id = r.make("gymie-test/Image-v0")
        assert r.text("reset", instance_id=instance_id) == json.dumps(image(0).tolist())
        for t in range(1, 6):
            expected = [image(t + 2).tolist(), -1.0, t == 5, {"lives": 3}]
            if t == 5:
                expected[3] = {"lives": 3, "TimeLimit.truncated": True}
            assert r.text("step", instance_id=instance_id, action=2) == json.dumps(expected)


@pytest.mark.parametrize("compression", [None, "deflate"])
def test_json_rpc_image_replies_carry_the_values(
    support_server: ServerProcess, compression: str | None
) -> None:
    with connect(support_server.url, open_timeout=TIMEOUT, max_size=None, compression=compression) as ws:
        r = Remote(ws)
        instance_id = r.rpc("make", env_id="gymie-test/Image-v0")["instance_id"]
        r.rpc("reset", instance_id=instance_id)
        step = r.rpc("step", instance_id=instance_id, action=1)
        assert step["observation"] == image(2).tolist() and step["info"] == {"lives": 3}


def test_msgpack_image_replies_come_back_writable_and_exact(support_server: ServerProcess) -> None:
    with gymie.client.make(support_server.url, "gymie-test/Image-v0", timeout=TIMEOUT) as env:
        obs, _ = env.reset(seed=0)
        assert np.array_equal(obs, image(0)) and obs.dtype == np.uint8
        for t in range(1, 4):
            obs, reward, terminated, truncated, info = env.step(3)
            assert np.array_equal(obs, image(t + 3)) and obs.flags.writeable
            assert (reward, terminated, truncated, info) == (-1.0, False, False, {"lives": 3})
