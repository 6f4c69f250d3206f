"""Serve Gym Retro games: the gymie 0.5.4 README's Retro override, on stable-retro.

Run it with ``python -m examples.retro_server``, or load the override into the CLI server
with ``python -m gymie --import examples.retro_server --port 5000``. A client then makes
``{"method": "make", "params": {"env_id": "Airstriker-Genesis-v0"}}``.

What changed from 0.5.4's example, and why:

- ``import stable_retro as retro``: gym-retro is unmaintained and has no wheels for current
  Pythons; stable-retro is its maintained fork (its ``import retro`` alias still works, with a
  DeprecationWarning).
- ``render_mode=None``: stable-retro's default, ``"human"``, opens a window and needs a display.
- Game ids carry a version: ``Airstriker-Genesis-v0`` (0.5.4's ``Airstriker-Genesis`` is not
  found by stable-retro and gets ``Environment `Airstriker-Genesis` not found``).
- ``seed``: Retro envs are Gymnasium envs now, without ``env.seed()``. gymie applies the ``seed``
  given to ``make`` at the first reset and to the action space (``seed=0`` included, which
  0.5.4's ``if seed:`` dropped), so the override only accepts it.
- ``EnvironmentNotFound(env_id)`` names the id (gymie adds it when an override leaves it out).
"""

from __future__ import annotations

import stable_retro as retro

from gymie import override
from gymie.exceptions import EnvironmentNotFound


@override("get_env")
def retro_get_env(env_id: str, seed: int | None = None) -> retro.RetroEnv:
    """Instantiate a Retro game; gymie seeds it at the first reset."""
    try:
        return retro.make(game=env_id, render_mode=None)
    except FileNotFoundError:
        raise EnvironmentNotFound(env_id) from None


if __name__ == "__main__":
    import gymie

    gymie.start("localhost", 5000)
