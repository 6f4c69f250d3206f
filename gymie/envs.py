"""Making environments: the default hooks, namespace packages, and where envs run.

- :func:`get_env` and :func:`process_step` are the defaults of the two ``@override`` hooks;
- :func:`make_adapter` is the picklable factory ``make`` hands to a :class:`Backend`;
- :class:`Backend` is where that factory runs (in the server, in a worker process...): the
  core defines it and is handed one; the implementations live in ``gymie.backends``.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import gymnasium

from gymie import dependencies
from gymie.compat import EnvAdapter, adapt
from gymie.exceptions import EnvironmentMalformed, EnvironmentNotFound, MissingDependency
from gymie.settings import Settings

log = logging.getLogger("gymie")

NAMESPACE_PACKAGES = dependencies.NAMESPACE_PACKAGES

Step = tuple[Any, Any, bool, dict[str, Any]]
"""Old Gym's ``(observation, reward, done, info)``: what ``process_step`` takes and returns."""


def get_env(env_id: str, seed: int | None = None, **kwargs: Any) -> Any:
    """Instantiate a Gymnasium environment (the default ``get_env``).

    ``seed`` is accepted as in 0.5.4; gymie applies it at the first reset (and to the
    action space), so ``seed=0`` works too. Other params are ``gymnasium.make`` kwargs
    (``max_episode_steps``, ``render_mode``, env kwargs...).

    Raises:
        EnvironmentNotFound: no such id (or the module of a ``module:Name`` id is missing).
        MissingDependency: a valid id whose package is not installed (Box2D, MuJoCo, ale-py...).
        EnvironmentMalformed: the id is not of the form ``[namespace/]name[-vN]``.
    """
    try:
        with making(env_id):
            return gymnasium.make(env_id, **kwargs)
    except gymnasium.error.Error:
        raise EnvironmentMalformed(env_id) from None


@contextlib.contextmanager
def making(env_id: str) -> Iterator[None]:
    """Import the package behind ``env_id``'s namespace, then make it in the ``with`` block.

    Gymnasium's errors for an id it cannot make become gymie's; other errors pass through.

    Raises:
        MissingDependency: a valid id whose package is not installed (the namespace's, or the env's).
        EnvironmentNotFound: no such id (or the module of a ``module:Name`` id is missing).
    """
    missing_namespace = not import_namespace(env_id)
    try:
        yield
    except (ImportError, gymnasium.error.DependencyNotInstalled) as err:
        raise dependencies.missing(env_id, err) or EnvironmentNotFound(env_id) from None
    except gymnasium.error.UnregisteredEnv:
        if missing_namespace:
            raise MissingDependency(env_id, dependencies.install_hint(env_id)) from None
        raise EnvironmentNotFound(env_id) from None


def process_step(step: Step) -> Step:
    """Process one ``(observation, reward, done, info)`` step before it is sent (the default does nothing).

    0.5.4's default returned ``observation.tolist()``; gymie converts NumPy values when it
    encodes, so an override may return arrays or lists alike.
    """
    return step


def import_namespace(env_id: str | None) -> bool:
    """Register the envs of the package behind ``env_id``'s namespace (of every known one for None).

    Gymnasium 1.x registers ``ALE/...`` ids only once ``ale_py`` is imported. Return False when
    a package was needed but is missing (``make`` then reports MissingDependency).
    """
    prefix = None if env_id is None else env_id.split("/", 1)[0] if "/" in env_id else ""
    found = True
    for namespace, package in NAMESPACE_PACKAGES.items():
        if prefix is not None and namespace != prefix:
            continue
        try:
            gymnasium.register_envs(importlib.import_module(package))
        except ImportError:
            log.debug("namespace %s needs the package %s", namespace, package)
            found = False
    return found


def catalog(settings: Settings) -> list[dict[str, Any]]:
    """Every registered id the operator allows, sorted, as ``{"id", "available", "needs"}``.

    ``needs`` is None for an id this server can make, else what to install (see
    :func:`gymie.dependencies.needs`). Namespace packages (ale_py) are imported first.
    """
    import_namespace(None)
    allowed = settings.module_id_allowed, settings.env_allowed
    ids = sorted(env_id for env_id in gymnasium.registry if all(check(env_id) for check in allowed))
    entries = []
    for env_id in ids:
        needs = dependencies.needs(env_id)
        entries.append({"id": env_id, "available": needs is None, "needs": needs})
    return entries


def make_adapter(get_env: Callable[..., Any], env_id: str, kwargs: dict[str, Any]) -> EnvAdapter:
    """What ``make`` asks a backend to run: ``get_env`` then the adapter, both where the env lives."""
    return adapt(get_env(env_id, **kwargs), seed=kwargs.get("seed"))


class Backend(Protocol):
    """Where environments run; the server picks one (``gymie.backends``) and hands it to the core.

    ``start`` runs a picklable factory (a module-level function or a ``functools.partial`` of
    one) that returns an :class:`~gymie.compat.EnvAdapter`, and returns an adapter the methods
    use: the factory's own result in the server process, or a proxy to it elsewhere. A proxy
    whose env died sets ``dead = True`` (and ``exit_reason``) so the dispatcher drops it.

    ``processes_per_env`` is how many processes the backend itself starts for one env (0 in
    the server, 1 for a worker or a Ray actor); the registry reserves them against
    ``max_workers`` before ``start`` runs, with any the factory starts itself (an async vector
    env's). ``resources`` is a placement the methods checked against the operator's settings
    (say ``{"num_gpus": 0.5}``); only a backend that places envs (Ray) is ever given one.
    """

    processes_per_env: int

    def start(
        self, factory: Callable[[], EnvAdapter], *, resources: Mapping[str, float] | None = None
    ) -> EnvAdapter:
        """Build an env with ``factory()`` and return its adapter (or a proxy to it).

        Raises:
            GymieError: what the factory raised, or WorkerCrashed/StepTimeout/InternalError
                when the place it runs failed.
            TypeError: the factory's arguments do not fit (reported as invalid params).
        """
        ...

    def live_workers(self) -> int:
        """How many processes (or actors) run envs for this backend now."""
        ...

    def warm_up(self) -> None:
        """Prepare before the first ``start`` (e.g. start a forkserver); may do nothing."""
        ...

    def kill_all(self) -> None:
        """Stop every env process at once (a shutdown that ran out of time)."""
        ...


@runtime_checkable
class ShardingBackend(Protocol):
    """A backend that can run one vector env as shards in several places (``make_vec(num_shards=K)``)."""

    def start_shards(
        self, factories: Sequence[Callable[[], EnvAdapter]], *, resources: Mapping[str, float] | None = None
    ) -> EnvAdapter:
        """Start each factory (a vector env of some of the sub-envs) and return one adapter over all.

        The adapter steps every shard in parallel and answers as one vector env whose sub-env
        ``j`` of shard ``i`` is sub-env ``sum(sizes[:i]) + j``.
        """
        ...


class BackendUnavailable(RuntimeError):
    """Where envs should run cannot be used: Ray is not installed, or no cluster answers at the address.

    ``Backend.warm_up`` (or creating the backend) raises it; the command line prints it and exits 1.
    """
