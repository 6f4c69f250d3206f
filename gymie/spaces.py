"""Gymnasium spaces on the wire: descriptions (and, from ``gymie.values``, values).

:func:`describe` gives a JSON-able description of a space and
:func:`from_description` rebuilds an equal space from it. Keys come in a fixed
order because legacy clients compare ``json.dumps`` output byte for byte: the
0.5.4 keys (``name``, ``n``, ``shape``, ``low``, ``high``) first, and anything
0.5.4 never sent (``start``, ``dtype``) only when it differs from the default.
Non-finite bounds are the strings of :data:`gymie.codec.NONFINITE`.

:func:`from_jsonable` (defined in :mod:`gymie.values`) turns a decoded action
into the value the space expects.
"""

from __future__ import annotations

import functools
import reprlib
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from gymnasium.spaces import (
    Box,
    Dict,
    Discrete,
    Graph,
    MultiBinary,
    MultiDiscrete,
    OneOf,
    Sequence,
    Space,
    Text,
    Tuple,
)

from gymie.codec import jsonable
from gymie.values import from_jsonable, read_floats

__all__ = ["Description", "describe", "finite_bounds", "from_description", "from_jsonable"]

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
    low = np.asarray(read_floats(desc["low"]), dtype=dtype)
    high = np.asarray(read_floats(desc["high"]), dtype=dtype)
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
