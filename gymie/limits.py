"""Bounds on what one request may cost: the size of its params, and of its reply before it is built.

The checks here are cheap on purpose: they walk containers, never the elements of an array, and
stop as soon as the answer is known. ``--max-params-size`` caps env kwargs (a 700x700 FrozenLake
map is a 1 MB request that takes GBs to build); ``--max-reply-size`` caps replies, refused before
they are built when their arrays alone (or a space's bounds) already pass the limit.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from gymnasium.spaces import Box, Dict, Graph, OneOf, Sequence, Space, Tuple

from gymie.encoded import Encoded
from gymie.exceptions import ReplyTooLarge

JSON_ELEMENT = 2
"""The fewest bytes one array element takes in JSON (a digit and a comma); msgpack's is 1."""
_PLAIN = frozenset({int, float, bool, str, type(None)})


def params_size(value: Any, budget: int) -> int:
    """The size of ``value`` about as JSON counts it; counting stops once it passes ``budget``."""
    total, stack = 0, [value]
    while stack and total <= budget:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            total += 2 + 4 * len(item)
            if total <= budget:
                stack.extend(item)
                stack.extend(item.values())
        elif kind is list or kind is tuple:
            total += 2 + 2 * len(item)
            if total <= budget:
                stack.extend(item)
        elif kind is str or kind is bytes:
            total += 2 + len(item)
        elif isinstance(item, np.ndarray):
            total += item.size * JSON_ELEMENT
        else:
            total += 8
    return total


def reply_floor(value: Any, json: bool) -> int:
    """A lower bound of the encoded size of ``value``: its arrays and already encoded parts.

    Long lists whose first item is a plain scalar are taken as lists of scalars (a byte each).
    It runs on every reply, so the common shapes (a step's tuple, an empty info) cost little.
    """
    if isinstance(value, tuple) or type(value) is list:  # a step's result first: it is the usual one
        if len(value) > 16 and type(value[0]) in _PLAIN:
            return len(value)
        items: Any = value
    elif type(value) is dict:
        items = value.values()
    elif isinstance(value, np.ndarray):
        return int(value.size * JSON_ELEMENT if json else value.nbytes)
    elif type(value) is Encoded:
        return int(value.size)
    else:
        return 0
    total = 0
    for item in items:
        kind = type(item)
        if kind in _PLAIN:
            continue
        if kind is np.ndarray:
            total += item.size * JSON_ELEMENT if json else item.nbytes
        elif kind is not dict or item:
            total += reply_floor(item, json)
    return total


def description_floor(space: Space[Any], json: bool) -> int:
    """A lower bound of the encoded size of ``space``'s description: a Box's bounds are listed in full."""
    if isinstance(space, Box):
        return 2 * math.prod(space.shape) * (JSON_ELEMENT if json else 1)
    if isinstance(space, (Tuple, OneOf)):
        return sum(description_floor(s, json) for s in space.spaces)
    if isinstance(space, Dict):
        return sum(description_floor(s, json) for s in space.spaces.values())
    if isinstance(space, Sequence):
        return description_floor(space.feature_space, json)
    if isinstance(space, Graph):
        edges = 0 if space.edge_space is None else description_floor(space.edge_space, json)
        return description_floor(space.node_space, json) + edges
    return 0


def check_reply(size: int, limit: int, method: str, exact: bool = False) -> None:
    """Raise ReplyTooLarge when a reply of ``size`` bytes (at least, unless ``exact``) passes ``limit``.

    ``method`` names the request answered ("" when not known).
    """
    if size > limit:
        raise too_large(size, limit, method, exact)


def too_large(size: int, limit: int, method: str, exact: bool = False) -> ReplyTooLarge:
    """The error for a reply of ``size`` bytes (at least, unless ``exact``) over ``limit``."""
    what = f"the reply to {method}" if method else "the reply"
    least = "" if exact else "at least "
    return ReplyTooLarge(f"{what} would be {least}{size} bytes, more than --max-reply-size {limit}")
