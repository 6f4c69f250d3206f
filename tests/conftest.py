"""Shared fixtures: a real gymie server in a subprocess on an ephemeral loopback port."""

from __future__ import annotations

import contextlib
import os
import re
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Base time unit for every wait in the tests; raise GYMIE_TEST_TIMEOUT_SCALE on a slow machine.
SCALE = float(os.environ.get("GYMIE_TEST_TIMEOUT_SCALE", "1"))
TIMEOUT = 10.0 * SCALE
LISTENING = re.compile(r"listening on (ws://\S+)")


@dataclass
class ServerProcess:
    """A ``python -m gymie`` subprocess; ``url`` is its WebSocket URL, ``output`` what it logged."""

    proc: subprocess.Popen[str]
    url: str = ""
    output: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    @property
    def http(self) -> str:
        return self.url.replace("ws://", "http://").removesuffix("/gym")

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1].split("/")[0])

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(TIMEOUT)
        if self.reader is not None:
            self.reader.join(TIMEOUT)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return self.proc.returncode


def start_server(
    *args: str,
    env: dict[str, str] | None = None,
    command: list[str] | None = None,
    memory_cap: int | None = None,
    cwd: Path = ROOT,
) -> ServerProcess:
    """Start ``python -m gymie --host 127.0.0.1 --port 0 ARGS`` and wait until it says where it listens.

    ``command`` replaces ``python -m gymie --host 127.0.0.1 --port 0`` (e.g. a script calling
    ``gymie.start``). ``memory_cap`` (bytes) caps the server's address space (``RLIMIT_AS``,
    inherited by its workers): a regression that bloats it then fails the test instead of
    waking the OOM killer. ``cwd`` is its working directory (first on its ``sys.path``).
    """
    cmd = [*(command or [sys.executable, "-m", "gymie", "--host", "127.0.0.1", "--port", "0"]), *args]

    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    if memory_cap is not None:  # set from here: a preexec_fn would fork() with eventlet loaded in the tests
        resource.prlimit(proc.pid, resource.RLIMIT_AS, (memory_cap, memory_cap))
    server = ServerProcess(proc)
    found = threading.Event()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            server.output.append(line)
            match = LISTENING.search(line)
            if match and not found.is_set():
                server.url = match.group(1)
                found.set()

    server.reader = threading.Thread(target=pump, daemon=True)
    server.reader.start()
    deadline = time.monotonic() + 3 * TIMEOUT
    while not found.wait(0.05):
        if proc.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError("gymie server did not start:\n" + "".join(server.output))
    return server


@contextlib.contextmanager
def running_server(*args: str, **options: Any) -> Iterator[ServerProcess]:
    """:func:`start_server` for the length of a ``with`` block: stopped at its end, whatever happens."""
    srv = start_server(*args, **options)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="session")
def server() -> Iterator[ServerProcess]:
    """One default server for the session's integration tests."""
    with running_server() as srv:
        yield srv


@pytest.fixture(scope="module")
def support_server() -> Iterator[ServerProcess]:
    """A server that can also make the ``gymie-test/*`` envs of tests/support.py."""
    with running_server("--import", "tests.support") as srv:
        yield srv


@pytest.fixture
def ws_url(server: ServerProcess) -> str:
    return server.url
