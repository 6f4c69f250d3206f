"""The Python client: connect to a gymie server and make remote envs that are real Gymnasium envs.

::

    import gymie.client

    with gymie.client.connect("ws://127.0.0.1:5000/gym") as client:
        env = client.make("CartPole-v1")
        obs, info = env.reset(seed=0)
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())

``client.make`` returns a :class:`~gymie.client.remote.RemoteEnv` (a ``gymnasium.Env``) and
``client.make_vec`` a :class:`~gymie.client.remote.RemoteVectorEnv` (a ``gymnasium.vector.VectorEnv``).
msgpack is the default encoding; every call has a timeout; server errors are raised as the same
:mod:`gymie.exceptions` classes. This module never imports eventlet.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import Any, TypeVar

from gymie.client.connection import (
    DEFAULT_TIMEOUT,
    Connection,
    Encoding,
    InMemoryConnection,
    WebSocketConnection,
)
from gymie.client.remote import RemoteEnv, RemoteVectorEnv

T = TypeVar("T")

__all__ = [
    "Client",
    "Connection",
    "InMemoryConnection",
    "RemoteEnv",
    "RemoteVectorEnv",
    "WebSocketConnection",
    "connect",
    "make",
]


class Client:
    """Makes remote envs over one connection; closing it closes every env it made."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def call(self, method: str, **params: Any) -> Any:
        """Call any server method by name and return its result."""
        return self.connection.call(method, params)

    def make(self, env_id: str, **kwargs: Any) -> RemoteEnv:
        """Make ``env_id`` on the server (``kwargs`` as for ``gymnasium.make``) and return it."""
        instance_id = self.call("make", env_id=env_id, **kwargs)["instance_id"]
        remake = functools.partial(self.make, env_id)
        return _built(
            self.connection, instance_id, lambda: RemoteEnv(self.connection, instance_id, remake, kwargs)
        )

    def make_vec(self, env_id: str, num_envs: int = 1, **kwargs: Any) -> RemoteVectorEnv:
        """Make a vector env through ``gymnasium.make_vec`` on the server and return it.

        ``kwargs``: ``vectorization_mode`` (``"sync"``, ``"async"``, ``"vector_entry_point"``),
        ``seed``, ``vector_kwargs`` and the env's own kwargs.
        """
        instance_id = self.call("make_vec", env_id=env_id, num_envs=num_envs, **kwargs)["instance_id"]
        return _built(self.connection, instance_id, lambda: RemoteVectorEnv(self.connection, instance_id))

    def list_envs(self, all: bool = False) -> list[Any]:
        """The env ids the server can make; ``all=True``: every id, as ``{"id", "available", "needs"}``."""
        return list(self.call("list_envs", all=True) if all else self.call("list_envs"))

    def server_info(self) -> dict[str, Any]:
        """The server's version, protocols, encodings and limits."""
        return dict(self.call("server_info"))

    def close(self) -> None:
        """Close the connection; the server closes every env made through it."""
        self.connection.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def connect(
    url: str,
    *,
    encoding: Encoding = "msgpack",
    timeout: float | None = DEFAULT_TIMEOUT,
    token: str | None = None,
    **kwargs: Any,
) -> Client:
    """Connect to a gymie server, e.g. ``ws://127.0.0.1:5000/gym``.

    Args:
        url: The server's WebSocket URL.
        encoding: ``"msgpack"`` (binary arrays; the default) or ``"json"``.
        timeout: Seconds to wait for the connection and for each reply; None waits forever.
        token: Sent as ``Authorization: Bearer <token>``.
        **kwargs: Passed to ``websockets.sync.client.connect``.
    """
    return Client(WebSocketConnection(url, encoding=encoding, timeout=timeout, token=token, **kwargs))


def make(
    url: str,
    env_id: str,
    *,
    encoding: Encoding = "msgpack",
    timeout: float | None = DEFAULT_TIMEOUT,
    token: str | None = None,
    **kwargs: Any,
) -> RemoteEnv:
    """Connect and make one env that owns its connection: closing the env closes both."""
    connection = WebSocketConnection(url, encoding=encoding, timeout=timeout, token=token)
    try:
        instance_id = connection.call("make", {"env_id": env_id, **kwargs})["instance_id"]
        remake = functools.partial(make, url, env_id, encoding=encoding, timeout=timeout, token=token)
        return RemoteEnv(connection, instance_id, remake, kwargs, owns_connection=True)
    except BaseException:
        connection.close()
        raise


def _built(connection: Connection, instance_id: str, build: Callable[[], T]) -> T:
    # A remote instance whose local stand-in failed to build is closed, not leaked.
    try:
        return build()
    except BaseException:
        with contextlib.suppress(Exception):
            connection.call("close", {"instance_id": instance_id})
        raise
