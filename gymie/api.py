"""gymie 0.5.4's module API, kept so code written against it keeps working.

``envs``, ``public``, ``get_env``, ``process_step``, ``lookup_env``, ``override``, and the
methods taking the socket first (``make(ws, env_id)``...) that send their JSON text
with ``ws.send``. Underneath they call the I/O-free handlers of ``gymie.methods``.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any, Protocol

import gymnasium

from gymie.exceptions import EnvironmentMalformed, EnvironmentNotFound
from gymie.methods import METHODS, Context
from gymie.registry import EnvRegistry, OverrideRegistry
from gymie.settings import Settings

log = logging.getLogger("gymie")

# Namespaces whose envs register when a package is imported (Gymnasium 1.x has no plugin hook).
NAMESPACE_PACKAGES = {"ALE": "ale_py"}


def get_env(env_id: str, seed: int | None = None, **kwargs: Any) -> Any:
    """Instantiate a Gymnasium environment (the default ``get_env``).

    ``seed`` is accepted as in 0.5.4; gymie applies it at the first reset (and to the
    action space), so ``seed=0`` works too. Other params are ``gymnasium.make`` kwargs
    (``max_episode_steps``, ``render_mode``, env kwargs...).

    Raises:
        EnvironmentNotFound: no such id (or its module is missing).
        EnvironmentMalformed: the id is not of the form ``[namespace/]name[-vN]``.
    """
    _import_namespace(env_id)
    try:
        return gymnasium.make(env_id, **kwargs)
    except (gymnasium.error.UnregisteredEnv, ModuleNotFoundError):
        raise EnvironmentNotFound(env_id) from None
    except gymnasium.error.Error:
        raise EnvironmentMalformed(env_id) from None


def _import_namespace(env_id: str) -> None:
    namespace = env_id.split("/", 1)[0] if "/" in env_id else None
    package = NAMESPACE_PACKAGES.get(namespace or "")
    if package:
        try:
            gymnasium.register_envs(importlib.import_module(package))
        except ImportError:
            log.debug("namespace %s needs the package %s", namespace, package)


def process_step(step: tuple[Any, Any, bool, dict[str, Any]]) -> tuple[Any, Any, bool, dict[str, Any]]:
    """Process one ``(observation, reward, done, info)`` step before it is sent (the default does nothing).

    0.5.4's default returned ``observation.tolist()``; gymie converts NumPy values when it
    encodes, so an override may return arrays or lists alike.
    """
    return step


envs = EnvRegistry()
overrides = OverrideRegistry(get_env=get_env, process_step=process_step)
settings = Settings()
public: dict[str, Callable[..., None]] = {}


def override(func_name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator that replaces ``get_env`` or ``process_step`` (for Retro, Unity and other gym-likes).

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


def default_context() -> Context:
    """The context the module-level functions and the default server use."""
    return Context(envs, overrides, settings)


class _Socket(Protocol):
    def send(self, message: str) -> Any: ...


def _socket_first(name: str) -> Callable[..., None]:
    method = METHODS[name]
    legacy = method.legacy
    assert legacy is not None

    def call(ws: _Socket, *args: Any, **kwargs: Any) -> None:
        ctx = default_context()
        ws.send(legacy(ctx, method.handler(ctx, *args, **kwargs)))

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
