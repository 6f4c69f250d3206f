"""Decoded wire values as the values a Gymnasium space expects.

:func:`from_jsonable` turns a decoded action (JSON or msgpack) into the value the space
expects. It checks the form (types, shapes, lossless casts), not membership: the env
decides that. ``gymie.spaces`` exports it beside the space descriptions.
"""

from __future__ import annotations

import functools
import math
import reprlib
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from gymnasium.spaces import (
    Box,
    Dict,
    Discrete,
    Graph,
    GraphInstance,
    MultiBinary,
    MultiDiscrete,
    OneOf,
    Sequence,
    Space,
    Text,
    Tuple,
)

from gymie.codec import NONFINITE


def read_floats(nested: Any) -> Any:
    """Replace the non-finite float strings of a nested list by floats."""
    if isinstance(nested, (list, tuple)):
        return [read_floats(v) for v in nested]
    if isinstance(nested, str):
        if nested not in NONFINITE:
            raise ValueError(f"{reprlib.repr(nested)} is not a number (only {', '.join(NONFINITE)} are)")
        return NONFINITE[nested]
    return nested


@functools.singledispatch
def from_jsonable(space: Space[Any], data: Any) -> Any:
    """Turn decoded JSON or msgpack ``data`` into a value of the form ``space`` expects.

    An ndarray already of the space's dtype (msgpack delivers those) is used as is,
    not copied, so it may be read-only. Whether the value lies *in* the space is
    left to the env.

    Raises:
        ValueError: ``data`` has the wrong shape, length or keys, or values that do
            not convert without loss.
        TypeError: ``data`` has the wrong structure (a list for a dict...).
        NotImplementedError: ``space`` is of a type gymie does not know.
    """
    raise NotImplementedError(f"Unknown space: {space}")


@from_jsonable.register
def _discrete_value(space: Discrete, data: Any) -> Any:
    if type(data) is int and space.dtype == np.int64 and -(2**63) <= data < 2**63:
        # Every discrete env's one-int action, as a JSON client sends it (and 0.5.4 passed it on):
        # Discrete.contains takes a Python int faster than an np.int64.
        return data
    value = _array(data, space.dtype, "Discrete value")
    if value.shape != ():
        raise ValueError(f"Discrete value must be a single integer, got {reprlib.repr(data)}")
    return value[()]


@from_jsonable.register(Box)
@from_jsonable.register(MultiBinary)
@from_jsonable.register(MultiDiscrete)
def _array_value(space: Box | MultiBinary | MultiDiscrete, data: Any) -> np.ndarray[Any, Any]:
    array = _array(
        data, space.dtype, f"{type(space).__name__} value", allow_bool=isinstance(space, MultiBinary)
    )
    if array.shape == space.shape:
        return array
    if array.size == 1 and math.prod(space.shape) == 1:  # a scalar for a one-element space
        return array.reshape(space.shape)
    raise ValueError(f"{type(space).__name__} value has shape {array.shape}, expected {space.shape}")


@from_jsonable.register(Tuple)
def _tuple_value(space: Tuple[Any], data: Any) -> tuple[Any, ...]:
    return tuple(from_jsonable(s, d) for s, d in _pairs(space.spaces, data))


@from_jsonable.register
def _dict_value(space: Dict, data: Any) -> dict[str, Any]:
    return {key: from_jsonable(s, data[key]) for key, s in _same_keys(space, data)}


@from_jsonable.register
def _text_value(space: Text, data: Any) -> str:
    if not isinstance(data, str):
        raise TypeError(f"Text value must be a string, got {type(data).__name__}")
    return str(data)


@from_jsonable.register
def _sequence_value(space: Sequence, data: Any) -> Any:
    if space.stack:
        return _stacked(space.feature_space, data)
    return tuple(from_jsonable(space.feature_space, d) for d in _items(data))


@from_jsonable.register
def _graph_value(space: Graph, data: Any) -> GraphInstance:
    if not isinstance(data, Mapping) or "nodes" not in data:
        raise TypeError("Graph value must be an object with nodes, edges and edge_links")
    nodes = _stacked(space.node_space, data["nodes"])
    edges, links = data.get("edges"), data.get("edge_links")
    if edges is None and links is None:
        return GraphInstance(nodes, None, None)
    if space.edge_space is None or edges is None or links is None:
        raise ValueError("Graph value needs both edges and edge_links, and a Graph with an edge space")
    links = _array(links, np.dtype(np.int32), "Graph edge_links")  # as Graph.sample makes them
    return GraphInstance(nodes, _stacked(space.edge_space, edges), _batch(links, (2,), "Graph edge_links"))


