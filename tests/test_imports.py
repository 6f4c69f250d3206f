"""``import gymie`` stays light: no eventlet, Gymnasium or NumPy, and nothing monkey-patched.

Each check runs in a fresh interpreter, since this test process has imported all of them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

from tests.conftest import ROOT, TIMEOUT

HEAVY = ["eventlet", "gymnasium", "numpy", "gymie.server", "gymie.api", "gymie.core"]


def run(code: str) -> Any:
    """Run ``code`` in a fresh interpreter; it prints one JSON value, which is returned."""
    proc = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3 * TIMEOUT,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


PRELUDE = """
import json, select, socket, sys, threading, time
PATCHABLE = {"socket": lambda: socket.socket, "sleep": lambda: time.sleep,
             "thread": lambda: threading.Thread, "select": lambda: select.select}
originals = {name: get() for name, get in PATCHABLE.items()}
"""

EPILOGUE = f"""
loaded = sorted(m for m in {HEAVY!r} if m in sys.modules)
patched = sorted(name for name, get in PATCHABLE.items() if get() is not originals[name])
print(json.dumps({{"loaded": loaded, "patched": patched, "result": result}}))
"""


def probe(body: str) -> dict[str, Any]:
    """Run ``body`` (which sets ``result``) and report what it loaded and patched."""
    return run(PRELUDE + textwrap.dedent(body) + EPILOGUE)  # type: ignore[no-any-return]


def test_import_gymie_is_light() -> None:
    out = probe(
        """
        import gymie
        result = [gymie.__version__, gymie.WrongAction.__name__, socket.socket.__module__]
        """
    )
    assert out["loaded"] == [] and out["patched"] == []
    assert out["result"][1:] == ["WrongAction", "socket"]


def test_override_loads_the_api_but_not_eventlet() -> None:
    out = probe(
        """
        import gymie
        result = gymie.override.__module__
        """
    )
    assert out["result"] == "gymie.api"
    assert "eventlet" not in out["loaded"] and "gymie.server" not in out["loaded"]
    assert "gymie.api" in out["loaded"] and out["patched"] == []


def test_start_loads_eventlet_lazily_and_patches_nothing() -> None:
    out = probe(
        """
        import gymie
        before = "eventlet" in sys.modules
        start = gymie.start
        import gymie.server
        result = [before, start is gymie.server.start, start.__module__]
        """
    )
    assert out["result"] == [False, True, "gymie.server.launch"]
    assert "eventlet" not in out["loaded"] and out["patched"] == []  # only serving loads it


def test_unknown_attribute_is_an_attribute_error() -> None:
    out = probe(
        """
        import gymie
        try:
            gymie.nope
        except AttributeError as err:
            result = str(err)
        """
    )
    assert out["result"] == "module 'gymie' has no attribute 'nope'" and out["loaded"] == []
