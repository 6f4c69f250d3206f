"""``gymie.cli.main`` under cProfile: ``profiled_server.py OUT.prof [gymie args]``; SIGINT writes OUT.prof.

Profiling starts when the first WebSocket session opens, so start-up (imports, env
registration) stays out of the numbers.
"""

from __future__ import annotations

import cProfile
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gymie import cli, core  # noqa: E402

if __name__ == "__main__":
    profile = cProfile.Profile()
    open_session = core.Dispatcher.open_session

    def profiled_open_session(self: Any, *args: Any, **kwargs: Any) -> Any:
        profile.enable()
        return open_session(self, *args, **kwargs)

    core.Dispatcher.open_session = profiled_open_session  # type: ignore[method-assign]
    try:
        cli.main(sys.argv[2:])
    finally:
        profile.disable()
        profile.dump_stats(sys.argv[1])