@from_jsonable.register(OneOf)
def _one_of_value(space: OneOf[Any], data: Any) -> tuple[int, Any]:
    index, value = _items(data, 2)
    if type(index) is not int or not 0 <= index < len(space.spaces):
        raise ValueError(f"OneOf index must be an int in [0, {len(space.spaces)}), got {index!r}")
    return index, from_jsonable(space.spaces[index], value)


def _items(data: Any, length: int | None = None) -> list[Any] | tuple[Any, ...]:
    if not isinstance(data, (list, tuple)):
        raise TypeError(f"Expected an array, got {type(data).__name__}")
    if length is not None and len(data) != length:
        raise ValueError(f"Expected an array of {length} items, got {len(data)}")
    return data


def _pairs(spaces: tuple[Space[Any], ...], data: Any) -> zip[tuple[Space[Any], Any]]:
    return zip(spaces, _items(data, len(spaces)), strict=True)


def _same_keys(space: Dict, data: Any) -> Iterable[tuple[str, Space[Any]]]:
    if not isinstance(data, Mapping):
        raise TypeError(f"Dict value must be an object, got {type(data).__name__}")
    if set(data) != set(space.spaces):
        raise ValueError(f"Dict value has keys {sorted(map(str, data))}, expected {sorted(space.spaces)}")
    return space.spaces.items()


def _stacked(space: Space[Any], data: Any) -> Any:
    """Convert a batch of values, stacked as ``gymnasium.vector.utils.concatenate`` stacks them."""
    if isinstance(space, (Box, Discrete, MultiBinary, MultiDiscrete)):
        array = _array(data, space.dtype, f"Batch of {space}", allow_bool=isinstance(space, MultiBinary))
        return _batch(array, space.shape or (), f"Batch of {space}")
    if isinstance(space, Tuple):
        return tuple(_stacked(s, d) for s, d in _pairs(space.spaces, data))
    if isinstance(space, Dict):
        return {key: _stacked(s, data[key]) for key, s in _same_keys(space, data)}
    return tuple(from_jsonable(space, d) for d in _items(data))


def _batch(array: np.ndarray[Any, Any], shape: tuple[int, ...], what: str) -> np.ndarray[Any, Any]:
    if array.shape == (0,):  # [] decodes without the item shape
        return array.reshape((0, *shape))
    if array.shape[1:] != shape:
        raise ValueError(f"{what} has shape {array.shape}, expected (n, *{shape})")
    return array


def _array(data: Any, dtype: np.dtype[Any], what: str, *, allow_bool: bool = False) -> np.ndarray[Any, Any]:
    """Return ``data`` as an array of ``dtype``, refusing any conversion that changes a value."""
    if isinstance(data, np.ndarray) and data.dtype == dtype:
        return data
    try:
        array = np.asarray(data)
    except ValueError as exc:  # ragged nesting
        raise ValueError(f"{what} is not a regular array: {reprlib.repr(data)}") from exc
    if array.dtype.kind in "US" and dtype.kind == "f":
        array = np.asarray(
            read_floats(data.tolist() if isinstance(data, np.ndarray) else data), dtype=np.float64
        )
    kind = array.dtype.kind
    if kind not in "biuf" or (kind == "b" and not allow_bool and dtype.kind != "b"):
        raise ValueError(f"{what} must hold {dtype} numbers, got {reprlib.repr(data)}")
    if kind == "f" and dtype.kind != "f" and not (np.isfinite(array) & (array == np.trunc(array))).all():
        raise ValueError(f"{what} must hold integers, got {reprlib.repr(data)}")
    with np.errstate(over="ignore", invalid="ignore"):
        result = array.astype(dtype, copy=False)
    if dtype.kind != "f" or kind in "iu":  # integers must stay exact (2**24 + 1 has no float32)
        if not (result == array).all():
            raise ValueError(f"{what} is out of range for {dtype}: {reprlib.repr(data)}")
    elif (
        dtype.itemsize < array.dtype.itemsize
        and not np.isfinite(result).all()
        and not np.array_equal(np.isinf(result), np.isinf(array))
    ):
        # A narrower float keeps a value only approximately, but must not turn it into infinity.
        raise ValueError(f"{what} is out of range for {dtype}: {reprlib.repr(data)}")
    return result
