"""gymie 0.5.4's module API, kept so code written against it keeps working.

``envs``, ``public``, ``get_env``, ``process_step``, ``lookup_env``, ``override``, and the
methods taking the socket first (``make(ws, env_id)``...) that send their JSON text
with ``ws.send``. Underneath they call the I/O-free handlers of ``gymie.methods``.
Nothing in the core imports this module; the server builds its Dispatcher here, over
these registries, so ``@override`` applies to it.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from gymie import backends
from gymie import envs as _envs
from gymie.core import Dispatcher
from gymie.envs import Backend
from gymie.methods import METHODS, Context
from gymie.registry import EnvRegistry, OverrideRegistry
from gymie.replies import whole
from gymie.settings import Settings

envs = EnvRegistry()
overrides = OverrideRegistry(get_env=_envs.get_env, process_step=_envs.process_step)
settings = Settings()
public: dict[str, Callable[..., None]] = {}
backend: Backend = backends.create(settings)
"""Where the module-level functions run envs; ``dispatcher()`` replaces it for a server's settings."""

if TYPE_CHECKING:
    get_env: Callable[..., Any]
    process_step: Callable[[_envs.Step], Any]


class _ApiModule(types.ModuleType):
    """``gymie.api.get_env`` / ``process_step`` are the hooks in force, so ``@override`` rebinds them.

    0.5.4's ``override`` assigned the module globals; code written for it (its Retro and Unity
    tests) calls ``gymie.api.get_env(...)`` after overriding and expects the override. The
    defaults stay at ``gymie.envs.get_env`` / ``gymie.envs.process_step``.
    """

    @property
    def get_env(self) -> Callable[..., Any]:
        """The ``get_env`` in force."""
        return overrides.get_env

    @property
    def process_step(self) -> Callable[[_envs.Step], Any]:
        """The ``process_step`` in force."""
        return overrides.process_step


sys.modules[__name__].__class__ = _ApiModule


def override(func_name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator that replaces ``get_env`` or ``process_step`` (for Retro, Unity and other gym-likes).

    As in 0.5.4, ``gymie.api.get_env`` / ``gymie.api.process_step`` then name the override too
    (the defaults stay at ``gymie.envs.get_env`` / ``gymie.envs.process_step``).

    Raises:
        ValueError: ``func_name`` is not one of the two.
    """
    overrides.check(func_name)

    def inner_override(fn: Callable[..., Any]) -> Callable[..., Any]:
        overrides.set(func_name, fn)
        return fn

    return inner_override


def lookup_env(instance_id: str) -> Any:
    """Return the environment of an instance id, or raise InstanceNotFound."""
    return envs.instance(instance_id).env


def dispatcher(new_settings: Settings | None = None, runtime: Any = None) -> Dispatcher:
    """A Dispatcher over these registries; ``new_settings`` become the module's settings.

    The backend follows ``settings.isolation``; ``runtime`` is how a process backend waits
    (the server passes a green one).
    """
    global settings, backend
    if new_settings is not None:
        settings = new_settings
    if new_settings is not None or runtime is not None:
        backend = backends.create(settings, runtime)
    return Dispatcher(envs, overrides, settings, backend=backend)


def default_context() -> Context:
    """The context the module-level functions use."""
    return Context(envs, overrides, settings, backend, methods=METHODS)


class _Socket(Protocol):
    def send(self, message: str | bytes) -> Any: ...


def _socket_first(name: str) -> Callable[..., None]:
    method = METHODS[name]
    legacy = method.legacy
    assert legacy is not None

    def call(ws: _Socket, *args: Any, **kwargs: Any) -> None:
        ctx = default_context()
        ws.send(whole(legacy(ctx, method.handler(ctx, *args, **kwargs))))  # large replies come as Frames

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"API method: {method.handler.__doc__} The reply goes out through ``ws.send``."
    public[name] = call
    return call


make = _socket_first("make")
step = _socket_first("step")
reset = _socket_first("reset")
close = _socket_first("close")
observation_space = _socket_first("observation_space")
action_space = _socket_first("action_space")
action_sample = _socket_first("action_sample")
