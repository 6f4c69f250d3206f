"""File descriptors: raise the soft limit at start, and fit ``--max-connections`` into it.

Every open WebSocket holds a socket; every connection still sending its HTTP request holds
one too (up to the pool's headroom); with ``--isolation process`` every env holds four more
(the pipe to its worker; the worker's exit sentinel, a duplicate of it that the hub watches,
and the forkserver's pipe that multiprocessing keeps open). When they do not all fit,
``accept()`` fails with EMFILE; the server survives that (``green.SteadyListener``) but serves
nobody new meanwhile, so at start the connection limit is lowered to what fits, with one
warning that says how to raise it. No eventlet here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from gymie.settings import Settings

try:
    import resource
except ImportError:  # pragma: no cover - not POSIX
    resource = None  # type: ignore[assignment]

POOL_HEADROOM = 64
"""Connections beyond ``max_connections`` that may be sending their HTTP request (health checks)."""
RESERVE = 16
"""Descriptors kept free for everything else: log files, worker start-up, /proc reads."""
FDS_PER_WORKER = 4
SOFT_CEILING = 1 << 20
"""Where the soft limit is raised to when the hard limit is unlimited."""


@dataclass(frozen=True)
class Budget:
    """How many connections a server process takes, and why."""

    max_connections: int
    headroom: int
    limit: int
    warning: str | None = None


def raise_soft_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit (if allowed); return the soft limit now."""
    if resource is None:  # pragma: no cover
        return SOFT_CEILING
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = SOFT_CEILING if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            pass
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return SOFT_CEILING if soft == resource.RLIM_INFINITY else soft


def open_descriptors() -> int:
    """How many descriptors this process has open (a guess where /proc is missing)."""
    try:
        return len(os.listdir("/proc/self/fd")) - 1  # the directory's own
    except OSError:  # pragma: no cover
        return 32


def budget(settings: Settings, limit: int, in_use: int) -> Budget:
    """The connection limit and pool headroom that fit ``limit`` descriptors, ``in_use`` already open.

    With ``--isolation process`` each worker costs FDS_PER_WORKER, and there are at most
    ``--max-workers`` of them (fewer when ``--max-envs`` is lower).
    """
    free = max(limit - in_use - RESERVE, 0)
    headroom = min(POOL_HEADROOM, max(free // 4, 2))
    workers = 0
    if settings.isolation == "process":
        workers = min(settings.max_workers, settings.max_envs or settings.max_workers)
    fits = max(free - headroom - FDS_PER_WORKER * workers, 1)
    wanted = settings.max_connections
    if wanted is None or wanted <= fits:  # None: as many as fit
        return Budget(min(wanted or fits, fits), headroom, limit)
    held = f", {FDS_PER_WORKER} for each of up to {workers} worker processes" if workers else ""
    warning = (
        f"{limit} file descriptors (ulimit -n; {in_use} in use) fit {fits} WebSockets, not {wanted}: "
        f"serving at most {fits} connections. Each takes 1 descriptor{held}, and {headroom} are "
        "kept for HTTP requests; raise `ulimit -n` (the hard limit) or lower --max-connections"
    )
    return Budget(fits, headroom, limit, warning)


def fit(settings: Settings) -> Budget:
    """Raise the soft limit, then compute this process's :class:`Budget`."""
    return budget(settings, raise_soft_limit(), open_descriptors())
