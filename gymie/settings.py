"""What the operator decides: which environments may be made, and the server's limits."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field

# eventlet's own default frame cap; gymie sets it explicitly so the limit is a decision, not an accident.
DEFAULT_MAX_MESSAGE_SIZE = 8 * 1024 * 1024


@dataclass
class Settings:
    """Server policy shared by every connection of one server process."""

    allow: list[str] = field(default_factory=list)
    """Glob patterns of env ids that may be made; empty means any registered id."""

    allow_module_ids: bool = False
    """Whether ``module:Name`` ids (which import a module the client names) may be made."""

    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE

    def module_id_allowed(self, env_id: str) -> bool:
        """``module:Name`` ids import client-chosen code: only when the operator allows it."""
        if ":" not in env_id:
            return True
        return self.allow_module_ids or any(":" in p and fnmatch.fnmatchcase(env_id, p) for p in self.allow)

    def env_allowed(self, env_id: str) -> bool:
        """Whether the allow-list (if any) admits this id."""
        return not self.allow or any(fnmatch.fnmatchcase(env_id, p) for p in self.allow)
