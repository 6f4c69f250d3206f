"""The per-instance statistics the step path keeps for the dashboard (registry.InstanceStats)."""

from __future__ import annotations

import json
import timeit
from typing import Any

import numpy as np
import pytest

from gymie.registry import RECENT_RETURNS, InstanceStats
from tests.support import new_dispatcher

pytestmark = pytest.mark.filterwarnings("ignore:.*WARN:UserWarning")


def test_scalar_steps_episodes_and_returns() -> None:
    stats = InstanceStats()
    for reward, done in [(1.0, False), (2.0, False), (0.5, True), (3.0, False)]:
        stats.record(reward, done, False)
    assert (stats.steps, stats.episodes, stats.last_return, stats.episode_return) == (4, 1, 3.5, 3.0)
    stats.record(np.float32(1.0), False, True)  # truncated also ends the episode; NumPy rewards add up
    assert (stats.episodes, stats.last_return, list(stats.returns)) == (2, 4.0, [3.5, 4.0])
    assert stats.reward == 1.0


def test_a_reset_drops_the_running_episode_without_counting_it() -> None:
    stats = InstanceStats()
    stats.record(5.0, False, False)
    stats.restart()
    stats.record(1.0, True, False)
    assert (stats.episodes, stats.last_return) == (1, 1.0)


def test_only_the_recent_returns_are_kept() -> None:
    stats = InstanceStats()
    for i in range(RECENT_RETURNS + 10):
        stats.record(float(i), True, False)
    assert len(stats.returns) == RECENT_RETURNS and stats.returns[-1] == RECENT_RETURNS + 9


def test_a_reward_that_is_not_a_number_never_fails_the_step() -> None:
    stats = InstanceStats()
    stats.record({"not": "a number"}, False, False)
    stats.record(None, True, False)
    assert stats.reward is None and stats.steps == 2


def test_vector_batches_count_every_sub_env() -> None:
    stats = InstanceStats()
    no = np.zeros(3, bool)
    stats.record(np.array([1.0, 2.0, 3.0]), no, no)
    stats.record(np.array([1.0, 1.0, 1.0]), np.array([False, True, False]), no)
    assert (stats.steps, stats.episodes, stats.last_return, stats.reward) == (6, 1, 3.0, 1.0)
    stats.record(np.array([1.0, 1.0, 1.0]), no, np.array([True, False, True]))
    assert stats.episodes == 3 and list(stats.returns) == [3.0, 3.0, 5.0]
    assert stats.episode_return == 0.0  # sub-env 0's running return, just restarted


def test_recording_a_step_costs_well_under_a_microsecond() -> None:
    stats = InstanceStats()
    n = 100_000
    best = min(timeit.repeat(lambda: stats.record(1.0, False, False), number=n, repeat=5)) / n
    assert best < 1e-6, f"{best * 1e6:.2f} µs a step"


def test_steps_and_resets_through_the_dispatcher_update_the_instance() -> None:
    dispatcher = new_dispatcher()
    session = dispatcher.open_session()

    def call(method: str, **params: Any) -> Any:
        message = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        return json.loads(dispatcher.handle(json.dumps(message), session).frames[0]).get("result")

    instance_id = call("make", env_id="CartPole-v1", seed=0)["instance_id"]
    call("reset", instance_id=instance_id)
    done = False
    while not done:
        result = call("step", instance_id=instance_id, action=1)
        done = result["terminated"] or result["truncated"]
    stats = dispatcher.envs.instance(instance_id).stats
    assert stats.episodes == 1 and stats.last_return == stats.steps > 0
    assert call("step", instance_id=instance_id, action=7) is None  # an action refused: not a step
    call("reset", instance_id=instance_id)
    assert stats.episode_return == 0.0 and stats.steps == stats.last_return
