"""A stand-in for ``mlagents_envs`` (Unity ML-Agents), for testing ``examples/unity_server.py``.

No Unity game binary can be had in a test run, so this module provides fakes of what the
example imports, behaving like mlagents_envs 1.x with a PushBlock-like game:

- ``mlagents_envs.environment.UnityEnvironment(file_name, worker_id=0, base_port=None, seed=0,
  no_graphics=False, ...)``: raises ``UnityEnvironmentException`` (with the real message) when
  ``file_name`` matches no file (as is, or with ``.x86_64``, ``.app`` or ``.exe``), and
  ``UnityWorkerInUseException`` when another open environment uses the same ``worker_id``
  (the real one cannot bind its port); ``seed`` must be an int, as in the real protocol.
- ``mlagents_envs.envs.unity_gym_env.UnityToGymWrapper``: the old Gym API (the real wrapper
  subclasses ``gym.Env``): ``reset()`` returns the observation only, ``step`` returns
  ``(obs, reward, done, info)`` with a NumPy float32 reward and ML-Agents objects in ``info``
  (no JSON form, which is why the example's ``process_step`` drops it); ``seed()`` only logs
  a warning; stepping after ``done`` raises ``UnityGymException``. Spaces are Gym-style look-alikes
  (not Gymnasium classes): ``Box(-inf, inf, (210,), float32)`` observations and ``Discrete(7)``
  actions; ``name`` is the behavior name, ``"<game>?team=0"``.

Importing this module puts the fakes in ``sys.modules`` (so ``python -m gymie --import
tests.unity_standin --import examples.unity_server`` serves them); :func:`uninstall` takes them out.
"""

from __future__ import annotations

import logging
import sys
import types
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

logger = logging.getLogger("mlagents_envs")

OBS_SIZE = 210
N_ACTIONS = 7
EPISODE_LENGTH = 5
LAUNCH_SUFFIXES = ("", ".x86_64", ".app", ".exe")


class UnityException(Exception):
    """Base of the ML-Agents errors (``mlagents_envs.exception``)."""


class UnityEnvironmentException(UnityException):
    """The environment could not be launched."""


class UnityWorkerInUseException(UnityException):
    """The port of this worker id is still taken by an open environment."""

    def __init__(self, worker_id: int) -> None:
        super().__init__(
            f"Couldn't start socket communication because worker number {worker_id} is still in use. "
            "You may need to manually close a previously opened environment or use a different worker number."
        )


class UnityGymException(UnityException):
    """Any error of the gym wrapper (the real one derives from ``gym.error.Error``)."""


# -- Gym-style spaces (look-alikes of gym.spaces, not Gymnasium classes) -------


