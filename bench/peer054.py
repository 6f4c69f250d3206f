"""Start the PyPI gymie 0.5.4 server (the peer) on 127.0.0.1, an ephemeral port; run it in its own venv.

0.5.4's ``start(host, port)`` binds but cannot report a port chosen by the OS, and its
``__main__`` drops ``--port 0`` on the floor; so this binds with ``eventlet.listen`` and
serves 0.5.4's own WSGI app, ``gymie.server.dispatch``, exactly as ``start`` does
(access log off, as the current server has it).

ALE ids (0.5.4's gym 0.25.2 cannot load today's ROM-bundled ale-py) go through 0.5.4's
documented ``@override("get_env")`` hook: a Gymnasium ALE env behind the old Gym API
(``reset`` -> observation, ``step`` -> 4-tuple). Its default ``process_step``
(``observation.tolist()`` then ``json.dumps``) is untouched, and that is where the time goes.
"""

from __future__ import annotations

import os
import sys
from typing import Any

# Never pick up the gymie being developed in the repository next door.
sys.path[:] = [
    p
    for p in sys.path
    if os.path.abspath(p or ".") != os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
]

import eventlet  # noqa: E402
from eventlet import wsgi  # noqa: E402

import gymie  # noqa: E402
import gymie.api  # noqa: E402
import gymie.server  # noqa: E402

if gymie.__version__ != "0.5.4":
    raise SystemExit(f"peer must be gymie 0.5.4, found {gymie.__version__} at {gymie.__file__}")

_gym_get_env = gymie.api.get_env


class OldApi:
    """A Gymnasium env seen through the Gym <= 0.25 API that 0.5.4 calls."""

    def __init__(self, env: Any) -> None:
        self.env = env
        self.observation_space = env.observation_space
        self.action_space = env.action_space

    def reset(self) -> Any:
        return self.env.reset()[0]

    def step(self, action: Any) -> tuple[Any, Any, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        return obs, float(reward), bool(terminated or truncated), info

    def render(self) -> Any:
        return self.env.render()

    def close(self) -> None:
        self.env.close()


@gymie.override("get_env")
def get_env(env_id: str, seed: int | None = None) -> Any:
    if env_id.startswith("ALE/"):
        import ale_py
        import gymnasium

        gymnasium.register_envs(ale_py)
        return OldApi(gymnasium.make(env_id))
    return _gym_get_env(env_id, seed)


def main() -> None:
    listener = eventlet.listen(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    print(f"gymie {gymie.__version__} listening on ws://127.0.0.1:{port}/gym", flush=True)
    wsgi.server(listener, gymie.server.dispatch, log_output=False)


if __name__ == "__main__":
    main()
