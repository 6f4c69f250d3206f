"""Any value an env returns as plain Python values that :func:`json.dumps` writes as strict JSON.

Arrays become nested lists. Strict JSON has no ``Infinity`` or ``NaN``, so non-finite floats
travel as the *strings* ``"Infinity"``, ``"-Infinity"`` and ``"NaN"`` (JavaScript's ``Number(s)``
reads each back). Map keys are strings, converted the way :func:`json.dumps` converts them. Enum
members travel as their value, UUIDs as their canonical string, a ``GraphInstance`` as
``{"nodes", "edges", "edge_links"}``. :mod:`gymie.json_text` writes the same text faster, and
falls back on this module for what only it gets right.
"""

from __future__ import annotations

import json
import math
from enum import Enum
from typing import Any
from uuid import UUID

import numpy as np
from gymnasium.spaces import GraphInstance

from gymie import encoded
from gymie.encoded import Encoded
from gymie.msgpack_ext import decode_msgpack

NONFINITE: dict[str, float] = {"Infinity": math.inf, "-Infinity": -math.inf, "NaN": math.nan}
"""The strings that stand for non-finite floats in JSON, and their values."""


def jsonable(value: Any) -> Any:
    """Convert ``value`` into plain values that :func:`json.dumps` encodes as strict JSON.

    Raises:
        TypeError: ``value`` holds something with no JSON form.
    """
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        return _float(value)
    if kind is dict:
        return {map_key(k): jsonable(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [jsonable(v) for v in value]
    if kind is np.ndarray:
        return array_jsonable(value)
    if isinstance(value, np.ndarray):
        return array_jsonable(value)
    return _other_jsonable(value)


def _other_jsonable(value: Any) -> Any:
    # Subclasses and rarer types; kept out of jsonable() to keep its fast path short.
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, GraphInstance):
        return jsonable(graph_dict(value))
    if isinstance(value, Enum):  # its value, as json.dumps (and orjson) write an IntEnum or a StrEnum
        return jsonable(value.value)
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {map_key(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, int):  # bool is final: only int subclasses get here
        return int(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, float):
        return _float(float(value))
    if isinstance(value, UUID):  # as orjson writes one
        return str(value)
    if isinstance(value, Encoded):
        return _encoded_jsonable(value)
    raise TypeError(f"{value!r} of type {type(value).__name__} is not JSON serializable")


def _encoded_jsonable(value: Encoded) -> Any:
    data = value.data
    if isinstance(data, str):
        return encoded.splice().json_placeholder(data)
    return jsonable(decode_msgpack(data))  # encoded for msgpack (another session's env, shared): decode it


def _float(value: float) -> float | str:
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"


def nonfinite(nested: Any) -> Any:
    """A float or nested list of floats with each non-finite value as its string."""
    if isinstance(nested, list):
        return [nonfinite(v) for v in nested]
    return _float(nested)


def array_jsonable(array: np.ndarray[Any, Any]) -> Any:
    """An ndarray as nested lists (a 0-d array: a scalar); TypeError for dtypes with no JSON form."""
    kind = array.dtype.kind
    if kind in "biuU":
        return array.tolist()
    if kind == "f":
        # One check for the whole array; the element walk only runs when something is non-finite.
        values = array.tolist()
        return values if _all_finite(array, values) else nonfinite(values)
    if kind == "O":
        return jsonable(array.tolist())
    raise TypeError(f"ndarray of dtype {array.dtype} is not JSON serializable")


def _all_finite(array: np.ndarray[Any, Any], values: Any) -> bool:
    if array.ndim == 1 and array.size <= 64:
        # Cheaper than a NumPy call on a few elements; an inf or NaN anywhere makes the sum
        # non-finite (an overflowing sum only costs the walk, which then changes nothing).
        return math.isfinite(sum(values))
    return bool(np.isfinite(array).all())


def map_key(key: Any) -> str:
    """The key json.dumps would write: ``"true"``, ``"false"``, ``"null"``, ``"Infinity"``; else ``str()``."""
    if isinstance(key, str):
        return key
    if isinstance(key, np.generic):
        key = key.item()
    if key is None or isinstance(key, bool):
        return json.dumps(key)
    if isinstance(key, float) and not math.isfinite(key):
        return str(_float(key))
    return str(key)


def graph_dict(graph: GraphInstance) -> dict[str, Any]:
    """Return a graph instance as ``{"nodes", "edges", "edge_links"}``."""
    return {"nodes": graph.nodes, "edges": graph.edges, "edge_links": graph.edge_links}
