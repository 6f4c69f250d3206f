"""The in-server backend: each env lives in the server process itself (``--isolation none``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from gymie.compat import EnvAdapter


class LocalBackend:
    """Runs factories in this process: fast, but a crash or a hang of one env is the server's."""

    processes_per_env = 0

    def start(
        self, factory: Callable[[], EnvAdapter], *, resources: Mapping[str, float] | None = None
    ) -> EnvAdapter:
        """Build the env here and return its adapter (``resources``: refused by the methods before)."""
        return factory()

    def live_workers(self) -> int:
        """No worker processes."""
        return 0

    def warm_up(self) -> None:
        """Nothing to prepare."""

    def kill_all(self) -> None:
        """Nothing to kill: in-process envs end with the server."""
