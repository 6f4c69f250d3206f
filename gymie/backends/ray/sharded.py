"""One vector env run as K actors (``make_vec(num_shards=K)``): :class:`ShardedEnv`.

Each shard is a Gymnasium vector env of some of the sub-envs, in its own actor. A call is sent
to every shard before waiting for any, so the shards compute in parallel (on as many cores or
hosts as they landed on); the replies are joined in sub-env order (``gymie.backends.batches``).
Seeds follow Gymnasium's sync and async vector envs: shard ``i`` is seeded with ``seed +
offset_i``, so its sub-env ``j`` gets ``seed + offset_i + j``, as in one vector env of them all.
When one shard fails the whole env is gone: every shard is killed and the error raised.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from gymnasium.vector.utils import batch_space

from gymie.backends import batches
from gymie.backends.ray.waker import Runtime
from gymie.backends.remote import rebuild
from gymie.compat import EnvAdapter
from gymie.exceptions import StepTimeout, WorkerCrashed

if TYPE_CHECKING:  # no Ray at run time: the tests give it stand-in shards
    from gymie.backends.ray.proxy import ActorEnv


class ShardedEnv(EnvAdapter):
    """An EnvAdapter over a vector env split into shards; built by ``RayBackend.start_shards``."""

    def __init__(self, shards: Sequence[ActorEnv], runtime: Runtime, timeout: float | None) -> None:
        first = shards[0]
        self.env = self
        self.shards = list(shards)
        self.timeout = timeout
        self.sizes = [int(shard.num_envs) for shard in shards]
        self.offsets = [0, *itertools.accumulate(self.sizes)][:-1]
        self.num_envs = sum(self.sizes)
        self.single_observation_space = first.single_observation_space
        self.single_action_space = first.single_action_space
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        for name in ("vectorization_mode", "autoreset_mode", "metadata", "render_mode", "spec"):
            with contextlib.suppress(AttributeError):
                setattr(self, name, getattr(first, name))
        self._lock = runtime.lock()
        self._failure = ""
        self._observation_space: Any = None

    @property
    def observation_space(self) -> Any:
        """The batch of every sub-env's observation space, built when first asked for (it may be big)."""
        if self._observation_space is None:
            self._observation_space = batch_space(self.single_observation_space, self.num_envs)
        return self._observation_space

    @observation_space.setter
    def observation_space(self, space: Any) -> None:
        self._observation_space = space

    def describe_space(self, name: str, wire: str, limit: int) -> Any:
        """A space's description, described and encoded by the first shard (the batch: of all sub-envs)."""
        if name.startswith("single_"):
            return self.shards[0].describe_space(name, wire, limit)
        return self.shards[0].describe_space(name, wire, limit, num_envs=self.num_envs)

    @property
    def dead(self) -> bool:
        """Whether a shard died (the env is gone as a whole)."""
        return any(shard.dead for shard in self.shards)

    @property
    def exit_reason(self) -> str:
        """Why the shard that failed first died."""
        return self._failure or next((f"shard {s.name} {s.exit_reason}" for s in self.shards if s.dead), "")

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset every shard, shard ``i`` with ``seed + offset_i``; a ``reset_mask`` option is split too."""
        calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
        for offset, mask in zip(self.offsets, self._split_mask(options), strict=True):
            shard_options = options if mask is None else {**(options or {}), "reset_mask": mask}
            calls.append(((), {"seed": None if seed is None else seed + offset, "options": shard_options}))
        replies = self._all("reset", calls)
        observation = batches.concat(self.single_observation_space, [r[0] for r in replies])
        return observation, batches.merge_infos([r[1] for r in replies], self.sizes)

    def step(self, action: Any) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        """Step every shard with its part of the batch of actions; join the batches."""
        parts = batches.split(self.single_action_space, action, self.sizes)
        replies = self._all("step", [((part,), {}) for part in parts])
        observation = batches.concat(self.single_observation_space, [r[0] for r in replies])
        rewards, terminated, truncated = (batches.concat_arrays([r[i] for r in replies]) for i in (1, 2, 3))
        return (
            observation,
            rewards,
            terminated,
            truncated,
            batches.merge_infos([r[4] for r in replies], self.sizes),
        )

    def sample_action(self) -> Any:
        """A batch of actions, each shard sampling its own."""
        return batches.concat(
            self.single_action_space, self._all("sample_action", [((), {})] * len(self.shards))
        )

    def render(self) -> Any:
        """Every sub-env's frame, in order (None when the shards do not render)."""
        return batches.concat_frames(self._all("render", [((), {})] * len(self.shards)))

    def location(self) -> dict[str, Any]:
        """The first shard's node, host and pid, and under ``shards`` each shard's."""
        return {**self.shards[0].location(), "shards": [shard.location() for shard in self.shards]}

    def close(self) -> None:
        """Close every shard (each kills its actor); the first error is raised after all are closed."""
        errors = []
        for shard in self.shards:
            try:
                shard.close()
            except Exception as exc:
                errors.append(exc)
        if errors:
            raise errors[0]

    def _all(self, method: str, calls: Sequence[tuple[tuple[Any, ...], dict[str, Any]]]) -> list[Any]:
        """Send ``method`` to every shard, then gather the replies under one deadline."""
        with self._lock:
            try:
                refs = [
                    shard.submit(method, args, kwargs)
                    for shard, (args, kwargs) in zip(self.shards, calls, strict=True)
                ]
                deadline = None if self.timeout is None else time.monotonic() + self.timeout
                replies = []
                for shard, ref in zip(self.shards, refs, strict=True):
                    left = None if deadline is None else max(0.0, deadline - time.monotonic())
                    replies.append(shard.collect(ref, left))
            except (WorkerCrashed, StepTimeout):
                failed = next((shard for shard in self.shards if shard.dead), None)
                self._failure = f"shard {failed.name} {failed.exit_reason}" if failed else "failed"
                for shard in self.shards:
                    shard.kill("was killed with its sibling shards")
                raise
        for ok, payload in replies:
            if not ok:
                raise rebuild(payload)
        return [payload for _, payload in replies]

    def _split_mask(self, options: dict[str, Any] | None) -> list[Any]:
        mask = None if options is None else options.get("reset_mask")
        if mask is None:
            return [None] * len(self.shards)
        flat = np.asarray(mask)
        return [flat[offset : offset + size] for offset, size in zip(self.offsets, self.sizes, strict=True)]
