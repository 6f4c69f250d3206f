"""Envs that fail the hard way, for the fault tests; import registers ``gymie-test/Crash-v0``.

``Crash-v0`` is CartPole-shaped. Its kwargs: ``at`` names the stage that fails (``make``,
``reset``, ``step``, ``close``), ``how`` the way (``raise``, ``segfault``, ``exit``,
``kill``, ``hang``), ``sleep`` seconds each step takes, and ``trace`` a file where the env
appends ``made``/``stepping``/``closed`` lines (with its pid) that another process can read.
``reset`` puts the pid of the process the env lives in into ``info["pid"]``.
"""

from __future__ import annotations

import ctypes
import os
import signal
import time
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

ENV_ID = "gymie-test/Crash-v0"
STAGES = ("make", "reset", "step", "close")
HOWS = ("raise", "segfault", "exit", "kill", "hang")


def fail(how: str, stage: str) -> None:
    """Fail at ``stage`` the way ``how`` says."""
    if how == "raise":
        raise RuntimeError(f"boom in {stage}")
    if how == "segfault":
        ctypes.string_at(0)
    if how == "exit":
        os._exit(3)
    if how == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if how == "hang":
        time.sleep(3600)


class CrashEnv(gymnasium.Env[np.ndarray, int]):
    """Fails at one stage, in one way; records its life in ``trace``."""

    def __init__(self, at: str = "", how: str = "raise", sleep: float = 0.0, trace: str = "") -> None:
        self.at, self.how, self.sleep, self.trace = at, how, sleep, trace
        self.observation_space = spaces.Box(-1, 1, (4,), np.float32)
        self.action_space = spaces.Discrete(2)
        self._stage("make")
        self._record("made")

    def _stage(self, stage: str) -> None:
        if stage == self.at:
            fail(self.how, stage)

    def _record(self, event: str) -> None:
        if self.trace:
            with Path(self.trace).open("a", encoding="utf-8") as f:
                f.write(f"{event} {os.getpid()}\n")

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self._stage("reset")
        return np.zeros(4, np.float32), {"pid": os.getpid()}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if action not in (0, 1):
            raise ValueError(f"bad action {action!r}")
        self._record("stepping")
        if self.sleep:
            time.sleep(self.sleep)
        self._stage("step")
        return np.ones(4, np.float32), 1.0, False, False, {}

    def close(self) -> None:
        self._record("closed")
        self._stage("close")


def traced(path: Path) -> list[str]:
    """The events a trace file holds."""
    return path.read_text(encoding="utf-8").split()[::2] if path.exists() else []


if ENV_ID not in gymnasium.registry:
    gymnasium.register(ENV_ID, entry_point=CrashEnv, disable_env_checker=True)
