"""Remote environments as Gymnasium envs: :class:`RemoteEnv` and :class:`RemoteVectorEnv`.

Each stands in for one instance on a gymie server, over any :class:`~gymie.client.connection.Connection`.
Spaces are rebuilt from the server's exact descriptions; values come back with the space's dtype
and structure. Arrays are returned writable: msgpack delivers read-only views of the frame, which
are copied (a few microseconds even for an Atari frame), so envs behave like local ones.

Rendering happens on the server; ``metadata["render_modes"]`` leaves out ``"human"``, which would
open a window there. Wrap an ``rgb_array`` env in ``gymnasium.wrappers.HumanRendering`` to watch
it locally.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium
import numpy as np
from gymnasium.envs.registration import EnvSpec
from gymnasium.vector import AutoresetMode, VectorEnv

from gymie.client.connection import Connection
from gymie.exceptions import InstanceNotFound
from gymie.spaces import from_description, from_jsonable


class _Instance:
    """Calls on one server instance, shared by the single and the vector env."""

    connection: Connection
    instance_id: str

    def _call(self, method: str, **params: Any) -> Any:
        return self.connection.call(method, {"instance_id": self.instance_id, **params})

    def _reset(self, seed: int | None, options: dict[str, Any] | None) -> Any:
        params: dict[str, Any] = {} if seed is None else {"seed": int(seed)}
        if options is not None:
            params["options"] = options
        return self._call("reset", **params)


class RemoteEnv(_Instance, gymnasium.Env[Any, Any]):
    """One environment on a gymie server, as a ``gymnasium.Env``.

    ``spec`` (when the server env has one) makes another remote env of the same id and kwargs, so
    ``gymnasium.make(env.spec)`` and the env checkers work; it applies no local TimeLimit (the
    server's env has it).

    Attributes:
        instance_id: The server's id of the env.
        env_info: What the server said about the env (``env_info``): id, metadata, spec fields.
    """

    def __init__(
        self,
        connection: Connection,
        instance_id: str,
        remake: Callable[..., RemoteEnv] | None = None,
        make_kwargs: dict[str, Any] | None = None,
        *,
        owns_connection: bool = False,
    ) -> None:
        """Stand in for the server's instance ``instance_id``; ``remake`` builds ``spec``'s envs."""
        self.connection = connection
        self.instance_id = instance_id
        self.owns_connection = owns_connection
        self._closed = False
        self.env_info: dict[str, Any] = self._call("env_info")
        self.observation_space = from_description(self._call("observation_space"))
        self.action_space = from_description(self._call("action_space"))
        self.metadata = client_metadata(self.env_info["metadata"])
        self.render_mode = self.env_info["render_mode"]
        self.spec = _spec(self.env_info.get("spec"), remake, make_kwargs or {})

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset the remote env; a seed also seeds this object's ``np_random``, as Gymnasium envs do."""
        super().reset(seed=seed)
        result = self._reset(seed, options)
        return self._observation(result["observation"]), writable(result["info"])

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        """Send one action; return ``(observation, reward, terminated, truncated, info)``."""
        result = self._call("step", action=action)
        obs = self._observation(result["observation"])
        return (
            obs,
            _reward(result["reward"]),
            bool(result["terminated"]),
            bool(result["truncated"]),
            writable(result["info"]),
        )

    def _observation(self, value: Any) -> Any:
        return writable(from_jsonable(self.observation_space, value))

    def render(self) -> Any:
        """The server's render: a uint8 ndarray for ``rgb_array``, None without a render mode."""
        return frame(self.render_mode, self._call("render"))

    def close(self) -> None:
        """Close the remote env (idempotent), and the connection if this env owns it."""
        if self._closed:
            return
        self._closed = True
        try:
            self._call("close")
        except (InstanceNotFound, ConnectionError):
            pass  # already gone with its connection, or closed by the server
        finally:
            if self.owns_connection:
                self.connection.close()


class RemoteVectorEnv(_Instance, VectorEnv[Any, Any, Any]):
    """A vector environment on a gymie server, as a ``gymnasium.vector.VectorEnv``.

    Rewards, terminations and truncations are ndarrays; infos are Gymnasium vector infos (arrays
    with ``_key`` masks). Over JSON, array dtypes are inferred (rewards float64); msgpack keeps them.
    """

    def __init__(self, connection: Connection, instance_id: str, *, owns_connection: bool = False) -> None:
        """Stand in for the server's vector instance ``instance_id``."""
        self.connection = connection
        self.instance_id = instance_id
        self.owns_connection = owns_connection
        self.env_info: dict[str, Any] = self._call("env_info")
        self.num_envs = int(self.env_info["num_envs"])
        self.observation_space = from_description(self._call("observation_space"))
        self.action_space = from_description(self._call("action_space"))
        self.single_observation_space = from_description(self._call("single_observation_space"))
        self.single_action_space = from_description(self._call("single_action_space"))
        self.metadata = client_metadata(self.env_info["metadata"])
        if self.env_info["autoreset_mode"] is not None:
            self.metadata["autoreset_mode"] = AutoresetMode(self.env_info["autoreset_mode"])
        self.render_mode = self.env_info["render_mode"]

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset every sub-environment (sync and async seed sub-env ``i`` with ``seed + i``)."""
        super().reset(seed=seed)
        result = self._reset(seed, options)
        return self._observations(result["observation"]), self._info(result["info"])

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        """Step every sub-environment with a batch of actions."""
        result = self._call("step", action=actions)
        return (
            self._observations(result["observation"]),
            batch(result["reward"], np.float64),
            batch(result["terminated"], np.bool_),
            batch(result["truncated"], np.bool_),
            self._info(result["info"]),
        )

    def _observations(self, value: Any) -> Any:
        return writable(from_jsonable(self.observation_space, value))

    def _info(self, info: dict[str, Any]) -> dict[str, Any]:
        converted: dict[str, Any] = {}
        for key, value in info.items():
            if isinstance(value, dict):
                converted[key] = self._info(value)
            elif key == "final_obs" and isinstance(value, list):
                single = self.single_observation_space
                converted[key] = objects(
                    [None if v is None else writable(from_jsonable(single, v)) for v in value]
                )
            else:
                converted[key] = batch(value, None)
        return converted

    def render(self) -> tuple[Any, ...] | None:
        """The sub-environments' frames."""
        frames = self._call("render")
        return None if frames is None else tuple(frame(self.render_mode, f) for f in frames)

    def close_extras(self, **kwargs: Any) -> None:
        """Close the remote vector env, and the connection if this env owns it."""
        try:
            self._call("close")
        except (InstanceNotFound, ConnectionError):
            pass
        finally:
            if self.owns_connection:
                self.connection.close()


def client_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """The server env's metadata without the ``"human"`` render mode (it renders on the server)."""
    metadata = dict(metadata)
    if isinstance(metadata.get("render_modes"), list):
        metadata["render_modes"] = [mode for mode in metadata["render_modes"] if mode != "human"]
    return metadata


def _spec(
    spec: dict[str, Any] | None, remake: Callable[..., RemoteEnv] | None, kwargs: dict[str, Any]
) -> EnvSpec | None:
    if spec is None or remake is None or not isinstance(spec.get("id"), str):
        return None
    return EnvSpec(
        id=spec["id"],
        entry_point=remake,
        reward_threshold=spec.get("reward_threshold"),
        nondeterministic=bool(spec.get("nondeterministic", False)),
        max_episode_steps=None,
        order_enforce=False,
        disable_env_checker=True,
        kwargs=dict(kwargs),
    )


def writable(value: Any) -> Any:
    """``value`` with every read-only ndarray in it copied (msgpack's arrays are views on the frame)."""
    if isinstance(value, np.ndarray):
        return value if value.flags.writeable else value.copy()
    if isinstance(value, dict):
        return {key: writable(v) for key, v in value.items()}
    if isinstance(value, tuple):
        items = [writable(v) for v in value]
        return value._make(items) if hasattr(value, "_make") else tuple(items)  # GraphInstance
    if isinstance(value, list):
        return [writable(v) for v in value]
    return value


def batch(value: Any, dtype: type[np.generic] | None) -> Any:
    """A batched value as a writable ndarray: msgpack's keep their dtype, JSON lists get ``dtype``.

    Without ``dtype``, a JSON list's dtype is inferred, non-finite float strings read back as
    floats, and a ragged list is left a list.
    """
    if isinstance(value, np.ndarray):
        return writable(value)
    if not isinstance(value, list):
        return value
    try:
        array = np.asarray(value, dtype=dtype)
        return array.astype(np.float64) if array.dtype.kind == "U" else array
    except ValueError:
        return value


def objects(items: list[Any]) -> np.ndarray[Any, Any]:
    """A 1-d object array of ``items`` (as Gymnasium keeps ``final_obs``), never stacked."""
    array = np.empty(len(items), dtype=object)
    for index, item in enumerate(items):
        array[index] = item
    return array


def frame(render_mode: str | None, value: Any) -> Any:
    """A rendered frame as the render mode's type: uint8 ndarrays for ``rgb_array``, lists for ``*_list``."""
    if value is None or isinstance(value, str):
        return value
    if render_mode is not None and render_mode.endswith("_list"):
        return [frame(render_mode.removesuffix("_list"), v) for v in value]
    array = np.asarray(value, dtype=np.uint8 if render_mode == "rgb_array" else None)
    return writable(array)


def _reward(value: Any) -> Any:
    if isinstance(value, str):  # a non-finite float over JSON: "NaN", "Infinity", "-Infinity"
        return float(value)
    return batch(value, np.float64) if isinstance(value, (list, np.ndarray)) else value
