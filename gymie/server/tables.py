"""Rows of the dashboard's tables: connections and instances as plain JSON-able dicts (no eventlet)."""

from __future__ import annotations

from typing import Any

from gymie.core import Session
from gymie.registry import Instance, InstanceStats
from gymie.server.frames import render_mode


def env_id(instance: Instance) -> str | None:
    """The id the env was made with (``CartPole-v1 x3`` for a vector env), else its spec's id."""
    if instance.env_id is not None:
        return instance.env_id
    spec_id = getattr(getattr(instance.env, "spec", None), "id", None)
    return spec_id if isinstance(spec_id, str) else None


def number(value: Any) -> float | None:
    """A plain float (the codec writes non-finite ones as JSON can), or None."""
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def stats_row(stats: InstanceStats, steps_per_s: float | None) -> dict[str, Any]:
    """An instance's counters, as the tables and frames show them."""
    return {
        "steps": stats.steps,
        "episodes": stats.episodes,
        "reward": number(stats.reward),
        "episode_return": number(stats.episode_return),
        "last_return": number(stats.last_return),
        "steps_per_s": steps_per_s,
    }


def instance_row(
    instance_id: str, instance: Instance, now: float, steps_per_s: float | None
) -> dict[str, Any]:
    """One row of the instances table."""
    return {
        "id": instance_id,
        "env_id": env_id(instance),
        "owner": instance.owner,
        "age": round(now - instance.created, 1),
        "render_mode": render_mode(instance),
        "num_envs": getattr(instance.adapter, "num_envs", None),
        **stats_row(instance.stats, steps_per_s),
    }


def session_protocol(session: Session, messages: int) -> str:
    """How a ``/gym`` connection speaks, as far as it has shown."""
    if session.msgpack:
        return "json-rpc (msgpack)"
    if session.rpc:
        return "json-rpc"
    return "0.5.4" if messages else "-"


def peer_address(ws: Any) -> str:
    """``host:port`` of the other end."""
    environ = getattr(ws, "environ", {}) or {}
    host, port = environ.get("REMOTE_ADDR", "?"), environ.get("REMOTE_PORT", "?")
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"


def connection_row(
    conn_id: Any,
    ws: Any,
    protocol: str,
    opened: float,
    requests: int,
    now: float,
    rate: float | None,
    owned: dict[Any, int],
) -> dict[str, Any]:
    """One row of the connections table."""
    return {
        "id": conn_id,
        "peer": peer_address(ws),
        "protocol": protocol,
        "age": round(now - opened, 1),
        "requests": requests,
        "requests_per_s": rate,
        "instances": owned.get(conn_id, 0),
    }
