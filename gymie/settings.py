"""What the operator decides: which environments may be made, the server's limits and its security.

A Settings object is plain data (it is pickled to the processes of ``--processes N``); the
code that enforces each field lives with its concern: the registry (env limits), ``gymie.server``
(connections, security), ``gymie.backends`` (isolation).
"""

from __future__ import annotations

import fnmatch
import os
import resource
from dataclasses import dataclass, field

# eventlet's own default frame cap; gymie sets it explicitly so the limit is a decision, not an accident.
DEFAULT_MAX_MESSAGE_SIZE = 8 * 1024 * 1024
DEFAULT_MAX_CONNECTIONS = 1000
DEFAULT_HANDSHAKE_TIMEOUT = 10.0
DEFAULT_SHUTDOWN_TIMEOUT = 10.0
DEFAULT_SEND_TIMEOUT = 30.0
DEFAULT_MAX_REPLY_SIZE = 128 * 1024 * 1024
"""Fits a 1024-env batch of Atari RGB frames over msgpack (1024 x 210 x 160 x 3 bytes = 98 MiB)."""
DEFAULT_MAX_BATCH = 100
DEFAULT_MAX_NUM_ENVS = 1024
DEFAULT_MAX_PARAMS_SIZE = 16 * 1024
"""Fits a 120x120 FrozenLake map (~1 s to build); a 700x700 one took 26 s and 960 MB."""
WORKERS_PER_CORE = 16
DEFAULT_RAY_SCHEDULE_TIMEOUT = 60.0
ISOLATION_MODES = ("none", "process", "ray")
LOG_FORMAT = "%(asctime)s %(name)s[%(process)d] %(levelname)s %(message)s"
"""How every gymie process (server, worker, supervisor) formats its log lines."""


