"""A random agent playing CartPole on a running gymie server.

Start a server, then run the agent::

    python -m gymie --port 5000
    python -m examples.random_agent ws://127.0.0.1:5000/gym --episodes 3

Each episode's return is printed. The env is a real ``gymnasium.Env``: its action space is
rebuilt from the server's description, so ``env.action_space.sample()`` is a valid action.
"""

from __future__ import annotations

import argparse

import gymie.client


def play(url: str, env_id: str, episodes: int, seed: int | None) -> list[float]:
    """Play ``episodes`` episodes with random actions; return their returns."""
    returns = []
    with gymie.client.connect(url) as client:
        env = client.make(env_id)
        env.action_space.seed(seed)
        for episode in range(episodes):
            env.reset(seed=None if seed is None else seed + episode)
            total, done = 0.0, False
            while not done:
                _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
                total += float(reward)
                done = terminated or truncated
            returns.append(total)
            print(f"episode {episode + 1}: return {total:g}")
    return returns


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "url", nargs="?", default="ws://127.0.0.1:5000/gym", help="server (default: %(default)s)"
    )
    parser.add_argument("--env", default="CartPole-v1", help="env id (default: %(default)s)")
    parser.add_argument("--episodes", type=int, default=5)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    returns = play(args.url, args.env, args.episodes, args.seed)
    print(f"mean return over {len(returns)} episodes: {sum(returns) / len(returns):g}")


if __name__ == "__main__":
    main()
