"""``python bench/patched_server.py PATCHES [gymie args]``: the current gymie with bench/patches.py applied.

``PATCHES`` is comma-separated (``packer,bind``), ``all`` or ``none``. For A/B runs:
``bench/run.py --launcher "bench/patched_server.py all"``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

import patches  # noqa: E402

from gymie import cli  # noqa: E402

if __name__ == "__main__":
    applied = patches.apply(sys.argv[1])
    print(f"patches applied: {', '.join(applied) or 'none'}", flush=True)
    try:
        cli.main(sys.argv[2:])
    except KeyboardInterrupt:
        pass
