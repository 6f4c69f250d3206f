"""The dashboard's HTTP side: the page ``/ui`` and its static files ``/ui/<file>`` (no eventlet here).

The files ship inside the package (``gymie/ui/``) and are read once. The page needs the
server's token (``/ui?token=...``; the page hands it on to its WebSockets) and gets a clear
HTML page with HTTP 401 otherwise. The static files (the dashboard's scripts and styles, and
the vendored JavaScript client and msgpack library) are the package's public files: they are
served without a token, since the page itself cannot put one on the URLs of its imports;
everything the dashboard shows or does goes through the WebSockets, which check the token.
"""

from __future__ import annotations

import functools
import importlib.resources
from collections.abc import Iterable, Iterator
from typing import Any

from gymie.server import responses, security
from gymie.server.responses import StartResponse
from gymie.settings import Settings

PAGE = "index.html"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
}
COMMON_HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),  # the page's URL holds the token
    ("X-Frame-Options", "DENY"),
]
PAGE_HEADERS = [
    (
        "Content-Security-Policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    ),
    ("Cache-Control", "no-store"),
]
_PAGE_401 = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>gymie: token required</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto; line-height: 1.5">
<h1>gymie dashboard: a valid token is required</h1>
<p id="gymie-error">{why} This server was started with a token (<code>--token</code> or
<code>$GYMIE_TOKEN</code>); open the dashboard as <code>/ui?token=YOUR_TOKEN</code>.</p>
</body></html>
"""


def respond(environ: dict[str, Any], start_response: StartResponse, settings: Settings) -> Iterable[bytes]:
    """Answer a request for ``/ui`` or a path below it."""
    path = str(environ.get("PATH_INFO", ""))
    if not settings.ui:
        return _answer(start_response, "404 Not Found", b"The dashboard is off on this server (--ui off).\n")
    if environ.get("REQUEST_METHOD", "GET") not in ("GET", "HEAD"):
        return _answer(start_response, "405 Method Not Allowed", b"", extra=[("Allow", "GET, HEAD")])
    if path in ("/ui", "/ui/"):
        if settings.token is not None and not security.token_ok(environ, settings.token):
            why = (
                "The address has a token, but not this server's."
                if security.presented_token(environ)
                else ("The address has no token.")
            )
            body = _PAGE_401.format(why=why).encode()
            extra = [("WWW-Authenticate", 'Bearer realm="gymie"'), *PAGE_HEADERS]
            return _answer(start_response, "401 Unauthorized", body, TYPES[".html"], extra)
        return _answer(start_response, "200 OK", assets()[PAGE], TYPES[".html"], PAGE_HEADERS)
    name = path[len("/ui/") :]
    asset = assets().get(name) if name != PAGE else None
    if asset is None:
        return _answer(start_response, "404 Not Found", b"No such file.\n")
    content_type = TYPES.get(name[name.rfind(".") :], "application/octet-stream")
    return _answer(start_response, "200 OK", asset, content_type, [("Cache-Control", "no-cache")])


@functools.cache
def assets() -> dict[str, bytes]:
    """Every file of the dashboard by its path below ``/ui/`` (read once; Python files left out)."""
    return dict(_walk(importlib.resources.files("gymie.ui"), ""))


def _walk(folder: Any, prefix: str) -> Iterator[tuple[str, bytes]]:
    for entry in folder.iterdir():
        if entry.is_dir():
            if entry.name != "__pycache__":
                yield from _walk(entry, f"{prefix}{entry.name}/")
        elif not entry.name.endswith((".py", ".pyc")):
            yield f"{prefix}{entry.name}", entry.read_bytes()


def _answer(
    start_response: StartResponse,
    status: str,
    body: bytes,
    content_type: str = "text/plain; charset=utf-8",
    extra: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    headers = [("Content-Length", str(len(body))), *COMMON_HEADERS, *(extra or [])]
    return responses.respond(start_response, status, body, content_type, headers)
