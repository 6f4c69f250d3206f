"""What the server sends: a core Reply on a WebSocket, and plain HTTP responses (no eventlet here)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gymie.protocol import Reply
from gymie.replies import whole
from gymie.server import security

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
"""WSGI's ``start_response``."""


def apply(reply: Reply, ws: Any) -> bool:
    """Send a Reply's frames, then close if it says so; return True once the socket is closed."""
    send = getattr(ws, "send_message", None)  # gymie's WebSocket; 0.5.4's API takes any ws
    for frame in reply.frames:
        if send is not None:
            send(frame)
        else:
            ws.send(whole(frame))
    if reply.close is not None:
        ws.close(reply.close)
        return True
    return False


def respond(
    start_response: StartResponse,
    status: str,
    body: bytes,
    content_type: str = "text/plain",
    headers: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    """Start a response with ``Content-Type`` and ``headers``; ``body`` is all of it."""
    start_response(status, [("Content-Type", content_type), *(headers or [])])
    return [body]


def refuse(start_response: StartResponse, refusal: security.Refusal) -> list[bytes]:
    """Answer with a refusal of :mod:`gymie.server.security` (401, 403...)."""
    start_response(refusal.status, list(refusal.headers))  # eventlet adds Connection: close
    return [refusal.body]
