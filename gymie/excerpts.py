"""Excerpts of what a client sent: short, printable, and cheap however big the input.

Error messages quote what they are about (an id, an action, a message that is not JSON). A
client chooses that input, up to megabytes of it: an error must quote an excerpt, never all of
it, and making the excerpt must not cost more than the excerpt itself (no ``str()`` of a list
of a million numbers, or of one nested 100,000 deep).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

EXCERPT_BYTES = 200
"""How much of a client's input an error message quotes (UTF-8 bytes, before the ellipsis)."""
_ELLIPSIS = "…"
_MAX_DEPTH = 8


def excerpt(value: Any, limit: int = EXCERPT_BYTES) -> str:
    """``str(value)``, printable and cut to about ``limit`` UTF-8 bytes, ending with "…" when cut.

    Containers are walked only as far as the excerpt needs, so a huge input costs no more
    than a small one; control characters are escaped as ``repr`` escapes them.
    """
    text, cut = (value[: limit + 1], len(value) > limit) if isinstance(value, str) else _render(value, limit)
    if not text.isprintable():
        text = "".join(c if c.isprintable() else _escape(c) for c in text)
    encoded = text.encode("utf-8", errors="replace")
    if len(encoded) > limit:
        text, cut = encoded[:limit].decode("utf-8", errors="ignore"), True
    return text + _ELLIPSIS if cut else text


def bounded(value: Any, limit: int = EXCERPT_BYTES) -> Any:
    """``value`` if it is small (a short string, a 64-bit number, a short container), else its excerpt."""
    kind = type(value)
    if value is None or kind is bool or kind is float:
        return value
    if kind is int:
        return value if -(2**63) <= value < 2**64 else excerpt(value, limit)  # what msgpack can carry
    if kind is str:
        return value if len(value) <= limit else excerpt(value, limit)
    nbytes = getattr(value, "nbytes", None)
    if isinstance(nbytes, int):  # an ndarray: kept when small, so msgpack clients get it back
        return value if nbytes <= limit else excerpt(value, limit)
    if kind in (list, dict, tuple):
        text, cut = _render(value, limit)
        return excerpt(value, limit) if cut or not text.isprintable() else value
    return excerpt(value, limit)


def _render(value: Any, limit: int) -> tuple[str, bool]:
    """``str(value)`` up to ``limit + 1`` characters, and whether it was cut."""
    parts, size = [], 0
    tokens = _tokens(value, 0) if isinstance(value, (dict, list, tuple)) else iter([_leaf(value, str)])
    for token in tokens:
        parts.append(token)
        size += len(token)
        if size > limit:
            return "".join(parts)[: limit + 1], True
    return "".join(parts), False


def _tokens(value: Any, depth: int) -> Iterator[str]:
    # The pieces of repr(value), lazily: the caller stops once it has enough.
    if isinstance(value, (dict, list, tuple)) and depth >= _MAX_DEPTH:
        yield _ELLIPSIS
    elif isinstance(value, dict):
        yield "{"
        for i, (key, item) in enumerate(value.items()):
            yield ", " if i else ""
            yield from _tokens(key, depth + 1)
            yield ": "
            yield from _tokens(item, depth + 1)
        yield "}"
    elif isinstance(value, (list, tuple)):
        yield "[" if isinstance(value, list) else "("
        for i, item in enumerate(value):
            yield ", " if i else ""
            yield from _tokens(item, depth + 1)
        yield "]" if isinstance(value, list) else ",)" if len(value) == 1 else ")"
    else:
        yield _leaf(value, repr)


def _leaf(value: Any, show: Any) -> str:
    if isinstance(value, (str, bytes)) and len(value) > EXCERPT_BYTES:
        value = value[: EXCERPT_BYTES + 1]  # the caller cuts it anyway
    elif isinstance(value, int) and value.bit_length() > 1024:
        return f"<{value.bit_length()}-bit integer>"  # str() of a huge int is slow, or refused
    try:
        return str(show(value))
    except Exception:
        return f"<{type(value).__name__}>"


def _escape(char: str) -> str:
    return repr(char)[1:-1]  # "\\n", "\\x00", "\\u2028", "\\ud800"...
