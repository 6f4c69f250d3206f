"""Serve Unity ML-Agents games: the gymie 0.5.4 README's Unity override, on mlagents_envs 1.x.

A client makes ``{"method": "make", "params": {"env_id": "/path/to/Game.x86_64",
"worker_id": 1, "no_graphics": true}}``: ``env_id`` is the path of a built Unity game, and
the other params are the keyword arguments of :func:`unity_get_env`. Run it with
``python -m examples.unity_server``, or ``python -m gymie --import examples.unity_server``.

What changed from 0.5.4's example, and why:

- The gym wrapper moved: the ``gym-unity`` package (``gym_unity.envs.UnityToGymWrapper``) was
  folded into ``mlagents_envs`` in 0.30.0, and mlagents_envs 1.x provides it as
  ``mlagents_envs.envs.unity_gym_env.UnityToGymWrapper``. It still speaks the old Gym API
  (observation-only ``reset``, 4-tuple ``step``), which gymie's adapter handles.
- mlagents_envs is imported inside ``unity_get_env``, so importing this module (and starting
  the server) does not need it until an env is made.
- ``UnityEnvironment``'s ``seed`` is an int (default 0); 0.5.4 passed ``None`` through.
- ``EnvironmentNotFound(file_name)`` names the path that was not found.

``unity_process_step`` is 0.5.4's, unchanged: the wrapper's ``info`` holds ML-Agents objects
that have no JSON form, so it sends ``{}``; the reward is a NumPy float32.
"""

from __future__ import annotations

from typing import Any

from gymie import override
from gymie.exceptions import EnvironmentNotFound


@override("get_env")
def unity_get_env(
    file_name: str,
    seed: int | None = None,
    worker_id: int = 0,
    no_graphics: bool = False,
    uint8_visual: bool = False,
    flatten_branched: bool = False,
    allow_multiple_obs: bool = False,
) -> Any:
    """Launch the Unity game at ``file_name`` and wrap it as a Gym env."""
    from mlagents_envs.environment import UnityEnvironment, UnityEnvironmentException
    from mlagents_envs.envs.unity_gym_env import UnityToGymWrapper

    try:
        unity_env = UnityEnvironment(
            file_name, seed=0 if seed is None else seed, worker_id=worker_id, no_graphics=no_graphics
        )
        return UnityToGymWrapper(
            unity_env,
            uint8_visual=uint8_visual,
            flatten_branched=flatten_branched,
            allow_multiple_obs=allow_multiple_obs,
        )
    except UnityEnvironmentException:
        raise EnvironmentNotFound(file_name) from None


@override("process_step")
def unity_process_step(
    step: tuple[Any, Any, bool, dict[str, Any]],
) -> tuple[Any, float, bool, dict[str, Any]]:
    """Send the observation as a list, the reward as a float, and no info."""
    observation, reward, done, info = step
    return observation.tolist(), float(reward), done, {}


if __name__ == "__main__":
    import gymie

    gymie.start("localhost", 5000)
