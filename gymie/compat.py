"""One adapter that makes any supported env look like a Gymnasium 1.x env to the server.

Three kinds of env are supported:

- Gymnasium envs (``gymnasium.Env``): passed through.
- OpenAI Gym 0.26 envs: the Gymnasium API, but with ``gym.spaces`` classes.
- Gym-like objects (Gym <= 0.25, old Gym Retro, Unity's ``UnityToGymWrapper``): ``step`` returns
  ``(obs, reward, done, info)``, ``reset`` returns the observation only and seeding goes through
  ``env.seed(seed)``.

``gym`` is never imported here: it is optional and needs numpy<2. Envs and spaces are recognised by
behaviour and class names instead.

How the reset style is decided (once per env, then cached):

1. ``gymnasium.Env``, or a class whose MRO has a ``gym`` module and ``gym.__version__ >= 0.26``:
   ``reset(seed=, options=)`` returns ``(obs, info)``.
2. A ``gym`` class from Gym < 0.26: ``reset`` returns the observation only.
3. Anything else: ``seed``/``options`` are passed only if ``reset`` names them, and the first result
   decides: a 2-tuple whose second item is a dict, while the observation space is not a ``Tuple``
   space, is ``(obs, info)``; anything else is the observation.

``step`` needs no detection: a 5-tuple is the new API, a 4-tuple the old one.
"""

from __future__ import annotations

import inspect
import logging
import os
import re
import socket
import sys
from collections.abc import Callable
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

__all__ = ["EnvAdapter", "adapt", "to_gymnasium_space"]

logger = logging.getLogger(__name__)


def _discrete(space: Any) -> spaces.Discrete:
    return spaces.Discrete(int(space.n), start=int(getattr(space, "start", 0)))


def _box(space: Any) -> spaces.Box:
    return spaces.Box(
        low=space.low,
        high=space.high,
        shape=getattr(space, "shape", None),
        dtype=getattr(space, "dtype", np.float32),
    )


def _multi_binary(space: Any) -> spaces.MultiBinary:
    n = np.asarray(space.n)
    return spaces.MultiBinary(int(n) if n.ndim == 0 else n.tolist())


def _multi_discrete(space: Any) -> spaces.MultiDiscrete:
    # Not `dtype or ...`: a NumPy dtype is falsy.
    dtype = getattr(space, "dtype", None)
    return spaces.MultiDiscrete(
        np.asarray(space.nvec),
        dtype=np.int64 if dtype is None else dtype,
        start=getattr(space, "start", None),
    )


def _text(space: Any) -> spaces.Text:
    return spaces.Text(space.max_length, min_length=space.min_length, charset=space.character_set)


def _graph(space: Any) -> spaces.Graph:
    edge_space = None if space.edge_space is None else to_gymnasium_space(space.edge_space)
    return spaces.Graph(to_gymnasium_space(space.node_space), edge_space)


_CONVERTERS: dict[str, Callable[[Any], gymnasium.Space[Any]]] = {
    "Discrete": _discrete,
    "Box": _box,
    "MultiBinary": _multi_binary,
    "MultiDiscrete": _multi_discrete,
    "Tuple": lambda s: spaces.Tuple([to_gymnasium_space(sub) for sub in s.spaces]),
    # A sequence of pairs keeps the source's key order (a plain dict would be re-sorted).
    "Dict": lambda s: spaces.Dict([(k, to_gymnasium_space(v)) for k, v in s.spaces.items()]),
    "Text": _text,
    "Sequence": lambda s: spaces.Sequence(
        to_gymnasium_space(s.feature_space), stack=bool(getattr(s, "stack", False))
    ),
    "Graph": _graph,
    "OneOf": lambda s: spaces.OneOf([to_gymnasium_space(sub) for sub in s.spaces]),
}


def to_gymnasium_space(space: Any) -> gymnasium.Space[Any]:
    """Return ``space`` as a Gymnasium space.

    Gymnasium spaces pass through unchanged. Gym spaces and look-alikes are rebuilt from the first
    class in their MRO whose name is a known space (``Discrete``, ``Box``, ...) and its attributes.

    Raises:
        NotImplementedError: no class in the MRO has a known space name.
    """
    if isinstance(space, gymnasium.Space):
        return space
    for cls in type(space).__mro__:
        converter = _CONVERTERS.get(cls.__name__)
        if converter is not None:
            return converter(space)
    raise NotImplementedError(
        f"Cannot convert space {space!r} of type {type(space).__qualname__} to a Gymnasium space; "
        f"known space class names: {', '.join(_CONVERTERS)}"
    )


def _gym_version(env: Any) -> tuple[int, ...] | None:
    """Return the ``gym`` version if ``env`` is an instance of a ``gym`` class, else None."""
    for cls in type(env).__mro__:
        if cls.__module__ == "gym" or cls.__module__.startswith("gym."):
            version = str(getattr(sys.modules.get("gym"), "__version__", "0"))
            return tuple(int(part) for part in re.findall(r"\d+", version)[:2])
    return None


