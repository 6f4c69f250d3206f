"""Gymnasium spaces on the wire: descriptions and values.

:func:`describe` gives a JSON-able description of a space and
:func:`from_description` rebuilds an equal space from it. Keys come in a fixed
order because legacy clients compare ``json.dumps`` output byte for byte: the
0.5.4 keys (``name``, ``n``, ``shape``, ``low``, ``high``) first, and anything
0.5.4 never sent (``start``, ``dtype``) only when it differs from the default.
Non-finite bounds are the strings of :data:`gymie.codec.NONFINITE`.

:func:`from_jsonable` turns a decoded action into the value the space expects.
It checks the form (types, shapes, lossless casts), not membership: the env
decides that.
"""

from __future__ import annotations

import functools
import math
import reprlib
from collections.abc import Callable, Iterable, Mapping
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

from gymie.codec import NONFINITE, jsonable

Description = dict[str, Any]


def finite_bounds(desc: Description) -> Description:
    """``desc`` with infinite Box bounds as the dtype's largest finite values, as old Gym declared them.

    0.5.4 clients read bounds as plain numbers (CartPole's velocity bounds were
    ``float32`` max); the legacy protocol sends this form, protocol 2 the exact one.
    """
    if desc.get("name") == "Box":
        big = float(np.finfo(desc.get("dtype", "float32")).max) if desc.get("dtype", "f")[0] == "f" else 0
        swap = {"Infinity": big, "-Infinity": -big}
        return {**desc, "low": _swap(desc["low"], swap), "high": _swap(desc["high"], swap)}
    return {key: _nested_finite(value) for key, value in desc.items()}


def _nested_finite(value: Any) -> Any:
    if isinstance(value, dict):
        return finite_bounds(value) if "name" in value else {k: finite_bounds(v) for k, v in value.items()}
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return [finite_bounds(v) for v in value]
    return value


def _swap(nested: Any, table: dict[str, float]) -> Any:
    if isinstance(nested, list):
        return [_swap(v, table) for v in nested]
    return table.get(nested, nested) if isinstance(nested, str) else nested


@functools.singledispatch
def describe(space: Space[Any]) -> Description:
    """Describe ``space`` as a JSON-able dict, the inverse of :func:`from_description`.

    Raises:
        NotImplementedError: ``space`` is of a type gymie does not know.
    """
    raise NotImplementedError(f"Unknown space: {space}")


@describe.register
def _describe_discrete(space: Discrete) -> Description:
    desc: Description = {"name": "Discrete", "n": int(space.n)}
    if space.start != 0:
        desc["start"] = int(space.start)
    return _with_dtype(desc, space.dtype, "int64")


@describe.register
def _describe_box(space: Box) -> Description:
    # Floats go out as float64 so float32 bounds print like 0.5.4's (-3.4028234663852886e+38).
    as_sent = np.float64 if space.dtype.kind == "f" else space.dtype
    desc: Description = {
        "name": "Box",
        "shape": list(space.shape),
        "low": jsonable(space.low.astype(as_sent)),
        "high": jsonable(space.high.astype(as_sent)),
    }
    return _with_dtype(desc, space.dtype, "float32")


@describe.register
def _describe_multi_binary(space: MultiBinary) -> Description:
    n = space.n if isinstance(space.n, int) else list(space.n)
    return {"name": "MultiBinary", "n": n, "shape": list(space.shape), "low": [0], "high": [1]}


@describe.register
def _describe_multi_discrete(space: MultiDiscrete) -> Description:
    desc: Description = {"name": "MultiDiscrete", "nvec": space.nvec.tolist(), "shape": list(space.shape)}
    if np.any(space.start != 0):
        desc["start"] = space.start.tolist()
    return _with_dtype(desc, space.dtype, "int64")


def _with_dtype(desc: Description, dtype: np.dtype[Any], default: str) -> Description:
    if dtype.name != default:
        desc["dtype"] = dtype.name
    return desc


@describe.register(Tuple)
@describe.register(OneOf)
def _describe_tuple(space: Tuple[Any] | OneOf[Any]) -> Description:
    name = "Tuple" if isinstance(space, Tuple) else "OneOf"
    return {"name": name, "spaces": [describe(s) for s in space.spaces]}


