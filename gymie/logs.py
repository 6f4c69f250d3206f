"""How a gymie process logs: one plain line per event, Python warnings included, no colour codes.

Gymnasium's warnings carry terminal colour codes (``ESC[33mWARN: ...ESC[0m``) and go to
stderr on their own; here they go through ``logging`` (logger ``py.warnings``, one line each)
and every line is stripped of ANSI escape sequences, so log files and journald stay readable.
"""

from __future__ import annotations

import logging
import os
import re
import time
import warnings
from typing import Any, TextIO

from gymie.settings import LOG_FORMAT

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class PlainFormatter(logging.Formatter):
    """A Formatter that removes ANSI escape sequences (colours) from every line."""

    def format(self, record: logging.LogRecord) -> str:
        """The formatted record without escape sequences."""
        return ANSI.sub("", super().format(record))


def configure(level: int | str | None = None) -> None:
    """Log to stderr with :data:`~gymie.settings.LOG_FORMAT`, unless logging is set up already.

    A root logger without handlers gets one, at ``level`` (INFO when None); with handlers (the
    application configured logging) only an explicit ``level`` is applied. Python warnings are
    routed through logging, and pygame's greeting on import is silenced.
    """
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(PlainFormatter(LOG_FORMAT))
        root.addHandler(handler)
        level = logging.INFO if level is None else level
    if level is not None:
        root.setLevel(level)
    warnings.showwarning = log_warning
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")


def log_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """``warnings.showwarning`` as one line of the ``py.warnings`` logger.

    ``logging.captureWarnings`` would add the file, line number and source line, on two lines.
    """
    logging.getLogger("py.warnings").warning("%s: %s", category.__name__, message)


class RateLimit:
    """Lets each key through at most once per ``period`` seconds and counts the rest."""

    def __init__(self, period: float = 60.0, keys: int = 1024) -> None:
        self.period, self.keys = period, keys
        self._seen: dict[Any, tuple[float, int]] = {}

    def admit(self, key: Any) -> int | None:
        """None when ``key`` must stay quiet; else how many were held back since it last passed."""
        now = time.monotonic()
        last, held = self._seen.get(key, (-self.period, 0))
        if now - last < self.period:
            self._seen[key] = (last, held + 1)
            return None
        if len(self._seen) >= self.keys:  # forget the oldest half: the table stays bounded
            for old in sorted(self._seen, key=lambda k: self._seen[k][0])[: self.keys // 2]:
                del self._seen[old]
        self._seen[key] = (now, 0)
        return held
