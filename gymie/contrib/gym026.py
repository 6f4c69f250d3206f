"""Serve OpenAI Gym 0.26 envs: an ``@override('get_env')`` that calls ``gym.make``.

Use it in a virtualenv of its own (gym 0.26 needs ``numpy<2``)::

    pip install ".[gym]"        # from a clone of gymie
    gymie --import gymie.contrib.gym026

gymie's adapter turns gym 0.26 envs and spaces into Gymnasium ones, so clients see the same
protocol. Each make logs ``gym <version> made <id>`` at DEBUG.
"""

from __future__ import annotations

import logging
from typing import Any

import gym

from gymie.api import override
from gymie.exceptions import EnvironmentMalformed, EnvironmentNotFound

log = logging.getLogger("gymie")


@override("get_env")
def gym_get_env(env_id: str, seed: int | None = None, **kwargs: Any) -> Any:
    """``gym.make``; gymie applies ``seed`` at the first reset."""
    try:
        env = gym.make(env_id, **kwargs)
    except gym.error.UnregisteredEnv:
        raise EnvironmentNotFound(env_id) from None
    except gym.error.Error:
        raise EnvironmentMalformed(env_id) from None
    log.debug("gym %s made %s", gym.__version__, env_id)
    return env
