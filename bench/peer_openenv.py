"""OpenEnv (PyPI ``openenv``), the closest living peer: a server and a client worker, in its own venv.

Run with ``bench/.venv-openenv/bin/python`` (``bench/setup_openenv.sh`` makes it)::

    peer_openenv.py server ENV_ID   # an OpenEnv server for one Gymnasium env, 127.0.0.1, port 0
    peer_openenv.py client          # the timed client loop: JSON commands on stdin, samples on stdout

The server is built the way OpenEnv's own template (``openenv init``) and its Atari env do it: an
``Environment`` subclass (``reset``/``step``/``state``) with pydantic ``Action``/``Observation``
models, served by ``openenv.core.env_server.create_app`` (FastAPI + uvicorn, WebSocket at ``/ws``,
one env instance per WebSocket session, each call run in the session's executor). The env is
Gymnasium's (the same CartPole-v1 and ALE/Pong-v5 as every other column); an Atari observation
goes as OpenEnv's Atari env sends it: ``screen`` is the frame flattened to a list of ints, with
``screen_shape``, ``legal_actions``, ``lives`` and frame numbers beside it.

The client is OpenEnv's own ``EnvClient`` (through ``.sync()``, as its template documents), with
``_step_payload``/``_parse_result`` as the template and the Atari client write them: the reply
becomes a pydantic Observation on every step. The client worker takes ``prep`` (connect, which
makes the session's env on the server, and reset: untimed, like ``make``/``reset`` in the other
columns), then ``go`` (warm up, step for the given time resetting on done, close) and answers with
the sample, including the CPU the client process used per step over the timed steps (its
event-loop thread included).
"""

from __future__ import annotations

import json
import math
import os
import socket
import sys
import time
from typing import Any

# Never pick up the gymie being developed in the repository next door.
sys.path[:] = [
    p
    for p in sys.path
    if os.path.abspath(p or ".") != os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
]

import gymnasium  # noqa: E402
from openenv.core import EnvClient  # noqa: E402
from openenv.core.client_types import StepResult  # noqa: E402
from openenv.core.env_server.interfaces import Environment  # noqa: E402
from openenv.core.env_server.types import Action, Observation, State  # noqa: E402
from pydantic import Field  # noqa: E402

try:
    import ale_py

    gymnasium.register_envs(ale_py)
except ImportError:  # CartPole still works
    pass


# -- models (server and client share them, as an OpenEnv env package does) -------------------


class GymAction(Action):
    """A discrete action."""

    action: int = Field(..., description="Index of the action to take")


class VectorObservation(Observation):
    """A Box observation as a list of floats (CartPole)."""

    observation: list[float] = Field(default_factory=list)


class AtariObservation(Observation):
    """As OpenEnv's Atari env: the screen flattened to a list, and its shape."""

    screen: list[int] = Field(default_factory=list)
    screen_shape: list[int] = Field(default_factory=list)
    legal_actions: list[int] = Field(default_factory=list)
    lives: int = 0
    episode_frame_number: int = 0
    frame_number: int = 0


def observation_class(env_id: str) -> type[Observation]:
    return AtariObservation if env_id.startswith("ALE/") else VectorObservation


# -- server -----------------------------------------------------------------------------------


def environment_class(env_id: str) -> type[Environment]:
    atari = env_id.startswith("ALE/")

    class GymnasiumEnvironment(Environment):
        """One Gymnasium env per session."""

        SUPPORTS_CONCURRENT_SESSIONS: bool = True

        def __init__(self) -> None:
            super().__init__()
            self.env = gymnasium.make(env_id)
            self._state = State(step_count=0)
            self._legal = list(range(int(self.env.action_space.n)))  # type: ignore[attr-defined]

        def reset(self, seed: int | None = None, episode_id: str | None = None, **kwargs: Any) -> Observation:
            obs, info = self.env.reset(seed=seed)
            self._state = State(episode_id=episode_id, step_count=0)
            return self._observation(obs, info, 0.0, False)

        def step(self, action: GymAction) -> Observation:  # type: ignore[override]
            obs, reward, terminated, truncated, info = self.env.step(action.action)
            self._state.step_count += 1
            return self._observation(obs, info, float(reward), bool(terminated or truncated))

        def _observation(self, obs: Any, info: dict[str, Any], reward: float, done: bool) -> Observation:
            if atari:
                return AtariObservation(
                    screen=obs.flatten().tolist(),
                    screen_shape=list(obs.shape),
                    legal_actions=self._legal,
                    lives=int(info.get("lives", 0)),
                    episode_frame_number=int(info.get("episode_frame_number", 0)),
                    frame_number=int(info.get("frame_number", 0)),
                    done=done,
                    reward=reward,
                )
            return VectorObservation(observation=obs.tolist(), done=done, reward=reward)

        @property
        def state(self) -> State:
            return self._state

        def close(self) -> None:
            self.env.close()

    return GymnasiumEnvironment


