"""Values encoded ahead of time, where they were computed, and spliced into replies as they are.

With ``--isolation process`` a worker that knows how its session's replies travel encodes big
results itself (a vector env's observations, the description of a huge space): the server's
event loop then only copies bytes instead of walking millions of elements while every other
connection waits. An :class:`Encoded` value stands for such a finished encoding anywhere in a
reply: ``gymie.codec`` sends msgpack bytes as a buffer of the reply's Frame, and splices JSON
text in (the stdlib path writes a placeholder for it and swaps the text in at the end).
"""

from __future__ import annotations

import re
import secrets
import threading
from dataclasses import dataclass

_TOKEN = secrets.token_bytes(12)
_JSON_MARK = "\x00gymie-" + _TOKEN.hex() + "-"
"""A placeholder's prefix: NUL and a random token, which no env or client string will match."""
_JSON_PLACEHOLDER = re.compile(re.escape('"\\u0000gymie-' + _TOKEN.hex() + "-") + r'(\d+)"')


@dataclass(frozen=True)
class Encoded:
    """An encoded value: JSON text (ASCII, as gymie writes it) or msgpack bytes."""

    data: str | bytes

    @property
    def size(self) -> int:
        """Its size on the wire, in bytes."""
        return len(self.data)


class Splice:
    """The Encoded values met while encoding one reply, and how to put them in place."""

    def __init__(self) -> None:
        self.pieces: list[str | bytes] = []

    def json_placeholder(self, text: str) -> str:
        """A string that stands for ``text`` in the JSON being built."""
        self.pieces.append(text)
        return f"{_JSON_MARK}{len(self.pieces) - 1}"

    def into_json(self, text: str) -> str:
        """``text`` with every placeholder (now a quoted JSON string) replaced by its piece."""
        return _JSON_PLACEHOLDER.sub(lambda match: str(self.pieces[int(match.group(1))]), text)


_current = threading.local()


def splice() -> Splice:
    """The Splice of the reply this thread is encoding (made on first use)."""
    found: Splice | None = getattr(_current, "splice", None)
    if found is None:
        found = _current.splice = Splice()
    return found


def take_splice() -> Splice | None:
    """The Splice of the reply just encoded, if it met any Encoded value; the next reply starts afresh."""
    found: Splice | None = getattr(_current, "splice", None)
    if found is not None:
        _current.splice = None
    return found
