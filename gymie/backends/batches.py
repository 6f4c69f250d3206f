"""Batches of a sharded vector env: split one batch of actions, join the shards' batches back.

A vector env of N sub-envs run as K shards answers as one: shard ``i`` holds sub-envs
``offset_i .. offset_i + size_i``. Batches follow Gymnasium's layout (``batch_space``): a
fundamental space batches into one array with the sub-envs on the first axis, a ``Dict`` or
``Tuple`` batches member by member, and any other space (``Text``, ``Graph``, ``Sequence``,
``OneOf``) into a tuple of per-env items. Infos are merged as ``VectorEnv._add_info`` builds
them: each key an array over all sub-envs, with its ``_key`` mask; a key a shard lacks is
zeros (``False`` for masks, ``None`` for lists of objects) over that shard's sub-envs.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import spaces

FUNDAMENTAL = (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)


def split(space: spaces.Space[Any], batch: Any, sizes: Sequence[int]) -> list[Any]:
    """One batch (of ``sum(sizes)`` sub-envs, laid out for ``space``) cut into one per shard."""
    if isinstance(space, spaces.Dict):
        parts = {key: split(sub, batch[key], sizes) for key, sub in space.spaces.items()}
        return [{key: parts[key][i] for key in space.spaces} for i in range(len(sizes))]
    if isinstance(space, spaces.Tuple):
        columns = [split(sub, item, sizes) for sub, item in zip(space.spaces, batch, strict=True)]
        return [tuple(column[i] for column in columns) for i in range(len(sizes))]
    cuts = list(itertools.accumulate(sizes))
    if not isinstance(space, FUNDAMENTAL):
        batch = tuple(batch)
    return [batch[stop - size : stop] for size, stop in zip(sizes, cuts, strict=True)]


def concat(space: spaces.Space[Any], parts: Sequence[Any]) -> Any:
    """The shards' batches (laid out for ``space``, the single env's space) as one batch."""
    if isinstance(space, spaces.Dict):
        return {key: concat(sub, [part[key] for part in parts]) for key, sub in space.spaces.items()}
    if isinstance(space, spaces.Tuple):
        return tuple(concat(sub, [part[i] for part in parts]) for i, sub in enumerate(space.spaces))
    if isinstance(space, FUNDAMENTAL):
        return np.concatenate(parts)
    return tuple(itertools.chain.from_iterable(parts))


def concat_arrays(parts: Sequence[Any]) -> np.ndarray[Any, Any]:
    """Rewards, terminations or truncations of every shard, in sub-env order."""
    return np.concatenate(parts)


def merge_infos(infos: Sequence[dict[str, Any]], sizes: Sequence[int]) -> dict[str, Any]:
    """The shards' vector infos as the one info of a vector env of all their sub-envs."""
    keys = dict.fromkeys(key for info in infos for key in info)
    merged: dict[str, Any] = {}
    for key in keys:
        values = [info.get(key) for info in infos]
        template = next((value for value in values if value is not None), None)
        if isinstance(template, dict):
            merged[key] = merge_infos([value or {} for value in values], sizes)
        elif isinstance(template, np.ndarray):
            merged[key] = np.concatenate(
                [
                    value if value is not None else np.zeros((size, *template.shape[1:]), template.dtype)
                    for value, size in zip(values, sizes, strict=True)
                ]
            )
        else:  # a list: object arrays travel as lists (gymie.vector.plain_info)
            merged[key] = [
                item for value, size in zip(values, sizes, strict=True) for item in _items(value, size)
            ]
    return merged


def _items(value: Any, size: int) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value] * size  # None where the shard lacks the key


def concat_frames(parts: Sequence[Any]) -> Any:
    """The shards' ``render()`` results: one tuple of frames, or None when no shard renders."""
    if all(part is None for part in parts):
        return None
    return tuple(itertools.chain.from_iterable(part or () for part in parts))
