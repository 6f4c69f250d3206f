"""What an environment needs installed, and whether this server has it.

A registered env whose module cannot be imported (LunarLander without Box2D, Ant without
MuJoCo) is neither "not found" nor "malformed": it is :class:`MissingDependency`, with what to
install. :func:`install_hint` words that from the env's family (its entry point's package),
else from the ``pip install ...`` that Gymnasium's own error names. :func:`needs` tells, without
making the env, whether an id can be made here: it imports the entry point's module once per
process and remembers the answer.
"""

from __future__ import annotations

import functools
import importlib
import logging
import re
from typing import Any

import gymnasium

from gymie.exceptions import MissingDependency

log = logging.getLogger("gymie")

NAMESPACE_PACKAGES = {"ALE": "ale_py"}
"""Namespaces whose envs register when a package is imported (Gymnasium 1.x has no plugin hook)."""
ATARI = 'pip install "gymie[atari]"'
FAMILIES = {
    "gymnasium.envs.box2d": 'pip install swig && pip install "gymnasium[box2d]"',
    "gymnasium.envs.mujoco": 'pip install "gymnasium[mujoco]"',
    "gymnasium.envs.classic_control": 'pip install "gymnasium[classic-control]"',
    "gymnasium.envs.toy_text": 'pip install "gymnasium[toy-text]"',
    "gymnasium.envs.phys2d": 'pip install "gymnasium[jax]"',
    "gymnasium.envs.tabular": 'pip install "gymnasium[jax]"',
    "ale_py": ATARI,
}
"""What to install for the envs of a package (an entry point's module, or a namespace's package)."""
RETIRED = {"_raise_mujoco_py_error": 'mujoco-py (retired; use -v5: pip install "gymnasium[mujoco]")'}
"""Gymnasium's placeholders for retired ids (they only raise), and what to say instead of their message."""

REPORTED_MAX = 1024
"""Env ids remembered as reported (clients choose ids: the set must not grow without end)."""
_PIP = re.compile(r"`(pip install [^`]+)`")
_reported: set[Any] = set()


def install_hint(env_id: str, error: BaseException | None = None) -> str:
    """What to install so that ``env_id`` can be made, e.g. ``pip install "gymnasium[box2d]"``."""
    spec = gymnasium.registry.get(env_id)
    retired = RETIRED.get(getattr(spec.entry_point, "__name__", "")) if spec is not None else None
    return retired or _hint(entry_module(env_id), error)


def entry_module(env_id: str) -> str | None:
    """The module an env id's entry point lives in (its namespace's package for an unregistered one)."""
    spec = gymnasium.registry.get(env_id)
    if spec is None and ":" in env_id:
        return env_id.split(":", 1)[0]
    if spec is None:
        return NAMESPACE_PACKAGES.get(env_id.split("/", 1)[0]) if "/" in env_id else None
    entry = spec.entry_point
    return entry.split(":", 1)[0] if isinstance(entry, str) else getattr(entry, "__module__", None)


def missing(env_id: str, error: BaseException) -> MissingDependency | None:
    """The MissingDependency ``error`` (raised by ``gymnasium.make``) means, or None.

    A ``module:Name`` id whose own module does not exist is not a missing dependency: the id
    names nothing (the caller reports EnvironmentNotFound).
    """
    if not isinstance(error, (ImportError, gymnasium.error.DependencyNotInstalled)):
        return None
    if ":" in env_id and _about_module(error, env_id.split(":", 1)[0]):
        return None
    return MissingDependency(env_id, install_hint(env_id, _cause(error)))


def report(error: MissingDependency) -> None:
    """Log a missing dependency once per env id and process (a warning, no traceback)."""
    if error.subject in _reported:
        return
    if len(_reported) < REPORTED_MAX:
        _reported.add(error.subject)
        log.warning("%s", error.reason)
    else:
        log.debug("%s", error.reason)


def needs(env_id: str) -> str | None:
    """None when ``env_id`` (a registered id) can be made here, else what to install.

    Cheap: the entry point's module is imported (once per process), the env is not made.
    Gymnasium's placeholders for retired ids (``Ant-v2``, which only raise) count as missing.
    """
    spec = gymnasium.registry.get(env_id)
    if spec is None:
        return None
    entry = spec.entry_point
    if isinstance(entry, str):
        return _module_needs(entry.split(":", 1)[0])
    error = _placeholder_error(entry)
    return None if error is None else install_hint(env_id, error)


def _hint(module: str | None, error: BaseException | None) -> str:
    for package, hint in FAMILIES.items():
        if module is not None and (module == package or module.startswith(package + ".")):
            return hint
    message = str(error or "")
    commands = _PIP.findall(message)
    if commands:
        return " or ".join(commands)
    name = getattr(error, "name", None) if isinstance(error, ModuleNotFoundError) else None
    if name or (error is None and module):
        return f"the Python module `{name or module}`"
    return message.split(" (")[0].split(". ")[0].strip() or "a package that is not installed"


@functools.cache
def _module_needs(module: str) -> str | None:
    try:
        importlib.import_module(module)
    except Exception as err:  # DependencyNotInstalled is not an ImportError; a broken module fails make too
        log.debug("%s cannot be imported: %s", module, err)
        return _hint(module, _cause(err))
    return None


def _placeholder_error(entry: Any) -> BaseException | None:
    # gymnasium.envs registers retired ids (mujoco-py's v2/v3, the shimmy ones) with a function that raises.
    if getattr(entry, "__module__", None) != "gymnasium.envs" or not entry.__name__.startswith("_raise_"):
        return None
    try:
        entry()
    except ImportError as err:
        return err
    return None


def _cause(error: BaseException) -> BaseException:
    """Gymnasium re-raises a failed import with a longer message; its own words are the better hint."""
    return error if _PIP.search(str(error)) or error.__cause__ is None else error.__cause__


def _about_module(error: BaseException, module: str) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        name = getattr(seen, "name", None)
        if isinstance(seen, ModuleNotFoundError) and name and (module + ".").startswith(name + "."):
            return True
        seen = seen.__cause__
    return False
