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
and a row in ``ATTACKS``. The first rows attack the transport (descriptors, slow requests, slow
readers, dribbled frames), the others the core (error echoes, batches, num_envs and kwargs bombs,
huge space descriptions, limit races, processes per request, log floods, ids).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

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
# -- the transport (issue 8 items 1, 2, 5) ------------------------------------------------


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


# -- the core (issue 8 items 2, 3, 4, 7, 9, 10) -----------------------------------------


def talk(target: Target, subprotocol: str | None = None) -> ClientConnection:
    """A JSON-RPC WebSocket of the attacker (closed with the target's sockets)."""
    subprotocols = [subprotocol] if subprotocol else None
    ws = connect(target.server.url, max_size=None, open_timeout=10, subprotocols=subprotocols)  # type: ignore[arg-type]
    target.sockets.append(ws.socket)
    return ws


def error_echo(target: Target) -> str:
    """Bad frames of 1 MB (JSON, msgpack), a wrong param and a wrong action of 1 MB: the replies' size."""
    big = "x" * 2**20
    ws = talk(target)
    ws.send(request(0, "server_info"))
    ws.recv(timeout=30)
    instance_id = json.loads(_call(ws, "make", env_id="CartPole-v1"))["result"]["instance_id"]
    _call(ws, "reset", instance_id=instance_id)
    sent = received = 0
    frames = [big + "{", request(1, "reset", bogus=big)]
    frames.append(request(2, "step", instance_id=instance_id, action=[0] * 2**18))
    for raw in frames * 4:
        ws.send(raw)
        sent += len(raw)
        received += len(ws.recv(timeout=60))
    mp = talk(target, "gymie.msgpack")
    for _ in range(4):
        mp.send(b"\xc1" * 2**20)
        sent += 2**20
        received += len(mp.recv(timeout=60))
    return f"16 bad requests, {sent / 1e6:.1f} MB in, {received / 1e3:.1f} KB of replies"


def _call(ws: ClientConnection, method: str, **params: object) -> str:
    ws.send(request(9, method, **params))
    reply = ws.recv(timeout=120)
    return reply if isinstance(reply, str) else reply.decode()


def huge_batch(target: Target) -> str:
    """One 7.7 MiB message (under --max-message-size): a JSON-RPC batch of 165,000 list_envs calls."""
    ws = talk(target)
    calls = [{"jsonrpc": "2.0", "id": i, "method": "list_envs"} for i in range(165_000)]
    batch = json.dumps(calls, separators=(",", ":"))
    started = time.monotonic()
    ws.send(batch)
    try:
        reply = ws.recv(timeout=target.seconds)
        answer = f"reply {len(reply) / 1e6:.1f} MB after {time.monotonic() - started:.1f} s"
    except TimeoutError:
        answer = f"no reply within {target.seconds:g} s"
    except ConnectionClosed as exc:
        answer = f"closed: {exc}"[:80]
    return f"{len(batch) / 2**20:.1f} MiB batch, 165,000 calls; {answer}"


def num_envs_bomb(target: Target) -> str:
    """make_vec CartPole with num_envs 20,000,000 (a 152-byte request)."""
    return _answer(target, "make_vec", env_id="CartPole-v1", num_envs=20_000_000)


def kwargs_bomb(target: Target) -> str:
    """make FrozenLake-v1 with a 700x700 ``desc`` (1 MB of kwargs)."""
    return _answer(target, "make", env_id="FrozenLake-v1", desc=["F" * 700] * 700)


def _answer(target: Target, method: str, **params: object) -> str:
    ws = talk(target)
    started = time.monotonic()
    ws.send(request(1, method, **params))
    try:
        reply = json.loads(ws.recv(timeout=target.seconds))
    except TimeoutError:
        return f"1 {method}: no reply within {target.seconds:g} s"
    what = reply["error"]["message"][:60] if "error" in reply else "made"
    return f"1 {method}: {what!r} after {time.monotonic() - started:.1f} s"


def huge_description(target: Target) -> str:
    """observation_space of a 16-env vector env of 256x256 RGB frames (--isolation process)."""
    ws = talk(target)
    made = json.loads(_call(ws, "make_vec", env_id="gymie-test/Big-v0", num_envs=16, side=256))
    instance_id = made["result"]["instance_id"]
    started = time.monotonic()
    ws.send(request(2, "observation_space", instance_id=instance_id))
    try:
        reply = ws.recv(timeout=target.seconds)
        answer = f"{len(reply) / 1e6:.0f} MB reply after {time.monotonic() - started:.1f} s"
    except TimeoutError:
        answer = f"no reply within {target.seconds:g} s"
    return f"1 observation_space (6.3 M numbers); {answer}"


