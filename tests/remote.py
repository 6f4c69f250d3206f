"""A tiny client for the integration tests: 0.5.4 messages and JSON-RPC over a real WebSocket.

Every receive has a timeout, so a server that does not answer fails the test instead of hanging it.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.conftest import TIMEOUT

HEX_ID = re.compile(r"^[0-9a-f]{32}$")


class Remote:
    """One connection to a gymie server."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self._ids = itertools.count(1)

    # -- 0.5.4 messages ---------------------------------------------------

    def text(self, method: str, **params: Any) -> str:
        """Send a 0.5.4 message and return the text frame it gets."""
        self.ws.send(json.dumps({"method": method, "params": params}))
        reply = self.ws.recv(timeout=TIMEOUT)
        assert isinstance(reply, str), "0.5.4 replies are text frames"
        return reply

    def call(self, method: str, **params: Any) -> Any:
        """Send a 0.5.4 message and return its parsed reply."""
        return json.loads(self.text(method, **params))

    def make(self, env_id: str, **params: Any) -> str:
        """0.5.4 ``make``: the reply is the bare 32-hex instance id."""
        instance_id = self.text("make", env_id=env_id, **params)
        assert HEX_ID.match(instance_id), instance_id
        return instance_id

    def closed_by(self, method: str, **params: Any) -> tuple[int, str]:
        """Send a 0.5.4 message that must make the server close; return ``(code, reason)``."""
        self.ws.send(json.dumps({"method": method, "params": params}))
        return self.close_frame()

    def close_frame(self) -> tuple[int, str]:
        """Wait for the server's close frame and return ``(code, reason)``."""
        with pytest.raises(ConnectionClosed) as closed:
            self.ws.recv(timeout=TIMEOUT)
        rcvd = closed.value.rcvd
        assert rcvd is not None, "the server closed without a close frame"
        return rcvd.code, rcvd.reason

    # -- JSON-RPC 2.0 -----------------------------------------------------

    def rpc_reply(self, method: str, **params: Any) -> dict[str, Any]:
        """Send a JSON-RPC request and return the whole response object."""
        rid = next(self._ids)
        self.ws.send(json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params}))
        reply = json.loads(self.ws.recv(timeout=TIMEOUT))
        assert reply["jsonrpc"] == "2.0" and reply["id"] == rid, reply
        return reply  # type: ignore[no-any-return]

    def rpc(self, method: str, **params: Any) -> Any:
        """Send a JSON-RPC request and return its result (the test fails on an error response)."""
        reply = self.rpc_reply(method, **params)
        assert "error" not in reply, reply
        return reply["result"]


@contextmanager
def remote(url: str) -> Iterator[Remote]:
    """Connect to ``url`` (frames of any size) and close when done."""
    with connect(url, open_timeout=TIMEOUT, close_timeout=TIMEOUT, max_size=None) as ws:
        yield Remote(ws)
