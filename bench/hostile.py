"""Hostile clients against a real server: what each attack costs the server and everyone else.

Each row of ``ATTACKS`` starts a fresh server (``python -m gymie`` from ``--root``, under
``prlimit``: 2 GiB of address space, and the row's descriptor limit), connects a *probe*
client that steps CartPole over JSON-RPC the whole time, runs the attack, and measures:

- **RSS over baseline**: the server's peak VmRSS during the attack minus its RSS just before,
  and what is still held at the end of the attack window;
- **probe worst**: the probe's slowest step round trip, and the slowest ``GET /healthz``
  (polled every 0.25 s); ``lost`` when the probe's connection or the server died;
- **held**: how many of the attacker's connections the server process still holds at the end;
- **inputs**: what the attacker sent;
- **after**: once the attacker's sockets are closed, whether the server answers ``/healthz``
  again within 15 s, or exited.

Nothing is asserted: the table is what was measured. To compare with another checkout
(e.g. main), export it and pass ``--root``::

    git archive main | tar -x -C /tmp/gymie-main
    .venv/bin/python bench/hostile.py --root /tmp/gymie-main

Add an attack by writing ``def my_attack(target: Target) -> str`` (it returns its inputs)
and a row in ``ATTACKS``.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from websockets.sync.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import ROOT, Server  # noqa: E402

MEMORY = 2 * 2**30
HANDSHAKE = (
    b"GET /gym HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


@dataclass
class Target:
    """The server under attack, and the attack's time budget."""

    server: Server
    port: int
    seconds: float
    sockets: list[socket.socket] = field(default_factory=list)

    def connect(self, rcvbuf: int | None = None) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.settimeout(10)
        sock.connect(("127.0.0.1", self.port))
        self.sockets.append(sock)
        return sock

    def websocket(self, rcvbuf: int | None = None) -> socket.socket:
        sock = self.connect(rcvbuf)
        sock.sendall(HANDSHAKE)
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(1)
        return sock


def frame(payload: bytes, opcode: int = 1, length: int | None = None) -> bytes:
    """A masked (mask 0) final frame; ``length`` may announce more than ``payload``."""
    size = len(payload) if length is None else length
    if size < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
    return head + bytes(4) + payload


def request(request_id: int, method: str, **params: object) -> str:
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})


def rpc(request_id: int, method: str, **params: object) -> bytes:
    return frame(request(request_id, method, **params).encode())


# -- attacks: each returns what it tried --------------------------------------------------


def half_open_flood(target: Target) -> str:
    """1,100 TCP connections that send nothing, under ``ulimit -n 1024``."""
    opened = 0
    for _ in range(1100):
        try:
            target.connect()
            opened += 1
        except OSError:
            break
    time.sleep(target.seconds)
    return f"{opened} connections, silent"


def slowloris(target: Target) -> str:
    """4 idle WebSockets fill ``--max-connections 5`` (the probe is the 5th); 200 more drip headers."""
    for _ in range(4):
        target.websocket()
    drippers = [target.connect() for _ in range(200)]
    for sock in drippers:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    end = time.monotonic() + target.seconds
    sent = 0
    while time.monotonic() < end:
        for sock in drippers:
            try:
                sock.send(b"X")
                sent += 1
            except OSError:
                pass
        time.sleep(1.0)
    return f"4 WebSockets + 200 connections, {sent} header bytes at 1 byte/s each"


def keepalive_drip(target: Target) -> str:
    """100 connections: one whole request each, then a second one dripped a byte a second."""
    socks = [target.connect() for _ in range(100)]
    for sock in socks:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    end = time.monotonic() + target.seconds
    while time.monotonic() < end:
        for sock in socks:
            try:
                sock.send(b"G")
            except OSError:
                pass
        time.sleep(1.0)
    return "100 connections, 1 request + 1 byte/s"


