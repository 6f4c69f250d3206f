"""Environment limits, checked before an environment is made (I/O-free).

Connection and message limits live in the transport (``gymie.server``), because only it
sees connections and frames; these two need the registry, so the methods call them.
"""

from __future__ import annotations

from gymie.exceptions import LimitExceeded
from gymie.registry import EnvRegistry
from gymie.settings import Settings


def check_new_env(envs: EnvRegistry, owner: int | None, settings: Settings) -> None:
    """Raise LimitExceeded when one more environment would pass ``max_envs`` or the per-connection cap.

    A vector env counts as one environment: it is one instance (and one worker process).
    """
    if settings.max_envs is not None and len(envs) >= settings.max_envs:
        raise LimitExceeded(f"{settings.max_envs} environments per server")
    cap = settings.max_envs_per_connection
    if cap is not None and owner is not None and len(envs.owned_by(owner)) >= cap:
        raise LimitExceeded(f"{cap} environments per connection")