def concurrent_makes(target: Target) -> str:
    """6 connections make CartPole at once: --isolation process --max-envs 3 (the probe holds 1)."""
    sockets = [talk(target) for _ in range(6)]
    replies: list[str] = []
    barrier = threading.Barrier(6)

    def make(ws: ClientConnection) -> None:
        barrier.wait(10)
        replies.append(_call(ws, "make", env_id="CartPole-v1"))

    threads = [threading.Thread(target=make, args=(ws,)) for ws in sockets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    made = sum('"result"' in reply for reply in replies)
    time.sleep(target.seconds)
    return f"6 concurrent makes: {made} made (room for 2)"


def async_processes(target: Target) -> str:
    """make_vec async with num_envs 8 under --max-envs 2 --max-workers 4: the processes it starts."""
    ws = talk(target)
    reply = _call(ws, "make_vec", env_id="CartPole-v1", num_envs=8, vectorization_mode="async")
    children = _children(target)
    outcome = "made" if '"result"' in reply else json.loads(reply)["error"]["message"][:50]
    return f"1 async make_vec of 8: {outcome!r}; {children} processes under the server"


def _children(target: Target) -> int:
    assert target.server.proc is not None
    pids = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]
    parents = {}
    for pid in pids:
        try:
            parents[pid] = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    found, frontier = set(), {target.server.proc.pid}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return len(found)


def log_flood(target: Target) -> str:
    """5,000 notifications resetting CartPole with bad options (no reply): the log they write."""
    ws = talk(target)
    instance_id = json.loads(_call(ws, "make", env_id="CartPole-v1"))["result"]["instance_id"]
    assert target.server.proc is not None
    written = _wchar(target.server.proc.pid)
    params = {"instance_id": instance_id, "options": {"low": "x"}}
    note = {"jsonrpc": "2.0", "method": "reset", "params": params}
    text = json.dumps(note)
    for _ in range(5000):
        ws.send(text)
    _call(ws, "server_info")  # all handled
    logged = _wchar(target.server.proc.pid) - written
    return f"5,000 notifications ({5000 * len(text) / 1e3:.0f} KB in); {logged / 1e3:.0f} KB written (log)"


def _wchar(pid: int) -> int:
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    return 0


def id_overflow(target: Target) -> str:
    """make with id 10**30 (JSON text in a msgpack session: the reply cannot carry it), 20 times."""
    ws = talk(target, "gymie.msgpack")
    for _ in range(20):
        make = {"jsonrpc": "2.0", "id": 10**30, "method": "make", "params": {"env_id": "CartPole-v1"}}
        ws.send(json.dumps(make))
        ws.recv(timeout=30)
    envs = json.loads(_get(target.port, "/healthz"))["envs"] - 1  # the probe's own
    return f"20 makes with id 10**30: {envs} envs made and counted"


def _get(port: int, path: str) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(f"GET {path} HTTP/1.0\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data.split(b"\r\n\r\n", 1)[1].decode()


@dataclass(frozen=True)
class Attack:
    name: str
    run: Callable[[Target], str]
    args: tuple[str, ...] = ()
    nofile: int = 4096
    seconds: float = 10.0


IMPORT = ("--import", "tests.hostile_envs")
ATTACKS = [
    Attack("half-open flood (ulimit -n 1024)", half_open_flood, nofile=1024, seconds=5.0),
    Attack("slowloris, --max-connections 5", slowloris, ("--max-connections", "5"), seconds=8.0),
    Attack("keep-alive second request dripped", keepalive_drip),
    Attack("request body dripped", body_drip),
    Attack("slow reader (default --send-timeout)", slow_reader, seconds=40.0),
    Attack("frame dribbled 1 byte/segment", dribbled_frame, seconds=5.0),
    Attack("error replies echo the input", error_echo, seconds=5.0),
    Attack("huge JSON-RPC batch", huge_batch, seconds=60.0),
    Attack("make_vec num_envs 20,000,000", num_envs_bomb, seconds=30.0),
    Attack("env kwargs bomb (FrozenLake 700x700)", kwargs_bomb, seconds=30.0),
    Attack(
        "huge space description, --isolation process",
        huge_description,
        (*IMPORT, "--isolation", "process"),
        seconds=60.0,
    ),
    Attack(
        "concurrent makes, --isolation process --max-envs 3",
        concurrent_makes,
        ("--isolation", "process", "--max-envs", "3"),
        seconds=1.0,
    ),
    Attack(
        "async make_vec of 8, --max-envs 2",
        async_processes,
        ("--max-envs", "2", "--max-workers", "4"),
        seconds=1.0,
    ),
    Attack("client-error log flood", log_flood, seconds=1.0),
    Attack("id 10**30 over msgpack", id_overflow, seconds=1.0),
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


def known_args(args: tuple[str, ...], root: Path, env: dict[str, str]) -> list[str]:
    """``args`` without the flags (and their values) that the checkout at ``root`` does not know."""
    shown = subprocess.run(
        [sys.executable, "-m", "gymie", "--help"], cwd=root, env=env, capture_output=True, text=True
    )
    kept: list[str] = []
    for i, arg in enumerate(args):
        flag = arg if arg.startswith("--") else args[i - 1] if i and args[i - 1].startswith("--") else ""
        if not flag or flag in shown.stdout:
            kept.append(arg)
    return kept


def measure(attack: Attack, root: Path) -> dict[str, str]:
    """Run one attack against a fresh server; return the table row."""
    limits = ["prlimit", f"--as={MEMORY}", f"--nofile={attack.nofile}:{attack.nofile}"]
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    args = known_args(attack.args, root, env)  # main before a flag existed: the row without it
    cmd = [*limits, sys.executable, "-m", "gymie", "--host", "127.0.0.1", "--port", "0", *args]
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
