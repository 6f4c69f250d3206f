"""Vector environments on the server: ``gymnasium.make_vec`` and an adapter for batched instances.

A vector instance lives in the same :class:`~gymie.registry.EnvRegistry` as a single env, and
``reset``/``step``/``close``/``action_sample``/``render`` work on it unchanged: ``step`` takes a
batch of actions (an array in msgpack, nested lists in JSON) and returns batched arrays. Nothing
here loops over the sub-environments: batches stay NumPy arrays from the env to the codec.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import gymnasium
import numpy as np
from gymnasium.envs.registration import parse_env_id
from gymnasium.vector import AsyncVectorEnv, SyncVectorEnv, VectorEnv

from gymie.compat import EnvAdapter
from gymie.envs import making
from gymie.exceptions import EnvironmentMalformed, client_error

MODES = ("sync", "async", "vector_entry_point")
"""The vectorization modes of ``gymnasium.make_vec``."""

ASYNC_CONTEXT = "spawn"
"""Start method of async workers unless the client names one: forking an eventlet server is unsafe."""


def make_adapter(
    env_id: str,
    num_envs: int,
    vectorization_mode: str | None,
    vector_kwargs: dict[str, Any],
    kwargs: dict[str, Any],
    seed: int | None,
) -> VectorAdapter:
    """Make the vector env and its adapter: the factory ``make_vec`` hands to the backend.

    Raises:
        GymieError: as :func:`make_vector_env`.
    """
    return VectorAdapter(make_vector_env(env_id, num_envs, vectorization_mode, vector_kwargs, kwargs), seed)


def make_vector_env(
    env_id: str,
    num_envs: int,
    vectorization_mode: str | None,
    vector_kwargs: dict[str, Any],
    kwargs: dict[str, Any],
) -> VectorEnv[Any, Any, Any]:
    """Return ``gymnasium.make_vec(...)``, importing the package of a namespaced id first.

    Async workers are started with :data:`ASYNC_CONTEXT` unless ``vector_kwargs`` has ``context``.

    Raises:
        EnvironmentMalformed: the id is not of the form ``[namespace/]name[-vN]``.
        EnvironmentNotFound: no such id.
        MissingDependency: a valid id whose package is not installed.
        InvalidParams: the mode is not available for the id, or the arguments do not fit.
    """
    try:
        parse_env_id(env_id)
    except gymnasium.error.Error:
        raise EnvironmentMalformed(env_id) from None
    if vectorization_mode == "async":
        vector_kwargs = {"context": ASYNC_CONTEXT, **vector_kwargs}
    try:
        with making(env_id):
            return gymnasium.make_vec(
                env_id, num_envs, vectorization_mode, vector_kwargs=vector_kwargs, **kwargs
            )
    except (gymnasium.error.Error, TypeError, ValueError) as err:
        params = {"env_id": env_id, "num_envs": num_envs, "vectorization_mode": vectorization_mode}
        params = {**params, "vector_kwargs": vector_kwargs, **kwargs}
        raise client_error(err, "make_vec", params, f"{env_id} refused these make_vec parameters") from err


def mode_name(env: VectorEnv[Any, Any, Any]) -> str:
    """The vectorization mode an env was made with, as ``make_vec`` names it."""
    if isinstance(env, SyncVectorEnv):
        return "sync"
    if isinstance(env, AsyncVectorEnv):
        return "async"
    return "vector_entry_point"


def autoreset_name(env: VectorEnv[Any, Any, Any]) -> str | None:
    """The env's ``metadata["autoreset_mode"]`` as its string value (``"NextStep"``...), if it has one."""
    mode = env.metadata.get("autoreset_mode")
    if isinstance(mode, Enum):
        return str(mode.value)
    return None if mode is None else str(mode)


def is_vector(adapter: Any) -> bool:
    """Whether an adapter (a :class:`VectorAdapter`, or a worker's proxy to one) steps a batch."""
    return getattr(adapter, "num_envs", None) is not None


class VectorAdapter(EnvAdapter):
    """The :class:`~gymie.compat.EnvAdapter` interface over a ``gymnasium.vector.VectorEnv``.

    Values are batched: ``observation_space``/``action_space`` are the batched spaces and
    ``single_observation_space``/``single_action_space`` those of one sub-environment.

    Attributes:
        env: The vector env.
        num_envs: How many sub-environments it steps.
        vectorization_mode: ``"sync"``, ``"async"`` or ``"vector_entry_point"``.
        autoreset_mode: The value of ``metadata["autoreset_mode"]`` (``"NextStep"``...), if any.
    """

    env: VectorEnv[Any, Any, Any]

    def __init__(self, env: VectorEnv[Any, Any, Any], seed: int | None = None) -> None:
        """Wrap ``env``; ``seed`` is applied at the first reset and seeds the action spaces now."""
        self.env = env
        self.num_envs = env.num_envs
        self.observation_space = env.observation_space
        self.action_space = env.action_space
        self.single_observation_space = env.single_observation_space
        self.single_action_space = env.single_action_space
        self.vectorization_mode = mode_name(env)
        self.autoreset_mode = autoreset_name(env)
        self._pending_seed = seed
        if seed is not None:
            env.action_space.seed(seed)

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset every sub-environment (sync and async seed sub-env ``i`` with ``seed + i``)."""
        seed = self._pending_seed if seed is None else seed
        self._pending_seed = None
        obs, info = self.env.reset(seed=seed, options=options)
        return obs, plain_info(info)

    def step(self, action: Any) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        """Step every sub-environment; return batched ``(obs, rewards, terminated, truncated, info)``."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        return obs, reward, terminated, truncated, plain_info(info)

    # sample_action, render and close are EnvAdapter's: a batch of actions, the sub-environments'
    # frames, and the vector env closed with its worker processes.


def plain_info(info: dict[str, Any]) -> dict[str, Any]:
    """``info`` with object arrays (``final_obs``, non-numeric infos) as lists, so both codecs take it.

    Numeric arrays and their ``_key`` masks are left as they are: only the keys are walked.
    """
    plain: dict[str, Any] = {}
    for key, value in info.items():
        if isinstance(value, dict):
            value = plain_info(value)
        elif isinstance(value, np.ndarray) and value.dtype.kind == "O":
            value = [plain_info(v) if isinstance(v, dict) else v for v in value.tolist()]
        plain[key] = value
    return plain