def serve(env_id: str) -> None:
    import openenv
    import uvicorn
    from openenv.core.env_server.http_server import create_app

    app = create_app(
        environment_class(env_id),
        GymAction,
        observation_class(env_id),
        env_name=env_id.replace("/", "_"),
        max_concurrent_envs=8,
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    version = getattr(openenv, "__version__", "?")
    print(f"openenv {version} ({env_id}) listening on ws://127.0.0.1:{port}/ws", flush=True)
    uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False)).run(sockets=[sock])


# -- client -----------------------------------------------------------------------------------


def client_class(env_id: str) -> type[EnvClient[Any, Any, Any]]:
    obs_cls = observation_class(env_id)

    class GymnasiumEnv(EnvClient[GymAction, Observation, State]):
        def _step_payload(self, action: GymAction) -> dict[str, Any]:
            return {"action": action.action}

        def _parse_result(self, payload: dict[str, Any]) -> StepResult[Observation]:
            obs_data = payload.get("observation", {})
            observation = obs_cls(
                **obs_data,
                done=payload.get("done", False),
                reward=payload.get("reward"),
            )
            return StepResult(
                observation=observation, reward=payload.get("reward"), done=payload.get("done", False)
            )

        def _parse_state(self, payload: dict[str, Any]) -> State:
            return State(**payload)

    return GymnasiumEnv


def percentile(values: list[int], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000.0


def prep(command: dict[str, Any]) -> Any:
    """Connect (the server makes the session's env) and reset: not part of the timed run."""
    env = client_class(command["env_id"])(base_url=command["url"].removesuffix("/ws")).sync()
    env.connect()
    env.reset(seed=0)
    return env


def run(env: Any, command: dict[str, Any]) -> dict[str, Any]:
    """Warm up, step for ``seconds``; the sample as ``bench/loads.py`` counts it."""
    import random

    rng = random.Random(0)
    actions = [GymAction(action=rng.randrange(command["n_actions"])) for _ in range(4096)]
    with env:
        for i in range(command["warmup"]):
            if env.step(actions[i % len(actions)]).done:
                env.reset()
        latencies: list[int] = []
        clock = time.perf_counter_ns
        cpu0 = time.process_time()
        start = time.perf_counter()
        deadline = start + command["seconds"]
        steps = calls = 0
        while steps < command["max_steps"] and (
            steps < command["min_steps"] or time.perf_counter() < deadline
        ):
            t0 = clock()
            done = env.step(actions[steps % len(actions)]).done
            latencies.append(clock() - t0)
            steps += 1
            calls += 1
            if done:
                env.reset()
                calls += 1
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu0
    return {
        "steps": steps,
        "seconds": elapsed,
        "calls": calls,
        "p50_us": percentile(latencies, 0.5),
        "p99_us": percentile(latencies, 0.99),
        "client_cpu": cpu / max(calls, 1) * 1e6,
    }


def client_worker() -> None:
    """``prep`` (connect, reset), then ``go`` (warm-up and timed run, then close); ``quit``."""
    env: Any = None
    command: dict[str, Any] = {}
    for line in sys.stdin:
        message = json.loads(line)
        try:
            if message["cmd"] == "prep":
                command = message
                env = prep(command)
                answer: dict[str, Any] = {"ok": True}
            elif message["cmd"] == "go":
                answer = {"ok": True, **run(env, command)}
                env = None
            else:
                break
        except Exception as exc:  # reported to bench/run.py, which notes the cell
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["server"] and len(sys.argv) == 3:
        serve(sys.argv[2])
    elif sys.argv[1:] == ["client"]:
        client_worker()
    else:
        raise SystemExit(__doc__)