@describe.register
def _describe_dict(space: Dict) -> Description:
    return {"name": "Dict", "spaces": {key: describe(s) for key, s in space.spaces.items()}}


@describe.register
def _describe_text(space: Text) -> Description:
    return {
        "name": "Text",
        "min_length": space.min_length,
        "max_length": space.max_length,
        "charset": "".join(space.character_list),
    }


@describe.register
def _describe_sequence(space: Sequence) -> Description:
    return {"name": "Sequence", "space": describe(space.feature_space), "stack": space.stack}


@describe.register
def _describe_graph(space: Graph) -> Description:
    edge_space = None if space.edge_space is None else describe(space.edge_space)
    return {"name": "Graph", "node_space": describe(space.node_space), "edge_space": edge_space}


def from_description(desc: Mapping[str, Any]) -> Space[Any]:
    """Rebuild the space :func:`describe` described.

    Raises:
        ValueError: ``desc`` names no known space or does not describe a valid one.
    """
    if not isinstance(desc, Mapping):
        raise ValueError(f"A space description must be an object, got {reprlib.repr(desc)}")
    name = desc.get("name")
    build = _BUILDERS.get(name) if isinstance(name, str) else None
    if build is None:
        raise ValueError(f"Unknown space name {name!r} in description {reprlib.repr(desc)}")
    try:
        space = build(desc)
    except KeyError as exc:
        raise ValueError(f"{name} description lacks key {exc}") from exc
    except (TypeError, ValueError, AssertionError) as exc:
        raise ValueError(f"Bad {name} description: {exc}") from exc
    if "shape" in desc and list(space.shape or ()) != desc["shape"]:
        raise ValueError(f"Bad {name} description: shape {desc['shape']} but the space has {space.shape}")
    return space


def _build_box(desc: Mapping[str, Any]) -> Box:
    dtype = np.dtype(desc.get("dtype", "float32"))
    # Bounds already in the space's dtype: Box warns when it has to lower their precision itself.
    low = np.asarray(_floats(desc["low"]), dtype=dtype)
    high = np.asarray(_floats(desc["high"]), dtype=dtype)
    return Box(low=low, high=high, shape=tuple(desc["shape"]), dtype=dtype)


def _build_sequence(desc: Mapping[str, Any]) -> Sequence:
    if not isinstance(desc["stack"], bool):
        raise ValueError(f"stack must be true or false, got {desc['stack']!r}")
    return Sequence(from_description(desc["space"]), stack=desc["stack"])


def _build_graph(desc: Mapping[str, Any]) -> Graph:
    edge_space = None if desc["edge_space"] is None else from_description(desc["edge_space"])
    return Graph(node_space=from_description(desc["node_space"]), edge_space=edge_space)


def _build_dict(desc: Mapping[str, Any]) -> Dict:
    return Dict({key: from_description(d) for key, d in desc["spaces"].items()}, sort_keys=False)


_BUILDERS: dict[str, Callable[[Mapping[str, Any]], Space[Any]]] = {
    "Discrete": lambda d: Discrete(d["n"], start=d.get("start", 0), dtype=d.get("dtype", "int64")),
    "Box": _build_box,
    "MultiBinary": lambda d: MultiBinary(d["n"]),
    "MultiDiscrete": lambda d: MultiDiscrete(d["nvec"], dtype=d.get("dtype", "int64"), start=d.get("start")),
    "Tuple": lambda d: Tuple([from_description(s) for s in d["spaces"]]),
    "Dict": _build_dict,
    "Text": lambda d: Text(d["max_length"], min_length=d["min_length"], charset=d["charset"]),
    "Sequence": _build_sequence,
    "Graph": _build_graph,
    "OneOf": lambda d: OneOf([from_description(s) for s in d["spaces"]]),
}


def _floats(nested: Any) -> Any:
    """Replace the non-finite float strings of a nested list by floats."""
    if isinstance(nested, (list, tuple)):
        return [_floats(v) for v in nested]
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
        array = np.asarray(_floats(data.tolist() if isinstance(data, np.ndarray) else data), dtype=np.float64)
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
