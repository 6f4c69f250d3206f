"""What the process and Ray backends share: an env that lives elsewhere, seen from the server.

- :class:`RemoteAdapter`: the EnvAdapter over such an env; a subclass says how a :meth:`call` travels
  (a pipe to a worker process, an actor call);
- :class:`Runtime`: how the server side waits for a reply. :class:`BlockingRuntime` blocks; the
  server hands the backend one that parks the green thread, so the eventlet hub keeps serving
  other connections while an env computes;
- :func:`rebuild`: an exception the env raised (sent as ``gymie.backends.worker.ErrorInfo``),
  raised again here with its remote traceback as ``__cause__``.
"""

from __future__ import annotations

import contextlib
import pickle
import threading
from collections.abc import Callable
from multiprocessing.connection import wait
from typing import Any, Protocol

from gymie.backends.worker import ErrorInfo
from gymie.compat import EnvAdapter


class Runtime(Protocol):
    """How the server side waits: blocking by default, green threads in the server."""

    def wait_readable(self, fileno: int, timeout: float | None) -> bool:
        """Wait until ``fileno`` is readable (data or EOF); False when the timeout passed first."""

    def lock(self) -> contextlib.AbstractContextManager[Any]:
        """A lock that serialises the requests to one worker."""

    def notify_close(self, fileno: int) -> None:
        """Say that ``fileno`` is about to be closed."""

    def watch(self, fileno: int, callback: Callable[[], bool]) -> None:
        """Call ``callback`` once, soon after ``fileno`` (a process sentinel) becomes readable.

        ``callback`` returns True when the exit was unexpected (a worker that died while idle).
        May do nothing: then a dead worker is found at its next call.
        """


class BlockingRuntime:
    """The Runtime for plain threads: waits block the calling thread."""

    def wait_readable(self, fileno: int, timeout: float | None) -> bool:
        """Block until readable or the timeout."""
        return bool(wait([fileno], timeout))

    def lock(self) -> contextlib.AbstractContextManager[Any]:
        """A threading lock."""
        return threading.Lock()

    def notify_close(self, fileno: int) -> None:
        """Nothing to do."""

    def watch(self, fileno: int, callback: Callable[[], bool]) -> None:
        """Nothing: a plain thread finds a dead worker at its next call."""


class RemoteError(Exception):
    """An exception from a worker that could not be sent back as itself; ``str()`` is its message."""

    def __init__(self, message: str, type_name: str) -> None:
        super().__init__(message)
        self.type_name = type_name

    def __str__(self) -> str:
        return str(self.args[0])


class RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker, attached as its ``__cause__``."""

    def __str__(self) -> str:
        return f"\n\n(in the worker process)\n{self.args[0]}"


def rebuild(info: ErrorInfo) -> Exception:
    """The exception a worker reported, with its remote traceback as cause."""
    blob, name, message, tb = info
    exc: Any = None
    if blob is not None:
        try:
            exc = pickle.loads(blob)
        except Exception:
            exc = None
    if not isinstance(exc, Exception):
        exc = RemoteError(message, name)
    exc.__cause__ = RemoteTraceback(tb)
    return exc  # type: ignore[no-any-return]


class RemoteAdapter(EnvAdapter):
    """An EnvAdapter whose env lives elsewhere: every env call goes through :meth:`call`.

    What the env's builder snapshot holds (its spaces, ``metadata``, ``spec``...) is served
    here without a round trip. ``wire_encoding`` (``"legacy"``/``"json"``/``"msgpack"``, set by ``make``)
    lets the remote side encode the big arrays of the results of some calls (``_ENCODED``) itself:
    the server's event loop then only moves bytes.
    """

    wire_encoding: str | None = None
    _ENCODED = frozenset({"reset", "step", "render", "sample_action"})
    """The calls whose results may come back encoded."""

    def __init__(self) -> None:
        # No super().__init__(): the env, its spaces and its seed live elsewhere.
        self.env = self
        self.dead = False
        self.exit_reason = ""
        self._attributes: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        attributes = self.__dict__.get("_attributes", {})
        if name in attributes:
            return attributes[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call ``method`` on the remote env and return its result.

        Raises:
            WorkerCrashed: the remote side died (now or before).
            StepTimeout: no reply within the step timeout; the remote side was killed.
            Exception: whatever the env raised, rebuilt.
        """
        encoding = self.wire_encoding if method in self._ENCODED else None
        return self._request(method, args, kwargs, encoding)

    def render_frame(self) -> Any:
        """Render remotely and return the frame itself, never pre-encoded (the dashboard's frames)."""
        return self._request("render", (), {}, None)

    def _request(
        self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any], encoding: str | None
    ) -> Any:
        """One call of the remote env; ``encoding``: its big arrays encoded there for that wire."""
        raise NotImplementedError

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset the remote env."""
        return self.call("reset", seed=seed, options=options)  # type: ignore[no-any-return]

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        """Step the remote env."""
        return self.call("step", action)  # type: ignore[no-any-return]

    def sample_action(self) -> Any:
        """Sample an action with the remote env's own RNG."""
        return self.call("sample_action")

    def render(self) -> Any:
        """Render remotely."""
        return self.call("render")

    def _adopt(self, snapshot: Any) -> None:
        """Take the attributes the remote side read once from what it built."""
        self._attributes = snapshot
        self.observation_space = snapshot.get("observation_space")
        self.action_space = snapshot.get("action_space")
