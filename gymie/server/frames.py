"""Frames for the dashboard: an env's ``render()`` as PNG, within a time budget (no eventlet here).

- :func:`encode_png`: an RGB(A) ``uint8`` array as a PNG (zlib level 1: CartPole's 600×400
  frame in ~1 ms, ~6 KB); frames larger than :data:`MAX_SIDE` are subsampled first;
- :func:`as_image`: what ``render()`` returned, as an image array, or why it is not one;
- :func:`render_problem`: why an instance cannot be watched (no ``rgb_array`` render mode);
- :class:`FrameBudget`: rendering and encoding may use at most :data:`BUDGET` of the server
  process's time, so an agent stepping at full speed keeps its rate (CartPole's 600×400 frames
  cost ~2.5 ms: ~12 frames/s; Pong's ~0.15 ms: the full rate).
"""

from __future__ import annotations

import statistics
import struct
import time
import zlib
from collections import deque
from typing import Any

import numpy as np

from gymie.registry import Instance

MAX_FPS = 15.0
"""Most frames a second sent for one instance."""
BUDGET = 0.03
"""Share of the process's time that rendering and encoding frames may take, all instances together."""
COSTS_KEPT = 5
"""Renders whose median cost spaces the next ones."""
MAX_SIDE = 1024
"""Frames wider or taller than this are subsampled (every 2nd, 3rd... pixel) before encoding."""
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPES = {1: 0, 3: 2, 4: 6}  # channels -> PNG colour type (grey, RGB, RGBA)


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def encode_png(image: np.ndarray[Any, Any], level: int = 1) -> bytes:
    """A PNG of an ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` or ``(H, W, 4)`` ``uint8`` array."""
    if image.ndim == 2:
        image = image[:, :, None]
    height, width, channels = image.shape
    rows = np.empty((height, width * channels + 1), np.uint8)
    rows[:, 0] = 0  # filter type "None" for every row: the fastest to encode
    rows[:, 1:] = image.reshape(height, width * channels)
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOR_TYPES[channels], 0, 0, 0)
    return (
        _PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows.tobytes(), level))
        + _chunk(b"IEND", b"")
    )


def as_image(frame: Any) -> tuple[np.ndarray[Any, Any] | None, str | None]:
    """``(image, None)`` for a frame that is an image (a vector env's first one), else ``(None, why)``."""
    if isinstance(frame, (list, tuple)) and frame:  # a vector env's frames, one per sub-env
        frame = frame[0]
    if not isinstance(frame, np.ndarray):
        return None, f"render() returned {type(frame).__name__}, not an image"
    if frame.ndim == 4:
        frame = frame[0]
    if frame.ndim == 2:
        frame = frame[:, :, None]
    if frame.ndim != 3 or frame.shape[2] not in _COLOR_TYPES or 0 in frame.shape:
        return None, f"render() returned an array of shape {list(frame.shape)}, not an image"
    if frame.dtype != np.uint8:
        return None, f"render() returned {frame.dtype} pixels, not uint8"
    step = max(1, -(-max(frame.shape[:2]) // MAX_SIDE))
    return (frame[::step, ::step] if step > 1 else frame), None


def render_mode(instance: Instance) -> str | None:
    """The instance's render mode, or None."""
    mode = getattr(instance.env, "render_mode", None)
    return mode if isinstance(mode, str) else None


def render_problem(instance: Instance) -> str | None:
    """Why the instance's frames cannot be shown, or None when it renders images.

    Only ``rgb_array`` qualifies: ``render()`` of ``rgb_array_list`` empties the list the agent
    itself reads, and watching must not change what the agent sees.
    """
    mode = render_mode(instance)
    if mode == "rgb_array":
        return None
    return (
        f"render_mode is {mode!r}, not 'rgb_array': no frames to show "
        '(make the env with render_mode="rgb_array")'
    )


class FrameBudget:
    """Spreads frame work so that it takes at most ``share`` of the process's time.

    After each render, the next one (of any instance) may start only ``c / share`` seconds
    later, ``c`` the median cost of the last :data:`COSTS_KEPT` renders (one slow render, say
    a context switch, does not stall the frames for long).
    """

    def __init__(self, share: float = BUDGET) -> None:
        self.share = share
        self.next_start = 0.0
        self.spent = 0.0
        self.frames = 0
        self._costs: deque[float] = deque(maxlen=COSTS_KEPT)

    def wait_time(self, now: float | None = None) -> float:
        """Seconds until the next render may start (0 when it may start now)."""
        return max(0.0, self.next_start - (time.monotonic() if now is None else now))

    def charge(self, seconds: float, now: float | None = None) -> None:
        """Account a render (and its encoding) that took ``seconds``."""
        self.spent += seconds
        self.frames += 1
        self._costs.append(seconds)
        cost = statistics.median(self._costs)
        self.next_start = (time.monotonic() if now is None else now) + cost / self.share
