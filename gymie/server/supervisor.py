"""``--processes N``: one port served by N processes, each with its own eventlet hub and registries.

The parent (this module; it never imports eventlet) binds the address first: that checks the
port is free and, for ``--port 0``, picks it. It keeps that socket bound, not listening, so
the port stays reserved, and starts N children with the spawn start method. Each child binds
the same port with SO_REUSEPORT and serves it; the kernel spreads new connections over them.
The parent logs the ``listening on`` line once every child listens, forwards SIGTERM/SIGINT
to the children (each shuts down gracefully), and restarts a child that dies on its own.

Children die with the parent, however it dies: each watches the read end of a pipe whose only
write end the parent holds, and shuts down gracefully at its end of file (``PR_SET_PDEATHSIG``
would fire when the parent *thread* ends, and exists on Linux only). Their listening sockets
close at once, and the parent binds with SO_REUSEADDR, so a new server can take the port
right after (connections of the old one may linger in TIME_WAIT).

An instance id belongs to the process that made it, that is, to its connection: a client
uses an id over the connection that made it, since another connection may reach another
process, where that id does not exist. Each process also has its own ``/healthz`` and
``/metrics``, and its own limits (``--max-envs`` and ``--max-connections`` are per process).
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from multiprocessing.connection import Connection, wait
from typing import Any

from gymie import logs
from gymie.server import security
from gymie.settings import Settings

log = logging.getLogger("gymie")
READY_TIMEOUT = 60.0
RESTART_DELAY = 1.0
EXIT_GRACE = 5.0
"""Seconds past ``shutdown_timeout`` the parent waits for children before killing them."""


def reserve(host: str, port: int) -> socket.socket:
    """Bind ``(host, port)`` without listening, then allow SO_REUSEPORT binds by the children.

    Raises:
        OSError: the address is in use or not available (with a clear message).
    """
    if not hasattr(socket, "SO_REUSEPORT"):
        raise OSError(errno.ENOPROTOOPT, "--processes needs SO_REUSEPORT (Linux, BSD, macOS)")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # only listening sockets conflict
        sock.bind((host, port))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    except OSError as err:
        sock.close()
        if err.errno == errno.EADDRINUSE:
            raise OSError(err.errno, f"Address http://{host}:{port} already in use") from None
        raise OSError(err.errno, f"Cannot listen on http://{host}:{port}: {err.strerror}") from None
    return sock


def run(host: str, port: int, settings: Settings, processes: int) -> int:
    """Serve with ``processes`` children until a signal; return the exit status (0: all stopped cleanly).

    Raises:
        OSError: the address cannot be bound.
    """
    reserved = reserve(host, port)
    try:
        if settings.isolation == "ray":  # one cluster for all: start it here (the children join it)
            from gymie.backends.ray import cluster

            settings = cluster.for_children(settings)
        supervisor = Supervisor(host, reserved.getsockname()[1], settings, processes)
        for warning in security.startup_warnings(host, settings):
            log.warning(warning)
        return supervisor.run()
    finally:
        reserved.close()


class Supervisor:
    """Starts, watches, restarts and stops the server processes."""

    def __init__(self, host: str, port: int, settings: Settings, processes: int) -> None:
        self.host, self.port, self.settings = host, port, settings
        self.context = multiprocessing.get_context("spawn")
        self.children: list[Any] = [None] * processes
        self.stopping = False
        # The children watch the read end; the write end lives only here, so it closes when we die.
        self._alive_read, self._alive_write = self.context.Pipe(duplex=False)

    @property
    def url(self) -> str:
        """The WebSocket URL every child serves."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ws://{host}:{self.port}/gym"

    def run(self) -> int:
        """Start every child, serve until a signal, stop them; return the exit status."""
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            if not self._start_all():
                self._stop_all()
                return 1
            log.info("Gymie listening on %s (%d processes)", self.url, len(self.children))
            self._watch()
            return self._stop_all()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _spawn(self, index: int) -> Connection:
        ready_read, ready_write = self.context.Pipe(duplex=False)
        level = logging.getLogger("gymie").getEffectiveLevel()
        child = self.context.Process(
            target=child_main,
            args=(self.host, self.port, self.settings, level, ready_write, self._alive_read),
            name=f"gymie-{index}",
        )
        child.start()
        ready_write.close()
        self.children[index] = child
        return ready_read

    def _start_all(self) -> bool:
        pending = {self._spawn(i): i for i in range(len(self.children))}
        deadline = time.monotonic() + READY_TIMEOUT
        while pending and not self.stopping and time.monotonic() < deadline:
            for ready in wait(list(pending), timeout=0.5):
                assert isinstance(ready, Connection)
                index = pending.pop(ready)
                try:
                    ready.recv()
                except EOFError:
                    log.error("server process %d failed to start", index)
                    return False
        return not pending and not self.stopping

    def _watch(self) -> None:
        restarting: dict[Connection, int] = {}
        while not self.stopping:
            ready = wait([child.sentinel for child in self.children] + list(restarting), timeout=1.0)
            for conn in [r for r in ready if isinstance(r, Connection)]:
                index = restarting.pop(conn)
                with contextlib.suppress(EOFError):  # EOF: it died again; its sentinel tells
                    log.info("server process %d is back", conn.recv())
                conn.close()
            for index, child in enumerate(self.children):
                if child.exitcode is not None and not self.stopping:
                    log.error("server process %d exited (code %s); restarting it", child.pid, child.exitcode)
                    time.sleep(RESTART_DELAY)
                    restarting[self._spawn(index)] = index

    def _on_signal(self, signum: int, frame: Any) -> None:
        self.stopping = True
        for child in self.children:
            if child is not None and child.exitcode is None:
                try:
                    os.kill(child.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass

    def _stop_all(self) -> int:
        if not self.stopping:  # else the signal was forwarded already: a second one cuts shutdowns short
            self._on_signal(signal.SIGTERM, None)
        deadline = time.monotonic() + self.settings.shutdown_timeout + EXIT_GRACE
        status = 0
        for child in self.children:
            if child is None:
                continue
            child.join(max(0.0, deadline - time.monotonic()))
            if child.exitcode is None:
                log.error("server process %d did not stop in time; killing it", child.pid)
                child.kill()
                child.join()
            log.debug("server process %d exited with %s", child.pid, child.exitcode)
            status = status or int(child.exitcode != 0)
        return status


def child_main(
    host: str, port: int, settings: Settings, log_level: int, ready: Connection, parent_alive: Connection
) -> None:
    """One server process: import the user's modules, bind the shared port, say so, serve.

    ``parent_alive`` reaches end of file when the supervisor dies: the process then shuts down.
    """
    logs.configure(log_level)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # until the server installs its own handlers
    for module in settings.imports:
        importlib.import_module(module)
    from gymie.server import green, serving  # eventlet loads here, in the child only

    try:
        sock = serving.listen(host, port, reuse_port=True)
    except OSError as err:
        print(f"gymie: {err.strerror or err}", file=sys.stderr)
        raise SystemExit(1) from None

    def say_ready() -> None:
        ready.send(os.getpid())
        ready.close()
        green.watch_parent(parent_alive.fileno())

    serving.serve(sock, settings, on_ready=say_ready)