def body_drip(target: Target) -> str:
    """100 ``POST /healthz`` announcing a 1 MB body, sent a byte a second."""
    socks = [target.connect() for _ in range(100)]
    for sock in socks:
        sock.sendall(b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n")
    end = time.monotonic() + target.seconds
    while time.monotonic() < end:
        for sock in socks:
            try:
                sock.send(b"y")
            except OSError:
                pass
        time.sleep(1.0)
    return "100 connections, body at 1 byte/s"


def slow_reader(target: Target) -> str:
    """A WebSocket (4 KiB receive buffer) asks for 40 rendered CartPole frames and reads none."""
    sock = target.websocket(rcvbuf=4096)
    sock.sendall(rpc(1, "make", env_id="CartPole-v1", render_mode="rgb_array"))
    reply = sock.recv(4096)
    instance_id = json.loads(reply[2:])["result"]["instance_id"]
    sock.sendall(rpc(2, "reset", instance_id=instance_id))
    sock.settimeout(1.0)
    sent = 0
    for i in range(40):  # ~2 MB of JSON each
        try:
            sock.sendall(rpc(3 + i, "render", instance_id=instance_id))
            sent += 1
        except OSError:
            break
    time.sleep(target.seconds)
    return f"{sent} render requests (~{2 * sent} MB of replies), never read"


def dribbled_frame(target: Target) -> str:
    """A WebSocket announces an 8 MiB binary frame and sends it one byte per TCP segment."""
    sock = target.websocket()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(frame(b"", opcode=2, length=8 * 2**20 - 1))
    sent, end = 0, time.monotonic() + target.seconds
    while time.monotonic() < end:
        for _ in range(200):
            sock.send(b"x")
        sent += 200
    return f"1 frame, {sent / 1e6:.1f} MB in 1-byte segments"


@dataclass(frozen=True)
class Attack:
    name: str
    run: Callable[[Target], str]
    args: tuple[str, ...] = ()
    nofile: int = 4096
    seconds: float = 10.0


ATTACKS = [
    Attack("half-open flood (ulimit -n 1024)", half_open_flood, nofile=1024, seconds=5.0),
    Attack("slowloris, --max-connections 5", slowloris, ("--max-connections", "5"), seconds=8.0),
    Attack("keep-alive second request dripped", keepalive_drip),
    Attack("request body dripped", body_drip),
    Attack("slow reader (default --send-timeout)", slow_reader, seconds=40.0),
    Attack("frame dribbled 1 byte/segment", dribbled_frame, seconds=5.0),
]


# -- measuring ---------------------------------------------------------------------------


class Probe(threading.Thread):
    """Steps CartPole over JSON-RPC and polls /healthz, remembering the worst of each."""

    def __init__(self, url: str, port: int) -> None:
        super().__init__(daemon=True)
        self.url, self.port = url, port
        self.recording = threading.Event()
        self.done = threading.Event()
        self.worst_step = self.worst_health = 0.0
        self.lost = ""
        self._step_started = self._health_started = 0.0

    def stop_recording(self) -> None:
        """Stop; a step or health check still waiting counts with the time it has waited so far."""
        now = time.monotonic()
        if self._step_started:
            self.worst_step = max(self.worst_step, now - self._step_started)
        if self._health_started:
            self.worst_health = max(self.worst_health, now - self._health_started)
        self.recording.clear()

    def run(self) -> None:
        threading.Thread(target=self._health, daemon=True).start()
        try:
            with connect(self.url, max_size=None, open_timeout=10) as ws:
                ws.send(request(0, "make", env_id="CartPole-v1"))
                instance_id = json.loads(ws.recv(timeout=10))["result"]["instance_id"]
                calls = [("reset", {})] + [("step", {"action": 0})] * 9
                while not self.done.is_set():
                    for method, params in calls:
                        self._step_started = started = time.monotonic()
                        ws.send(request(1, method, instance_id=instance_id, **params))
                        ws.recv(timeout=60)
                        self._step_started = 0.0
                        if self.recording.is_set():
                            self.worst_step = max(self.worst_step, time.monotonic() - started)
        except Exception as exc:  # the measurement: the attack cost the probe its connection
            if not self.done.is_set():
                self.lost = type(exc).__name__

    def _health(self) -> None:
        while not self.done.is_set():
            self._health_started = started = time.monotonic()
            answered(self.port, 30.0)
            self._health_started = 0.0
            if self.recording.is_set():
                self.worst_health = max(self.worst_health, time.monotonic() - started)
            time.sleep(0.25)


def answered(port: int, timeout: float) -> bool:
    """Whether ``GET /healthz`` got a 200 within ``timeout`` seconds."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
            return sock.recv(4096).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def after(server: Server, port: int, grace: float = 15.0) -> str:
    """The server once the attacker has gone: still serving, or not (waits up to ``grace`` s)."""
    assert server.proc is not None
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            return f"exited ({server.proc.returncode})"
        if answered(port, 1.0):
            return "serving"
        time.sleep(0.25)
    return f"not answering after {grace:g} s"


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def held_sockets(pid: int, peers: list[socket.socket]) -> int:
    """How many of ``peers`` (the attacker's sockets) the server process still has a socket for."""
    ports = set()
    for sock in peers:
        try:
            ports.add(sock.getsockname()[1])
        except OSError:
            pass
    remote_port = {}  # socket inode -> its peer's port
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        remote_port[fields[9]] = int(fields[2].rsplit(":", 1)[1], 16)
    held = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            link = os.readlink(fd)
        except OSError:
            continue
        if link.startswith("socket:["):
            held += remote_port.get(link[8:-1]) in ports
    return held


def measure(attack: Attack, root: Path) -> dict[str, str]:
    """Run one attack against a fresh server; return the table row."""
    limits = ["prlimit", f"--as={MEMORY}", f"--nofile={attack.nofile}:{attack.nofile}"]
    cmd = [*limits, sys.executable, "-m", "gymie", "--host", "127.0.0.1", "--port", "0", *attack.args]
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    server = Server(attack.name, cmd, root, env).start()
    assert server.proc is not None
    pid = server.proc.pid
    port = int(server.url.rsplit(":", 1)[1].split("/")[0])
    probe = Probe(server.url, port)
    probe.start()
    time.sleep(1.0)
    base_rss, peak = rss(pid), [0]
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.is_set() and server.proc is not None and server.proc.poll() is None:
            try:
                peak[0] = max(peak[0], rss(pid))
            except OSError:
                return
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    target = Target(server, port, attack.seconds)
    probe.recording.set()
    try:
        inputs = attack.run(target)
        probe.stop_recording()
        alive = server.proc.poll() is None
        held = held_sockets(pid, target.sockets) if alive else 0
        end_rss = rss(pid) - base_rss if alive else 0
        for sock in target.sockets:
            sock.close()
        outcome = after(server, port)
    finally:
        for sock in target.sockets:
            sock.close()
        sampling.set()
        probe.done.set()
        server.stop()
    mb = 2**20
    return {
        "attack": attack.name,
        "inputs tried": inputs,
        "RSS over baseline: peak / at end": f"{(peak[0] - base_rss) / mb:+.1f} / {end_rss / mb:+.1f} MB",
        "probe worst: step / /healthz": f"{probe.worst_step:.2f} s / {probe.worst_health:.2f} s"
        + (f" (probe lost: {probe.lost})" if probe.lost else ""),
        "held at end": f"{held} sockets" if alive else "—",
        "server after the attack": outcome,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose server is attacked")
    parser.add_argument("--only", help="run the attacks whose name contains this")
    args = parser.parse_args(argv)
    rows = [measure(a, args.root.resolve()) for a in ATTACKS if not args.only or args.only in a.name]
    print(f"server from {args.root.resolve()}\n")
    print("| " + " | ".join(rows[0]) + " |")
    print("|" + "---|" * len(rows[0]))
    for row in rows:
        print("| " + " | ".join(row.values()) + " |")


if __name__ == "__main__":
    main()
