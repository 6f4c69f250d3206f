"""Stable-Baselines3 PPO learning CartPole from a remote gymie server.

Install PyTorch's CPU build *before* stable-baselines3, or pip pulls a multi-GB CUDA build::

    pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
    pip install stable-baselines3

Then train against a running server, or let the example start one on a free loopback port::

    python -m examples.sb3_ppo_cartpole --url ws://127.0.0.1:5000/gym --timesteps 100000
    python -m examples.sb3_ppo_cartpole --timesteps 100000

The 8 training envs and the evaluation env live on the server; each ``RemoteEnv`` is a
``gymnasium.Env``, so SB3 wraps them like local envs. Hyperparameters are RL Zoo's for CartPole;
about 50,000 steps reach the maximum return of 500.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from stable_baselines3 import PPO
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv

import gymie.client

ENV_ID = "CartPole-v1"
N_ENVS = 8


@contextmanager
def local_server(timeout: float = 30.0) -> Iterator[str]:
    """Run ``python -m gymie`` on a free loopback port; yield its URL, stop it afterwards."""
    cmd = [sys.executable, "-m", "gymie", "--host", "127.0.0.1", "--port", "0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    found: list[str] = []
    ready = threading.Event()

    def drain() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:  # keep reading, so the server never blocks on a full pipe
            match = re.search(r"listening on (ws://\S+)", line)
            if match and not ready.is_set():
                found.append(match.group(1))
                ready.set()

    threading.Thread(target=drain, daemon=True).start()
    try:
        if not ready.wait(timeout):
            raise RuntimeError("the gymie server did not start")
        yield found[0]
    finally:
        proc.terminate()
        proc.wait(timeout)


def train(url: str, timesteps: int, eval_episodes: int, seed: int) -> tuple[float, float]:
    """Train PPO on remote envs; return the mean and std of the evaluation return."""
    with gymie.client.connect(url) as client:
        venv = DummyVecEnv([lambda: Monitor(client.make(ENV_ID)) for _ in range(N_ENVS)])
        venv.seed(seed)
        model = PPO(
            "MlpPolicy",
            venv,
            n_steps=32,
            batch_size=256,
            gae_lambda=0.8,
            gamma=0.98,
            n_epochs=20,
            ent_coef=0.0,
            learning_rate=1e-3,
            clip_range=0.2,
            seed=seed,
            device="cpu",
        )
        model.learn(total_timesteps=timesteps)
        eval_env = Monitor(client.make(ENV_ID))
        mean, std = evaluate_policy(model, eval_env, n_eval_episodes=eval_episodes)
    return float(mean), float(std)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running server's URL (default: start one on loopback)")
    parser.add_argument("--timesteps", type=int, default=100_000)
    parser.add_argument("--eval-episodes", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.url:
        mean, std = train(args.url, args.timesteps, args.eval_episodes, args.seed)
    else:
        with local_server() as url:
            mean, std = train(url, args.timesteps, args.eval_episodes, args.seed)
    print(f"mean reward over {args.eval_episodes} episodes: {mean:.1f} +/- {std:.1f}")


if __name__ == "__main__":
    main()
