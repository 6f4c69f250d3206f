"""Methods that describe rather than act (protocol 2): ``env_info``, ``list_envs``, ``server_info``."""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any

from gymie import __version__, vector
from gymie.codec import jsonable
from gymie.envs import catalog
from gymie.exceptions import InvalidParams
from gymie.excerpts import excerpt
from gymie.methods.context import Context
from gymie.protocol import SUBPROTOCOLS
from gymie.settings import Settings


def env_info(ctx: Context, instance_id: Any) -> dict[str, Any]:
    """What a client needs to stand in for the env, and where the env runs.

    Its id, render mode, metadata, spec and batch size; ``node_id`` (a Ray node, else None),
    ``hostname`` and ``pid`` of the process it lives in (``shards``: one such entry per shard).
    """
    instance = ctx.instance(instance_id)
    env, adapter = instance.env, instance.adapter
    spec = getattr(env, "spec", None)
    render_mode = getattr(env, "render_mode", None)
    info: dict[str, Any] = {
        "env_id": getattr(spec, "id", None),
        "render_mode": render_mode if isinstance(render_mode, str) else None,
        "metadata": plain_metadata(getattr(env, "metadata", None) or {}),
        "spec": None,
        "num_envs": None,
        "autoreset_mode": None,
        **adapter.location(),
    }
    if spec is not None:
        keys = ("id", "nondeterministic", "max_episode_steps", "reward_threshold")
        info["spec"] = plain_metadata({key: getattr(spec, key, None) for key in keys})
    if vector.is_vector(adapter):
        info["num_envs"] = getattr(adapter, "num_envs", None)
        info["autoreset_mode"] = getattr(adapter, "autoreset_mode", None)
    return info


def plain_metadata(metadata: Any) -> dict[str, Any]:
    """The JSON-able entries of an env's metadata (enums as their values); the rest is left out."""
    plain: dict[str, Any] = {}
    for key, value in dict(metadata).items():
        try:
            plain[str(key)] = jsonable(value.value if isinstance(value, Enum) else value)
        except TypeError:
            continue
    return plain


def list_envs(ctx: Context, all: Any = False) -> list[Any]:
    """The env ids this server can make (allowed, dependencies installed), sorted.

    With ``all=True``: every allowed registered id as ``{"id", "available", "needs"}``, where
    ``needs`` says what to install (None when available).
    """
    if not isinstance(all, bool):
        raise InvalidParams({"all": all}, detail=f"all must be true or false, got {excerpt(all, 40)}")
    entries = catalog(ctx.settings)
    return entries if all else [entry["id"] for entry in entries if entry["available"]]


def server_info(ctx: Context) -> dict[str, Any]:
    """The server's version, protocols, encodings, WebSocket subprotocols, methods and limits."""
    return {
        "version": __version__,
        "protocols": ["gymie-0.5.4", "jsonrpc-2.0"],
        "encodings": ["json", "msgpack"],
        "subprotocols": list(SUBPROTOCOLS),
        "methods": sorted(ctx.methods),
        "limits": _operator_limits(ctx.settings),
    }


def _operator_limits(settings: Settings) -> dict[str, Any]:
    """The operator's numeric limits: every ``max_*`` and ``*_timeout`` setting (never secrets)."""
    found: dict[str, Any] = {}
    for field in dataclasses.fields(settings):
        value = getattr(settings, field.name)
        numeric = value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))
        if numeric and (field.name.startswith("max_") or field.name.endswith("_timeout")):
            found[field.name] = value
    return found
