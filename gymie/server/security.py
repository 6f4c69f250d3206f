"""Who may connect: the token and Origin checks of a handshake, and start-up warnings (I/O-free).

- ``--token``: the handshake carries ``Authorization: Bearer <token>`` or, for browsers (which
  cannot set headers on a WebSocket), ``?token=<token>``; else HTTP 401. Compared in constant time.
- ``--allowed-origins``: a handshake with an ``Origin`` header (browsers always send one) must
  name a listed origin, else HTTP 403: otherwise any web page a user visits could drive a
  server on their machine. Clients that send no Origin (agents, scripts) are not affected.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from gymie.settings import Settings

TOKEN_ENV = "GYMIE_TOKEN"
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


@dataclass(frozen=True)
class Refusal:
    """The HTTP answer to a handshake that may not proceed."""

    status: str
    headers: list[tuple[str, str]]
    body: bytes


UNAUTHORIZED = Refusal(
    "401 Unauthorized",
    [("WWW-Authenticate", 'Bearer realm="gymie"'), ("Content-Type", "text/plain")],
    b"A valid token is required (Authorization: Bearer <token>, or ?token=<token>).",
)
FORBIDDEN_ORIGIN = Refusal(
    "403 Forbidden", [("Content-Type", "text/plain")], b"This Origin is not allowed to connect."
)


def check_handshake(environ: Mapping[str, Any], settings: Settings) -> Refusal | None:
    """The refusal for a WebSocket handshake, or None when it may proceed."""
    if settings.token is not None and not token_ok(environ, settings.token):
        return UNAUTHORIZED
    if settings.allowed_origins is not None and not origin_ok(
        environ.get("HTTP_ORIGIN"), settings.allowed_origins
    ):
        return FORBIDDEN_ORIGIN
    return None


def presented_token(environ: Mapping[str, Any]) -> str | None:
    """The token of a request: a Bearer ``Authorization`` header first, then the ``token`` query."""
    scheme, _, value = str(environ.get("HTTP_AUTHORIZATION", "")).partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    values = urllib.parse.parse_qs(str(environ.get("QUERY_STRING", ""))).get("token")
    return values[0] if values else None


def token_ok(environ: Mapping[str, Any], token: str) -> bool:
    """Whether the request carries ``token`` (compared with ``hmac.compare_digest``)."""
    given = presented_token(environ)
    return given is not None and hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8"))


def normalize_origin(origin: str) -> str:
    """``scheme://host[:port]`` in lower case, without the scheme's default port; ``null`` stays."""
    parts = urllib.parse.urlsplit(origin.strip())
    if not parts.scheme or not parts.hostname:
        return origin.strip().lower()
    try:
        port = parts.port
    except ValueError:
        return origin.strip().lower()
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    if port is None or port == _DEFAULT_PORTS.get(parts.scheme.lower()):
        return f"{parts.scheme.lower()}://{host}"
    return f"{parts.scheme.lower()}://{host}:{port}"


def origin_ok(origin: str | None, allowed: Iterable[str]) -> bool:
    """No Origin (not a browser) passes; otherwise it must be listed (``*`` lists every origin)."""
    if origin is None:
        return True
    wanted = {normalize_origin(a) for a in allowed}
    return "*" in wanted or normalize_origin(origin) in wanted


def parse_origins(values: Iterable[str]) -> list[str] | None:
    """``--allowed-origins`` values (each may be comma-separated) as one list; None when none given.

    Values that name no origin give an empty list, which ``Settings.check`` refuses.
    """
    values = list(values)
    if not values:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def token_from_env() -> str | None:
    """The token in ``$GYMIE_TOKEN``: None when unset; set but empty gives ``""`` (refused at start)."""
    return os.environ.get(TOKEN_ENV)


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def startup_warnings(host: str, settings: Settings) -> list[str]:
    """What an operator should hear about before serving."""
    warnings = []
    if settings.token is None and not is_loopback(host):
        warnings.append(
            f"serving on {host}, reachable from other machines, without a token: anyone who can "
            f"connect can make environments (set --token or ${TOKEN_ENV}, or bind 127.0.0.1)"
        )
    if settings.allow_module_ids:
        warnings.append("--allow-module-ids: clients may import any module by naming it in an env id")
    return warnings
