"""An ``@override("get_env")`` module for the isolation tests: ``Custom-v0`` is made by user code.

A server started with ``--import tests.faults_override`` makes ``Custom-v0`` through this hook;
with ``--isolation process`` the hook must run in the worker, which imports this module too.
"""

from __future__ import annotations

from typing import Any

from gymie import envs, override
from tests.faults import CrashEnv


@override("get_env")
def get_env(env_id: str, **kwargs: Any) -> Any:
    if env_id == "Custom-v0":
        return CrashEnv(**kwargs)
    return envs.get_env(env_id, **kwargs)
