"""What one round trip costs before gymie does anything: echo servers on the same machine.

Usage: ``.venv/bin/python bench/echo_floor.py [--seconds 2] [--rounds 3]``

Each server echoes what it receives; the client (``wire.Client``, or a bare socket for the
TCP rows) sends a 94-byte legacy step request, a 94-byte msgpack-like binary frame and an
8 KiB binary frame (1024 int64 actions), and a 10-byte request answered with a 100,900-byte
frame (a Pong observation). Reported: round trips/s, p50 µs, and server CPU µs per
message. The gap between the eventlet WebSocket rows and the bare-TCP rows is eventlet's share
of gymie's per-step cost; ``gymie-ws`` is gymie's own WebSocket (``gymie.server.websocket``: one
``recv`` for what has arrived, replies sent with one ``sendmsg``), eventlet's handshake in front.
The machine is noisy: prefer many short rounds (``--seconds 0.3 --rounds 12``).
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import struct
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import servers  # noqa: E402
from wire import Client  # noqa: E402

SERVER = r"""
import sys, warnings
warnings.simplefilter("ignore")
sys.path.insert(0, {bench!r})
mode = {mode!r}
if mode.startswith("eventlet") or mode == "gymie-ws":
    import eventlet
    from eventlet import websocket, wsgi
    if mode.startswith("eventlet-tcp"):
        def serve(sock):
            while (data := sock.recv(1 << 16)):
                sock.sendall(bytes(int(data[6:])) if data[2:6] == b"big:" else data)
        listener = eventlet.listen(("127.0.0.1", 0))
        print("listening on ws://127.0.0.1:%d/gym" % listener.getsockname()[1], flush=True)
        pool = eventlet.GreenPool()
        while True:
            conn, _ = listener.accept()
            pool.spawn_n(serve, conn)
    else:
        def echo(ws):
            send = ws.send_message if mode == "gymie-ws" else ws.send
            while (message := ws.wait()) is not None:
                send(bytes(int(message[4:])) if message[:4] == b"big:" else message)
        if mode == "gymie-ws":
            sys.path.insert(0, {root!r})
            from gymie.server.websocket import GymieWebSocketWSGI
            echo = GymieWebSocketWSGI(echo, 1 << 24)
        else:
            echo = websocket.WebSocketWSGI(echo)
        listener = eventlet.listen(("127.0.0.1", 0))
        print("listening on ws://127.0.0.1:%d/gym" % listener.getsockname()[1], flush=True)
        wsgi.server(listener, echo, log_output=False)
else:  # blocking TCP, one thread per connection
    import socket, threading
    def serve(conn):
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while (data := conn.recv(1 << 16)):
            conn.sendall(bytes(int(data[6:])) if data[2:6] == b"big:" else data)
    listener = socket.create_server(("127.0.0.1", 0))
    print("listening on ws://127.0.0.1:%d/gym" % listener.getsockname()[1], flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()
"""

MODES = ["blocking-tcp", "eventlet-tcp", "eventlet-ws", "gymie-ws"]
PAYLOADS = {
    "94 B text": json.dumps({"method": "step", "params": {"instance_id": "f" * 32, "action": 1}}),
    "94 B binary": bytes(94),
    "8 KiB binary": bytes(8192 + 50),
    "100 KiB reply": b"big:100900",  # a Pong step: small request, one 210x160x3 frame back
}


class TcpEcho:
    """The same round trip without WebSocket framing: send the bytes, read as many back."""

    def __init__(self, url: str) -> None:
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def roundtrip(self, message: str | bytes) -> bytes:
        data = message.encode() if isinstance(message, str) else message
        self.sock.sendall(struct.pack("!H", 0) + data)  # a 2-byte header, as a small frame would have
        want = int(data[4:]) if data[:4] == b"big:" else len(data) + 2
        chunks, got = [], 0
        while got < want:
            chunks.append(self.sock.recv(want - got))
            got += len(chunks[-1])
        return b"".join(chunks)

    def close(self) -> None:
        self.sock.close()


def measure(
    server: servers.Server, client: TcpEcho | Client, payload: str | bytes, seconds: float
) -> dict[str, float]:
    for _ in range(200):
        client.roundtrip(payload)
    latencies = []
    cpu0 = server.cpu_seconds()
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        t0 = time.perf_counter_ns()
        client.roundtrip(payload)
        latencies.append(time.perf_counter_ns() - t0)
    elapsed = time.perf_counter() - start
    cpu = server.cpu_seconds() - cpu0
    return {
        "rate": len(latencies) / elapsed,
        "p50": statistics.median(latencies) / 1000,
        "cpu": cpu / len(latencies) * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, of {', '.join(MODES)}")
    args = parser.parse_args()
    started = {}
    try:
        for mode in args.modes.split(","):
            code = SERVER.format(bench=str(servers.BENCH), root=str(servers.ROOT), mode=mode)
            env = {"PATH": "/usr/bin:/bin", "PYTHONUNBUFFERED": "1"}
            started[mode] = servers.Server(mode, [sys.executable, "-c", code], servers.ROOT, env).start()
        results: dict[tuple[str, str], list[dict[str, float]]] = {}
        for _ in range(args.rounds):
            for mode, server in started.items():
                for label, payload in PAYLOADS.items():
                    client = TcpEcho(server.url) if "tcp" in mode else Client(server.url)
                    results.setdefault((mode, label), []).append(
                        measure(server, client, payload, args.seconds)
                    )
                    client.close()
    finally:
        for server in started.values():
            server.stop()
    print("| echo server | payload | round trips/s | p50 µs | server CPU µs/msg |")
    print("|---|---|---|---|---|")
    for (mode, label), runs in results.items():
        med = {k: statistics.median(r[k] for r in runs) for k in ("rate", "p50", "cpu")}
        print(f"| {mode} | {label} | {med['rate']:,.0f} | {med['p50']:.0f} | {med['cpu']:.0f} |")


if __name__ == "__main__":
    main()
