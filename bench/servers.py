"""Start and stop the servers under test: each a subprocess on 127.0.0.1, an ephemeral port.

Mirrors ``tests/conftest.py``'s ``start_server`` (werkzeug's ``dev_server`` pattern): start,
read the log until it names the address it listens on, drain the log on a thread so the
server never blocks on a full pipe, terminate at the end.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PEER_VENV = BENCH / ".venv-gymie054"
PEER_PYTHON = PEER_VENV / "bin" / "python"
OPENENV_VENV = BENCH / ".venv-openenv"
OPENENV_PYTHON = OPENENV_VENV / "bin" / "python"
LISTENING = re.compile(r"listening on (ws://\S+)")


class Server:
    """A server subprocess; ``url`` is its WebSocket URL once ``start`` returns."""

    def __init__(self, name: str, cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.cmd = cmd
        self.cwd = cwd
        self.env = env
        self.url = ""
        self.output: deque[str] = deque(maxlen=200)
        self.proc: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    def start(self, timeout: float = 60.0) -> Server:
        self.proc = subprocess.Popen(
            self.cmd,
            cwd=self.cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=self.env,
        )
        found = threading.Event()

        def pump() -> None:
            assert self.proc is not None and self.proc.stdout is not None
            for line in self.proc.stdout:
                self.output.append(line)
                match = LISTENING.search(line)
                if match and not found.is_set():
                    self.url = match.group(1)
                    found.set()

        self._reader = threading.Thread(target=pump, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + timeout
        while not found.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name} did not start:\n" + "".join(self.output))
        return self

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far (Linux)."""
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def check_alive(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited:\n" + "".join(self.output))

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self._reader is not None:
            self._reader.join(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def current(*args: str, python: str = sys.executable, launcher: list[str] | None = None) -> Server:
    """The gymie in this repository: ``python -m gymie --host 127.0.0.1 --port 0 ARGS``."""
    cmd = [python, *(launcher or ["-m", "gymie"]), "--host", "127.0.0.1", "--port", "0", *args]
    return Server("gymie (current)", cmd, ROOT, _clean_env())


def peer054() -> Server:
    """gymie 0.5.4 from PyPI, in its own venv (``bench/setup_peer.sh`` makes it)."""
    return Server("gymie 0.5.4", [str(PEER_PYTHON), str(BENCH / "peer054.py")], BENCH, _clean_env())


def openenv(env_id: str) -> Server:
    """An OpenEnv 0.10 server for ``env_id``, in its own venv (``bench/setup_openenv.sh`` makes it)."""
    cmd = [str(OPENENV_PYTHON), str(BENCH / "peer_openenv.py"), "server", env_id]
    return Server(f"OpenEnv ({env_id})", cmd, BENCH, _clean_env())
