"""A test env whose ``close()`` leaves a trace a test can read from another process.

Importing this module registers ``gymie-test/Traced-v0``; a server started with
``--import tests.support_lifecycle`` can make it with ``{"trace": PATH, "tag": NAME}``:
the env appends ``made NAME`` to the file at ``PATH`` when made, ``rendered NAME`` on each
``render()`` and ``closed NAME`` when closed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

ENV_ID = "gymie-test/Traced-v0"


class TracedEnv(gymnasium.Env[np.ndarray, int]):
    """A CartPole-shaped env that records ``made``/``rendered``/``closed`` lines in a file."""

    def __init__(self, trace: str, tag: str = "env") -> None:
        self.trace = Path(trace)
        self.tag = tag
        self.observation_space = spaces.Box(-1, 1, (4,), np.float32)
        self.action_space = spaces.Discrete(2)
        self._write("made")

    def _write(self, event: str) -> None:
        with self.trace.open("a", encoding="utf-8") as f:
            f.write(f"{event} {self.tag}\n")

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        return np.zeros(4, np.float32), {}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if action not in (0, 1):
            raise ValueError(f"bad action {action!r}")
        return np.full(4, 0.5, np.float32), 1.0, False, False, {}

    def render(self) -> None:
        self._write("rendered")

    def close(self) -> None:
        self._write("closed")


def trace_lines(path: Path) -> list[str]:
    """The lines written so far (none if the file does not exist yet)."""
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


if ENV_ID not in gymnasium.registry:
    gymnasium.register(ENV_ID, entry_point=TracedEnv, disable_env_checker=True)
