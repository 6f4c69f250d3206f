"""Values encoded ahead of time, where they were computed, and spliced into replies as they are.

With ``--isolation process`` a worker that knows how its session's replies travel encodes big
results itself (a vector env's observations, the description of a huge space): the server's
event loop then only copies bytes instead of walking millions of elements while every other
connection waits. An :class:`Encoded` value stands for such a finished encoding anywhere in a
reply; ``gymie.codec`` writes a placeholder for it and swaps the real text or bytes in at the end.
"""

from __future__ import annotations

import re
import secrets
import threading
from dataclasses import dataclass

import msgpack

_TOKEN = secrets.token_bytes(12)
_JSON_MARK = "\x00gymie-" + _TOKEN.hex() + "-"
"""A placeholder's prefix: NUL and a random token, which no env or client string will match."""
_JSON_PLACEHOLDER = re.compile(re.escape('"\\u0000gymie-' + _TOKEN.hex() + "-") + r'(\d+)"')
_MSGPACK_EXT = 127
"""The extension type of msgpack placeholders (never sent: each is replaced by its bytes)."""


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

    def msgpack_placeholder(self, data: bytes) -> msgpack.ExtType:
        """An extension value that stands for ``data`` in the msgpack being built."""
        self.pieces.append(data)
        return msgpack.ExtType(_MSGPACK_EXT, _TOKEN + (len(self.pieces) - 1).to_bytes(4, "big"))

    def into_json(self, text: str) -> str:
        """``text`` with every placeholder (now a quoted JSON string) replaced by its piece."""
        return _JSON_PLACEHOLDER.sub(lambda match: str(self.pieces[int(match.group(1))]), text)

    def into_msgpack(self, packed: bytes) -> bytes:
        """``packed`` with every placeholder (a fixext 16: 0xd8, type, 16 bytes) replaced by its piece."""
        for index, piece in enumerate(self.pieces):
            placeholder = bytes([0xD8, _MSGPACK_EXT]) + _TOKEN + index.to_bytes(4, "big")
            packed = packed.replace(placeholder, piece if isinstance(piece, bytes) else piece.encode(), 1)
        return packed


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
