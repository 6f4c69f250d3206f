"""An ``@override('get_env')`` serving OpenAI Gym 0.26 envs, for ``--import`` in the legacy venv.

gymie's adapter turns gym 0.26 envs and spaces into Gymnasium ones, so 0.5.4 clients see the
same protocol. Each make logs ``gym <version> made <id>`` so a test can tell gym made the env.
"""

from __future__ import annotations

import logging
from typing import Any

import gym

from gymie import override
from gymie.exceptions import EnvironmentMalformed, EnvironmentNotFound

log = logging.getLogger("gymie")


@override("get_env")
def gym_get_env(env_id: str, seed: int | None = None, **kwargs: Any) -> gym.Env:
    """``gym.make``; gymie applies ``seed`` at the first reset."""
    try:
        env = gym.make(env_id, **kwargs)
    except gym.error.UnregisteredEnv:
        raise EnvironmentNotFound(env_id) from None
    except gym.error.Error:
        raise EnvironmentMalformed(env_id) from None
    log.info("gym %s made %s", gym.__version__, env_id)
    return env
