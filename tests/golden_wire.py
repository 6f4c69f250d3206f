"""Reads the frames recorded from gymie 0.5.4 (tests/golden/gymie-0.5.4-wire.txt) into conversations."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

REFERENCE = Path(__file__).parent / "golden" / "gymie-0.5.4-wire.txt"

_SEND = re.compile(r"^\s*>>> (BINARY )?(.*)$")
_TEXT = re.compile(r"^\s*<<< fin=1 rsv=000 opcode=1\(TEXT\) len=\d+ payload=(.*)$")
_CLOSE = re.compile(r"^\s*<<< .*opcode=8\(CLOSE\).* -> CLOSE code=(\d+) reason=(.*)$")


@dataclass
class Exchange:
    """One frame sent and what 0.5.4 answered: ('text', payload) or ('close', (code, reason))."""

    sent: str
    binary: bool
    kind: str
    expected: object


@dataclass
class Conversation:
    title: str
    exchanges: list[Exchange] = field(default_factory=list)


def load() -> list[Conversation]:
    """Every recorded WebSocket conversation whose frames were all WebSocket frames."""
    conversations: list[Conversation] = []
    current: Conversation | None = None
    pending: tuple[str, bool] | None = None
    for line in REFERENCE.read_text().splitlines():
        if line.startswith("=== "):
            current = Conversation(line[4:].strip())
            conversations.append(current)
            continue
        if current is None:
            continue
        if (send := _SEND.match(line)) and "<<<" not in line:
            pending = (send.group(2), bool(send.group(1)))
        elif (text := _TEXT.match(line)) and pending:
            current.exchanges.append(Exchange(*pending, "text", ast.literal_eval(text.group(1))))
            pending = None
        elif (close := _CLOSE.match(line)) and pending:
            reason = ast.literal_eval(close.group(2))
            current.exchanges.append(Exchange(*pending, "close", (int(close.group(1)), reason)))
            pending = None
    return [c for c in conversations if c.exchanges]