class Discrete:
    """Like ``gym.spaces.Discrete``."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.start = 0
        self.shape: tuple[int, ...] = ()
        self.dtype = np.dtype(np.int64)
        self._rng = np.random.default_rng()

    def seed(self, seed: int | None = None) -> list[int | None]:
        self._rng = np.random.default_rng(seed)
        return [seed]

    def sample(self) -> np.int64:
        return np.int64(self._rng.integers(self.n))

    def contains(self, x: Any) -> bool:
        return isinstance(x, (int, np.integer)) and 0 <= int(x) < self.n


class Box:
    """Like ``gym.spaces.Box`` (float32, same bounds everywhere)."""

    def __init__(self, low: float, high: float, shape: tuple[int, ...]) -> None:
        self.dtype = np.dtype(np.float32)
        self.shape = shape
        self.low = np.full(shape, low, np.float32)
        self.high = np.full(shape, high, np.float32)

    def seed(self, seed: int | None = None) -> list[int | None]:
        return [seed]

    def contains(self, x: Any) -> bool:
        return isinstance(x, np.ndarray) and x.shape == self.shape


# -- mlagents_envs.environment ---------------------------------------------------


class DecisionSteps:
    """What ML-Agents reports for agents awaiting a decision (``info["step"]``)."""

    def __init__(self, obs: np.ndarray, reward: np.float32) -> None:
        self.obs = [obs[None, :]]
        self.reward = np.array([reward], np.float32)


class TerminalSteps(DecisionSteps):
    """What ML-Agents reports for agents whose episode ended."""


class UnityEnvironment:
    """A running 'game': one agent, vector observations, episodes of EPISODE_LENGTH decisions."""

    open_workers: ClassVar[set[int]] = set()

    def __init__(
        self,
        file_name: str | None = None,
        worker_id: int = 0,
        base_port: int | None = None,
        seed: int = 0,
        no_graphics: bool = False,
        **kwargs: Any,
    ) -> None:
        if not isinstance(seed, int):
            raise TypeError(f"seed must be an int, got {seed!r}")
        if file_name is None or not any(Path(file_name + s).exists() for s in LAUNCH_SUFFIXES):
            raise UnityEnvironmentException(
                f"Couldn't launch the {file_name} environment. "
                "Provided filename does not match any environments."
            )
        if worker_id in UnityEnvironment.open_workers:
            raise UnityWorkerInUseException(worker_id)
        UnityEnvironment.open_workers.add(worker_id)
        self.worker_id = worker_id
        self.no_graphics = no_graphics
        self.behavior_name = f"{Path(file_name).name.split('.')[0]}?team=0"
        self.closed = False
        self._rng = np.random.default_rng(seed)
        self._steps = 0
        self._action: np.ndarray | None = None

    @property
    def behavior_specs(self) -> dict[str, Any]:
        return {self.behavior_name: {"observation_shapes": [(OBS_SIZE,)], "discrete_branches": (N_ACTIONS,)}}

    def reset(self) -> None:
        self._steps = 0

    def set_actions(self, behavior_name: str, action: np.ndarray) -> None:
        if behavior_name != self.behavior_name or action.shape != (1, 1) or action.dtype != np.int32:
            raise UnityException(f"bad action {action!r} for {behavior_name}")
        self._action = action

    def step(self) -> None:
        if self._action is None:
            raise UnityException("no action set")
        self._steps += 1
        self._action = None

    def get_steps(self, behavior_name: str) -> DecisionSteps:
        obs = self._rng.standard_normal(OBS_SIZE).astype(np.float32)
        reward = np.float32(0.0 if self._steps < EPISODE_LENGTH else 1.0)
        cls = TerminalSteps if self._steps >= EPISODE_LENGTH else DecisionSteps
        return cls(obs, reward)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            UnityEnvironment.open_workers.discard(self.worker_id)


# -- mlagents_envs.envs.unity_gym_env ---------------------------------------------


class UnityToGymWrapper:
    """The old-Gym-API view of a one-agent UnityEnvironment."""

    def __init__(
        self,
        unity_env: UnityEnvironment,
        uint8_visual: bool = False,
        flatten_branched: bool = False,
        allow_multiple_obs: bool = False,
        action_space_seed: int | None = None,
    ) -> None:
        self._env = unity_env
        self.name = unity_env.behavior_name
        self.uint8_visual = uint8_visual
        self.game_over = False
        self.visual_obs = None
        self._action_space = Discrete(N_ACTIONS)
        if action_space_seed is not None:
            self._action_space.seed(action_space_seed)
        self._observation_space = Box(-np.inf, np.inf, (OBS_SIZE,))

    @property
    def action_space(self) -> Discrete:
        return self._action_space

    @property
    def observation_space(self) -> Box:
        return self._observation_space

    @property
    def metadata(self) -> dict[str, Any]:
        return {"render.modes": ["rgb_array"]}

    def reset(self) -> np.ndarray:
        self._env.reset()
        self.game_over = False
        return self._single_step(self._env.get_steps(self.name))[0]

    def step(self, action: Any) -> tuple[np.ndarray, np.float32, bool, dict[str, Any]]:
        if self.game_over:
            raise UnityGymException(
                "You are calling 'step()' even though this environment has already returned done = True. "
                "You must always call 'reset()' once you receive 'done = True'."
            )
        self._env.set_actions(self.name, np.asarray(np.array(action).reshape((1, 1)), dtype=np.int32))
        self._env.step()
        result = self._single_step(self._env.get_steps(self.name))
        self.game_over = result[2]
        return result

    @staticmethod
    def _single_step(info: DecisionSteps) -> tuple[np.ndarray, np.float32, bool, dict[str, Any]]:
        return info.obs[0][0, :], info.reward[0], isinstance(info, TerminalSteps), {"step": info}

    def render(self, mode: str = "rgb_array") -> Any:
        return self.visual_obs

    def seed(self, seed: Any = None) -> None:
        logger.warning("Could not seed environment %s", self.name)

    def close(self) -> None:
        self._env.close()


# -- installing the fakes -------------------------------------------------------------


def fake_modules() -> dict[str, types.ModuleType]:
    """The fake ``mlagents_envs`` modules, by name."""
    contents: dict[str, dict[str, Any]] = {
        "mlagents_envs": {},
        "mlagents_envs.exception": {
            "UnityException": UnityException,
            "UnityEnvironmentException": UnityEnvironmentException,
            "UnityWorkerInUseException": UnityWorkerInUseException,
        },
        "mlagents_envs.environment": {
            "UnityEnvironment": UnityEnvironment,
            "UnityEnvironmentException": UnityEnvironmentException,
        },
        "mlagents_envs.envs": {},
        "mlagents_envs.envs.unity_gym_env": {
            "UnityToGymWrapper": UnityToGymWrapper,
            "UnityGymException": UnityGymException,
        },
    }
    modules = {}
    for name, attrs in contents.items():
        module = types.ModuleType(name, f"gymie test stand-in for {name}")
        module.__dict__.update(attrs)
        modules[name] = module
    for name, module in modules.items():
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(modules[parent], child, module)
        else:
            module.__path__ = []  # a package
    modules["mlagents_envs.envs"].__path__ = []
    return modules


def install() -> None:
    """Put the fakes in ``sys.modules`` (replacing any real ``mlagents_envs``)."""
    sys.modules.update(fake_modules())


def uninstall() -> None:
    """Take the fakes out of ``sys.modules``."""
    for name in fake_modules():
        sys.modules.pop(name, None)


install()
