"""gymie: reinforcement-learning environments served over WebSocket.

``import gymie`` stays light: the exceptions load now; ``start`` (eventlet), ``override``
and the modules below load on first use, so nothing is monkey-patched or imported
until a server is started.
"""

from __future__ import annotations

import importlib
from typing import Any

from gymie.exceptions import (
    EnvironmentMalformed,
    EnvironmentNotAllowed,
    EnvironmentNotFound,
    GymieError,
    InstanceNotFound,
    InternalError,
    InvalidMessage,
    InvalidParams,
    InvalidRequest,
    LimitExceeded,
    MethodNotFound,
    MissingDependency,
    ReplyTooLarge,
    StepTimeout,
    WorkerCrashed,
    WrongAction,
)

__version__ = "1.0.0"

_LAZY = {"start": "gymie.server", "override": "gymie.api"}
_SUBMODULES = {
    "api",
    "backends",
    "cli",
    "client",
    "codec",
    "compat",
    "core",
    "dependencies",
    "envs",
    "methods",
    "protocol",
    "registry",
    "server",
    "settings",
    "spaces",
    "vector",
}

__all__ = [
    "EnvironmentMalformed",
    "EnvironmentNotAllowed",
    "EnvironmentNotFound",
    "GymieError",
    "InstanceNotFound",
    "InternalError",
    "InvalidMessage",
    "InvalidParams",
    "InvalidRequest",
    "LimitExceeded",
    "MethodNotFound",
    "MissingDependency",
    "ReplyTooLarge",
    "StepTimeout",
    "WorkerCrashed",
    "WrongAction",
    "__version__",
    "override",
    "start",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"gymie.{name}")
    raise AttributeError(f"module 'gymie' has no attribute {name!r}")