def default_max_workers() -> int:
    """16 per core, and at most a quarter of the hard open-file limit (a worker holds pipes)."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    by_fds = hard // 4 if hard != resource.RLIM_INFINITY else 1 << 20
    return max(1, min(WORKERS_PER_CORE * (os.cpu_count() or 1), by_fds))


@dataclass
class Settings:
    """Server policy shared by every connection of one server process."""

    allow: list[str] = field(default_factory=list)
    """Glob patterns of env ids that may be made; empty means any registered id."""

    allow_module_ids: bool = False
    """Whether ``module:Name`` ids (which import a module the client names) may be made."""

    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE
    """Largest incoming message, in bytes, whole or in fragments; larger ones close the connection (1009)."""

    isolation: str = "none"
    """``"none"``: envs run in the server process; ``"process"``: each in its own worker process;
    ``"ray"``: each in its own Ray actor, anywhere in a Ray cluster."""

    step_timeout: float | None = None
    """Seconds a worker (or actor) may take for one call into its env before it is killed (isolation only)."""

    imports: list[str] = field(default_factory=list)
    """Modules imported at start (``--import``); worker and server processes import them too."""

    max_envs: int | None = None
    """Live environments per server process."""

    max_envs_per_connection: int | None = None
    """Live environments one connection may own."""

    max_connections: int | None = DEFAULT_MAX_CONNECTIONS
    """Open WebSockets per server process; more handshakes get HTTP 503."""

    idle_timeout: float | None = None
    """Seconds a WebSocket may stay silent before the server closes it (1001)."""

    handshake_timeout: float = DEFAULT_HANDSHAKE_TIMEOUT
    """Seconds a new TCP connection has to send its whole HTTP request."""

    shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT
    """Seconds a graceful shutdown may take before the remaining connections are cut."""

    send_timeout: float | None = DEFAULT_SEND_TIMEOUT
    """Seconds a send to a WebSocket may stay blocked (the peer not reading) before the connection
    is closed, and its envs with it."""

    token: str | None = None
    """When set, handshakes must carry ``Authorization: Bearer <token>`` or ``?token=<token>``."""

    allowed_origins: list[str] | None = None
    """When set, a handshake whose ``Origin`` header is not listed gets HTTP 403."""

    access_log: bool = False
    """Log one line per HTTP request (eventlet's access log)."""

    max_reply_size: int = DEFAULT_MAX_REPLY_SIZE
    """Largest reply, in bytes; a larger one is replaced by a ReplyTooLarge error (not built, if foreseen)."""

    max_batch: int = DEFAULT_MAX_BATCH
    """Most requests in one JSON-RPC batch; a longer batch gets one Invalid Request error."""

    max_num_envs: int = DEFAULT_MAX_NUM_ENVS
    """Largest ``num_envs`` of ``make_vec``."""

    max_params_size: int = DEFAULT_MAX_PARAMS_SIZE
    """Largest env kwargs (``make``, ``make_vec``) and reset ``options``, in bytes as JSON counts them."""

    max_workers: int = field(default_factory=default_max_workers)
    """Processes that requests may start and keep (env workers, async vector sub-processes)."""

    worker_memory: int | None = None
    """Address-space limit of each worker process, in MiB (``RLIMIT_AS``; isolation only)."""

    share_instances: bool = False
    """Let any connection use any instance id (as 0.5.4 did); by default ids belong to their connection."""

    ui: bool = True
    """Serve the dashboard (``/ui``) and its read-only watch API (``/watch``), token and Origin checked."""

    ray_address: str | None = None
    """``--isolation ray``: the cluster to join; None joins ``$RAY_ADDRESS``, or starts a local one."""

    ray_resources_allowed: list[str] = field(default_factory=list)
    """Resource names a ``make``/``make_vec`` may ask for (``num_cpus``, ``num_gpus``, custom ones)."""

    ray_schedule_timeout: float = DEFAULT_RAY_SCHEDULE_TIMEOUT
    """Seconds a new actor may wait for a node offering its resources before ``make`` fails."""

    def module_id_allowed(self, env_id: str) -> bool:
        """``module:Name`` ids import client-chosen code: only when the operator allows it."""
        if ":" not in env_id:
            return True
        return self.allow_module_ids or any(":" in p and fnmatch.fnmatchcase(env_id, p) for p in self.allow)

    def env_allowed(self, env_id: str) -> bool:
        """Whether the allow-list (if any) admits this id."""
        return not self.allow or any(fnmatch.fnmatchcase(env_id, p) for p in self.allow)

    def check(self) -> None:
        """Raise ValueError when a field is out of range."""
        if self.isolation not in ISOLATION_MODES:
            raise ValueError(f"isolation must be one of {ISOLATION_MODES}, not {self.isolation!r}")
        if self.step_timeout is not None and self.isolation == "none":
            raise ValueError("step_timeout needs isolation 'process' or 'ray': in-process envs cannot stop")
        if self.isolation != "ray" and (self.ray_address or self.ray_resources_allowed):
            raise ValueError("ray_address and ray_resources_allowed need isolation 'ray'")
        if self.ray_schedule_timeout <= 0:
            raise ValueError(f"ray_schedule_timeout must be positive, not {self.ray_schedule_timeout}")
        if self.worker_memory is not None and self.isolation != "process":
            raise ValueError("worker_memory needs isolation 'process'")
        for name in (
            "max_message_size",
            "max_envs",
            "max_envs_per_connection",
            "max_connections",
            "max_reply_size",
            "max_batch",
            "max_num_envs",
            "max_params_size",
            "max_workers",
            "worker_memory",
        ):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1, not {value}")
        for name in ("step_timeout", "idle_timeout", "handshake_timeout", "shutdown_timeout", "send_timeout"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive, not {value}")
        self._check_security()

    def _check_security(self) -> None:
        # An empty value must not silently mean "no protection" (`--token "$GYMIE_TOKEN"` with the
        # variable unset, or empty, would otherwise switch authentication off).
        if self.token is not None and not self.token.strip():
            raise ValueError(
                "--token is empty (--token '' or GYMIE_TOKEN=''), which would switch authentication off: "
                "give a real one, or leave both unset to serve without authentication"
            )
        if self.allowed_origins is not None and not any(o.strip() for o in self.allowed_origins):
            raise ValueError(
                "the list of allowed origins is empty (--allowed-origins ''), which would let every "
                "origin in: name the origins (`*` for any), or leave --allowed-origins out"
            )