def _reset_style(env: Any) -> bool | None:
    """Return True for ``(obs, info)`` resets, False for obs-only, None to decide on the first reset."""
    if isinstance(env, gymnasium.Env):
        return True
    version = _gym_version(env)
    return None if version is None else version >= (0, 26)


def _named_reset_params(env: Any) -> frozenset[str]:
    """Return which of ``seed`` and ``options`` the signature of ``env.reset`` names."""
    try:
        params = inspect.signature(env.reset).parameters
    except (TypeError, ValueError):
        return frozenset()
    return frozenset(params) & {"seed", "options"}


def _as_info(info: Any) -> dict[str, Any]:
    return {} if info is None else dict(info)


class EnvAdapter:
    """Gymnasium 1.x view of a Gymnasium, Gym 0.26 or gym-like env.

    Attributes:
        env: The raw env object as given.
        observation_space: The env's observation space as a Gymnasium space.
        action_space: The env's action space as a Gymnasium space.
    """

    env: Any
    observation_space: gymnasium.Space[Any]
    action_space: gymnasium.Space[Any]

    def __init__(self, env: Any, seed: int | None = None) -> None:
        """Wrap ``env``; ``seed`` is applied at the first reset and seeds the action space now."""
        self.env = env
        self.observation_space = to_gymnasium_space(env.observation_space)
        self.action_space = to_gymnasium_space(env.action_space)
        self._new_reset = _reset_style(env)
        self._reset_params = frozenset({"seed", "options"}) if self._new_reset else _named_reset_params(env)
        self._pending_seed = seed
        if seed is not None and callable(getattr(env.action_space, "seed", None)):
            env.action_space.seed(seed)

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset the env and return ``(obs, info)``.

        Without ``seed``, the seed given to the constructor is used, on the first reset only. An
        explicit ``seed`` also cancels that pending seed. Old-API envs that do not take ``seed`` in
        ``reset`` are seeded with ``env.seed(seed)``; ``options`` they do not take are dropped.
        """
        seed = self._pending_seed if seed is None else seed
        self._pending_seed = None
        kwargs: dict[str, Any] = {}
        if seed is not None:
            if "seed" in self._reset_params:
                kwargs["seed"] = seed
            else:
                self._seed_old_api(seed)
        if options is not None and "options" in self._reset_params:
            kwargs["options"] = options
        return self._split_reset(self.env.reset(**kwargs))

    def _seed_old_api(self, seed: int) -> None:
        if callable(getattr(self.env, "seed", None)):
            self.env.seed(seed)
        else:
            logger.warning("%s has no seed() method; seed %d ignored", type(self.env).__name__, seed)

    def _split_reset(self, result: Any) -> tuple[Any, dict[str, Any]]:
        if self._new_reset is None:
            self._new_reset = (
                isinstance(result, tuple)
                and len(result) == 2
                and isinstance(result[1], dict)
                and not isinstance(self.observation_space, spaces.Tuple)
            )
        if self._new_reset:
            obs, info = result
            return obs, _as_info(info)
        return result, {}

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        """Step the env and return ``(obs, reward, terminated, truncated, info)``.

        The reward is returned as the env gave it. For an old 4-tuple step, ``truncated`` is
        ``info["TimeLimit.truncated"]`` when done, and ``terminated`` is done and not truncated.
        """
        result = self.env.step(action)
        if len(result) == 5:
            obs, reward, terminated, truncated, info = result
            return obs, reward, bool(terminated), bool(truncated), _as_info(info)
        if len(result) == 4:
            obs, reward, done, info = result
            info = _as_info(info)
            truncated = bool(done) and bool(info.get("TimeLimit.truncated", False))
            return obs, reward, bool(done) and not truncated, truncated, info
        raise ValueError(f"step() returned {len(result)} items; expected 4 (old API) or 5")

    def sample_action(self) -> Any:
        """Sample from the original env's action space, with its own RNG and types."""
        return self.env.action_space.sample()

    def render(self) -> Any:
        """Return ``env.render()``."""
        return self.env.render()

    def close(self) -> None:
        """Close the env."""
        self.env.close()

    def location(self) -> dict[str, Any]:
        """Where the env runs: ``node_id`` (a cluster's node, None off a cluster), ``hostname``, ``pid``."""
        return {"node_id": None, "hostname": socket.gethostname(), "pid": os.getpid()}


def adapt(env: Any, seed: int | None = None) -> EnvAdapter:
    """Return an :class:`EnvAdapter` over ``env``; an adapter is returned as is unless ``seed`` is given."""
    if isinstance(env, EnvAdapter):
        return env if seed is None else EnvAdapter(env.env, seed)
    return EnvAdapter(env, seed)
