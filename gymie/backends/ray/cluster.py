"""Joining (or starting) the Ray cluster a server's actors run in: once per server process.

- ``--ray-address ADDRESS``, else ``$RAY_ADDRESS``: join that cluster, from a helper thread with
  a deadline (``ray.init`` retries an unreachable address forever);
- neither: start a local cluster, from the calling (main) thread, since Ray ties the cluster's
  processes to the thread that started them. It gets a random auth token in ``$RAY_AUTH_TOKEN``
  (Ray would write one to ``~/.ray``) and no dashboard.

Call it before installing signal handlers: ``ray.init`` replaces the SIGTERM handler of the main
thread. The modules of ``--import`` that are not installed packages (a local ``my_envs.py``) are
shipped to every node with the job's ``runtime_env``; installed ones must be installed on every
node, as gymie itself.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import os
import secrets
import sys
import sysconfig
import threading
from pathlib import Path
from typing import Any

import ray

from gymie.envs import BackendUnavailable
from gymie.settings import Settings

log = logging.getLogger("gymie")

NAMESPACE = "gymie"
"""The Ray namespace of gymie's actors (named ``gymie-<server pid>-<hex>``)."""
JOIN_TIMEOUT = 30.0
"""Seconds ``ray.init`` may take to join a cluster."""
TOKEN_HINT = "; a cluster with token authentication needs RAY_AUTH_MODE=token and RAY_AUTH_TOKEN set"


def address_of(settings: Settings) -> str | None:
    """The cluster to join: ``--ray-address``, else ``$RAY_ADDRESS``; None for a local cluster."""
    return settings.ray_address or os.environ.get("RAY_ADDRESS") or None


def connect(settings: Settings) -> None:
    """Join the cluster :func:`address_of` names, or start a local one (nothing if connected already).

    Raises:
        BackendUnavailable: the cluster cannot be joined (unreachable, refused) or started.
    """
    if ray.is_initialized():
        return
    options = {**_init_options(), "runtime_env": runtime_env(settings.imports)}
    address = address_of(settings)
    if address is None:
        log.info("started a local Ray cluster at %s", start_local(options))
    else:
        join(address, options)
        log.info("joined the Ray cluster at %s", address)


def start_local(options: dict[str, Any]) -> str:
    """Start a local cluster with token authentication and no dashboard; return its address.

    Ray turns token authentication on for a new local cluster (and sets ``$RAY_AUTH_MODE``, which
    processes started later inherit); the token is ours, so that none is written to ``~/.ray``.
    Setting ``$RAY_AUTH_MODE`` here instead would leave Ray's already loaded config behind.
    """
    os.environ.setdefault("RAY_AUTH_TOKEN", secrets.token_hex(32))
    try:
        context: Any = ray.init(address="local", num_cpus=os.cpu_count(), include_dashboard=False, **options)
    except Exception as exc:
        raise BackendUnavailable(f"cannot start a local Ray cluster: {exc}") from exc
    return str(context.address_info["gcs_address"])


def join(address: str, options: dict[str, Any]) -> None:
    """``ray.init(address)`` in a helper thread, given up after :data:`JOIN_TIMEOUT` seconds."""
    failure: list[BaseException] = []

    def run() -> None:
        try:
            ray.init(address=address, **options)
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run, name="gymie-ray-join", daemon=True)
    thread.start()
    thread.join(JOIN_TIMEOUT)
    if thread.is_alive():
        raise BackendUnavailable(
            f"cannot reach the Ray cluster at {address} in {JOIN_TIMEOUT:g} s{TOKEN_HINT}"
        )
    if failure:
        reason = str(failure[0]).splitlines()[0] if str(failure[0]) else type(failure[0]).__name__
        raise BackendUnavailable(f"cannot join the Ray cluster at {address}: {reason}{TOKEN_HINT}")


def runtime_env(imports: list[str]) -> dict[str, Any] | None:
    """The job's runtime env: ``py_modules`` for the imported modules that are not installed packages."""
    installed = {Path(p).resolve() for key in ("purelib", "platlib") if (p := sysconfig.get_paths().get(key))}
    shipped: list[str] = []
    for name in imports:
        top = name.split(".")[0]
        if top == "gymie":
            continue
        module = sys.modules.get(top) or importlib.import_module(top)
        path = Path(module.__file__ or "").resolve()
        location = path.parent if path.name == "__init__.py" else path
        if not any(parent in installed for parent in location.parents) and str(location) not in shipped:
            shipped.append(str(location))
    return {"py_modules": shipped} if shipped else None


def for_children(settings: Settings) -> Settings:
    """``--processes N``: start one local cluster here (the supervisor) for the N servers to join.

    Returns the settings the children get: those given, with the new cluster's address when
    none was named. Children inherit ``$RAY_AUTH_TOKEN`` and ``$RAY_AUTH_MODE`` (spawn copies
    the environment). Call it from the main thread, before installing signal handlers.
    """
    if settings.isolation != "ray" or address_of(settings) is not None:
        return settings
    address = start_local(_init_options())
    log.info("started a local Ray cluster at %s for the server processes", address)
    return dataclasses.replace(settings, ray_address=address)


def _init_options() -> dict[str, Any]:
    """``ray.init`` options every gymie driver uses (and no usage statistics sent)."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    return {"logging_level": logging.ERROR, "log_to_driver": False, "namespace": NAMESPACE}
