"""gymie benchmarks: start every server, run every load, print one side-by-side table.

Usage (from the repository root)::

    .venv/bin/python bench/run.py                  # full run, about 3 minutes
    .venv/bin/python bench/run.py --quick          # smoke run, under a minute
    .venv/bin/python bench/run.py --patched all    # also the proposed per-step changes (+P columns)

Columns: in-process Gymnasium, gymie 0.5.4 from PyPI (the peer, in ``bench/.venv-gymie054``,
made by ``bench/setup_peer.sh``), OpenEnv 0.10 from PyPI (the living peer, in
``bench/.venv-openenv``, made by ``bench/setup_openenv.sh``; its own server and its own
``EnvClient``, see ``bench/peer_openenv.py``; rows (a) and (b) only), and the gymie in this
repository spoken to in legacy JSON, JSON-RPC and msgpack by the minimal clients of
``bench/loads.py`` (JSON decoded with orjson), and through ``gymie.client`` (``RemoteEnv``,
``RemoteVectorEnv``: what a user holds). Rows: (a) CartPole-v1, one env, sequential; (b)
ALE/Pong-v5, one env (and again with clients decoding JSON with the stdlib's ``json``); (c)
CartPole vector envs (``vector_entry_point``); (d) four concurrent client processes on CartPole.
Rounds are interleaved (every column once per round, the order rotating from round to round) and
each cell is the median over the rounds. Client and servers share the machine's cores. Client
CPU is the CPU the client process used per step (for in-process: everything).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

import loads  # noqa: E402
import servers  # noqa: E402

COLUMNS = {
    "inprocess": "in-process",
    "gymie054": "gymie 0.5.4",
    "openenv": "OpenEnv 0.10",
    "legacy": "legacy JSON",
    "jsonrpc": "JSON-RPC",
    "msgpack": "msgpack",
    "client": "RemoteEnv (msgpack)",
}
REMOTE_CURRENT = ("legacy", "jsonrpc", "msgpack", "client")
JSON_VARIANTS = ("gymie054", "openenv", "legacy", "jsonrpc")
OPENENV_ENVS = {"a": "CartPole-v1", "b": "ALE/Pong-v5"}
VECTOR_SIZES = (64, 1024)
CLIENTS = 4


@dataclass
class Config:
    """How long and how often: ``full`` or ``quick``."""

    repeats: int
    seconds: float
    pong_seconds: float
    pong_json_steps: int
    concurrent_seconds: float
    warmup: int


FULL = Config(
    repeats=5, seconds=1.0, pong_seconds=1.0, pong_json_steps=25, concurrent_seconds=1.5, warmup=200
)
QUICK = Config(repeats=1, seconds=0.4, pong_seconds=0.4, pong_json_steps=4, concurrent_seconds=0.8, warmup=50)


@dataclass
class Cell:
    """The samples of one (row, column): a median and a spread, or why there is none."""

    samples: list[loads.Sample] = field(default_factory=list)
    note: str = ""

    def median(self, attr: str = "rate") -> float:
        values = [getattr(s, attr) for s in self.samples]
        values = [v for v in values if not math.isnan(v)]
        return statistics.median(values) if values else math.nan

    def spread(self) -> float:
        """Half the range over the median, as a fraction."""
        rates = [s.rate for s in self.samples]
        if len(rates) < 2:
            return math.nan
        return (max(rates) - min(rates)) / 2 / statistics.median(rates)


Results = dict[str, dict[str, Cell]]


class Bench:
    """Runs the loads against the started servers and collects the cells."""

    def __init__(
        self,
        cfg: Config,
        urls: dict[str, str],
        srv: dict[str, servers.Server],
        openenv: OpenEnv | None = None,
    ) -> None:
        self.cfg = cfg
        self.urls = urls
        self.servers = srv
        self.openenv = openenv
        self.results: Results = {}

    def cell(self, row: str, column: str) -> Cell:
        return self.results.setdefault(row, {}).setdefault(column, Cell())

    def _server_cpu(self, column: str, row: str = "") -> servers.Server | None:
        if column == "inprocess":
            return None
        if column == "openenv":
            return self.openenv.servers.get(row) if self.openenv else None
        return self.servers[
            "peer" if column == "gymie054" else "patched" if column.endswith("+P") else "current"
        ]

    def _timed(self, column: str, run: Callable[[], loads.Sample], row: str = "") -> loads.Sample:
        server = self._server_cpu(column, row)
        cpu0 = server.cpu_seconds() if server else math.nan
        sample = run()
        if server:
            server.check_alive()
            sample.server_cpu = (server.cpu_seconds() - cpu0) / sample.calls * 1e6
        return sample

    def _client(self, column: str, stdlib: bool = False) -> Any:
        if stdlib:
            return loads.VARIANTS[kind(column)](self.urls.get(column), stdlib=True)
        return loads.VARIANTS[kind(column)](self.urls.get(column))

    # (a) and (b)
    def single(
        self,
        row: str,
        env_id: str,
        columns: tuple[str, ...],
        n_actions: int,
        pong: bool = False,
        stdlib: bool = False,
    ) -> None:
        """Rows (a), (b); ``stdlib``: only the JSON columns, their clients decoding with ``json``."""
        cfg = self.cfg
        actions = loads.single_actions(n_actions)
        if stdlib:
            columns = tuple(c for c in columns if kind(c) in ("gymie054", "legacy", "jsonrpc"))
        for r in range(cfg.repeats):
            for column in rotated(columns, r):
                slow = pong and kind(column) in JSON_VARIANTS
                seconds = cfg.pong_seconds if pong else cfg.seconds
                max_steps = cfg.pong_json_steps if slow else 10**9
                warmup = 3 if slow else (cfg.warmup // 4 if pong else cfg.warmup)
                if column == "openenv":
                    self._openenv_round(row, env_id, n_actions, seconds, max_steps, warmup)
                    continue
                client = self._client(column, stdlib)
                try:
                    handle = client.make(env_id)
                    client.reset(handle)
                    sample = self._timed(
                        column,
                        lambda c=client, h=handle, s=seconds, m=max_steps, w=warmup: loads.run_single(
                            c, h, actions, s, min(m, 5), m, w
                        ),
                        row,
                    )
                finally:
                    client.close()
                self.cell(row, column).samples.append(sample)

    def _openenv_round(
        self, row: str, env_id: str, n_actions: int, seconds: float, max_steps: int, warmup: int
    ) -> None:
        """One sample of OpenEnv's own client against its own server (both in its venv)."""
        cell = self.cell(row, "openenv")
        if cell.note:
            return
        if self.openenv is None or self.openenv.notes.get(row):
            cell.note = self.openenv.notes.get(row, "n/a") if self.openenv else "n/a (--no-openenv)"
            return
        server = self.openenv.servers[row]
        command = {
            "url": server.url,
            "env_id": env_id,
            "n_actions": n_actions,
            "seconds": seconds,
            "min_steps": min(max_steps, 5),
            "max_steps": max_steps,
            "warmup": warmup,
        }
        answer = self.openenv.run({"cmd": "prep", **command})  # connect and reset, untimed
        if answer.get("ok"):

            def run() -> loads.Sample:
                answer.update(self.openenv.run({"cmd": "go"}))  # type: ignore[union-attr]
                if not answer.get("ok"):
                    return loads.Sample(0, 0.0, 1)
                fields = ("steps", "seconds", "calls", "p50_us", "p99_us", "client_cpu")
                return loads.Sample(**{k: answer[k] for k in fields})

            sample = self._timed("openenv", run, row)
        if answer.get("ok"):
            cell.samples.append(sample)
        else:
            cell.note = f"n/a (error: {answer.get('error', '?')[:80]})"

    # (c)
    def vector(self, columns: tuple[str, ...]) -> None:
        cfg = self.cfg
        missing = vector_missing(self.urls["jsonrpc"])
        for num_envs in VECTOR_SIZES:
            row = f"c{num_envs}"
            for column in columns:
                if kind(column) not in ("inprocess", "jsonrpc", "msgpack", "client"):
                    self.cell(row, column).note = "—"
                elif column != "inprocess" and missing:
                    self.cell(row, column).note = "pending"
            active = [c for c in columns if not self.cell(row, c).note]
            for r in range(cfg.repeats):
                for column in rotated(active, r):
                    batches = loads.vector_actions(num_envs, as_list=kind(column) == "jsonrpc")
                    client = self._client(column)
                    try:
                        handle = client.make_vec("CartPole-v1", num_envs)
                        sample = self._timed(
                            column,
                            lambda c=client, h=handle, b=batches, n=num_envs: loads.run_vector(
                                c, h, b, n, cfg.seconds, 5, cfg.warmup // 4
                            ),
                        )
                    finally:
                        client.close()
                    self.cell(row, column).samples.append(sample)
        if missing:
            print(f"  (c) over the wire: pending ({missing})", flush=True)

    # (d)
    def concurrent(self, columns: tuple[str, ...]) -> None:
        cfg = self.cfg
        columns = tuple(c for c in columns if c != "openenv")  # one env per OpenEnv app: rows (a), (b)
        with workers(CLIENTS) as pool:
            for r in range(cfg.repeats):
                for column in rotated(columns, r):
                    self.cell("d", column).samples.append(self._concurrent_round(pool, column))

    def _concurrent_round(self, pool: list[Worker], column: str) -> loads.Sample:
        cfg = self.cfg
        for i, w in enumerate(pool):
            w.send(
                cmd="prep",
                variant=kind(column),
                url=self.urls.get(column),
                tag=f"c{i}",
                seconds=cfg.concurrent_seconds,
                warmup=cfg.warmup,
            )
        for w in pool:
            answer = w.receive()
            if not answer.get("ready"):
                raise RuntimeError(f"(d) {column}: client not ready: {answer}")
        server = self._server_cpu(column)
        cpu0 = server.cpu_seconds() if server else math.nan
        for w in pool:
            w.send(cmd="go")
        answers = [w.receive() for w in pool]
        problems = [a.get("error") for a in answers if not a.get("ok")]
        lost = sum(a.get("sent", 0) - a.get("replies", 0) for a in answers)
        sample = loads.Sample(
            steps=sum(a.get("steps", 0) for a in answers),
            seconds=max((a.get("seconds", 0.0) for a in answers), default=0.0),
            calls=sum(a.get("calls", 0) for a in answers),
            p50_us=statistics.median(a.get("p50_us", math.nan) for a in answers),
            p99_us=max(a.get("p99_us", math.nan) for a in answers),
        )
        # Sum of per-client rates: the clients run over the same window.
        sample.steps = round(
            sum(a["steps"] / a["seconds"] for a in answers if a.get("seconds")) * sample.seconds
        )
        if server:
            sample.server_cpu = (server.cpu_seconds() - cpu0) / max(sample.calls, 1) * 1e6
        checked = sum(a.get("burst", 0) for a in answers)
        sample.check = {"ok": not problems and lost == 0, "lost": lost, "burst": checked, "errors": problems}
        return sample


class OpenEnv:
    """OpenEnv's peer column: its venv, one server per env id (as OpenEnv serves one env per app),
    and one client process (``peer_openenv.py client``) that runs the timed loops in that venv.

    Whatever fails (the venv, a server) becomes a note in the column instead of an error.
    """

    def __init__(self, rows: str) -> None:
        self.servers: dict[str, servers.Server] = {}
        self.notes: dict[str, str] = {}
        self.proc: subprocess.Popen[str] | None = None
        setup = subprocess.run(
            ["bash", str(servers.BENCH / "setup_openenv.sh")], capture_output=True, text=True
        )
        if setup.returncode != 0:
            why = (setup.stderr.strip() or setup.stdout.strip() or f"exit {setup.returncode}").splitlines()[
                -1
            ]
            self.notes = {row: f"n/a (setup failed: {why[:80]})" for row in OPENENV_ENVS}
            return
        for row, env_id in OPENENV_ENVS.items():
            if row not in rows:
                continue
            try:
                self.servers[row] = servers.openenv(env_id).start(timeout=120)
            except RuntimeError as exc:
                self.notes[row] = f"n/a (server failed: {str(exc).splitlines()[-1][:80]})"
        self.proc = subprocess.Popen(
            [str(servers.OPENENV_PYTHON), str(servers.BENCH / "peer_openenv.py"), "client"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, command: dict[str, Any]) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            return {"ok": False, "error": "the OpenEnv client process died"}
        answer: dict[str, Any] = json.loads(line)
        return answer

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
            self.proc.stdin.flush()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for server in self.servers.values():
            server.stop()


class Worker:
    """One client process (``loads.py worker``), driven by JSON lines."""

    def __init__(self) -> None:
        self.stderr = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(
            [sys.executable, str(servers.BENCH / "loads.py"), "worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
        )

    def send(self, **command: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()

    def receive(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.stderr.seek(0)
            raise RuntimeError("client process died:\n" + self.stderr.read()[-2000:])
        answer: dict[str, Any] = json.loads(line)
        return answer

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.send(cmd="quit")
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()


@contextmanager
def workers(n: int) -> Iterator[list[Worker]]:
    pool = [Worker() for _ in range(n)]
    try:
        yield pool
    finally:
        for w in pool:
            w.stop()


def rotated(columns: tuple[str, ...] | list[str], r: int) -> list[str]:
    """Round ``r`` runs the columns starting from the ``r``-th, so none always runs first or last."""
    k = r % len(columns) if columns else 0
    return [*columns[k:], *columns[:k]]


def kind(column: str) -> str:
    """The client a column uses: ``legacy+P`` (the patched server) speaks legacy, like ``legacy``."""
    return column.removesuffix("+P")


def vector_missing(url: str) -> str:
    """Why the server cannot serve ``make_vec`` yet, or "" when it can."""
    client = loads.JsonRpc(url)
    try:
        client.make_vec("CartPole-v1", 2)
    except RuntimeError as exc:
        where = (
            "gymie/vector.py does not exist yet"
            if not (servers.ROOT / "gymie" / "vector.py").exists()
            else ""
        )
        return "; ".join(filter(None, [where, f"make_vec -> {exc}"]))[:200]
    finally:
        client.close()
    return ""


# -- the table ---------------------------------------------------------------

ROWS = [
    ("a", "rate", "(a) CartPole-v1 steps/s"),
    ("a", "p50_us", "(a) round trip p50 µs"),
    ("a", "p99_us", "(a) round trip p99 µs"),
    ("a", "server_cpu", "(a) server CPU µs/step"),
    ("a", "client_cpu", "(a) client CPU µs/step"),
    ("b", "rate", "(b) ALE/Pong-v5 steps/s"),
    ("b", "p50_us", "(b) round trip p50 µs"),
    ("b", "server_cpu", "(b) server CPU µs/step"),
    ("b", "client_cpu", "(b) client CPU µs/step"),
    ("bstd", "rate", "(b) Pong steps/s, clients decoding with stdlib `json`"),
    ("bstd", "client_cpu", "(b) stdlib `json` client CPU µs/step"),
    ("c64", "rate", "(c) 64 CartPoles env-steps/s"),
    ("c1024", "rate", "(c) 1024 CartPoles env-steps/s"),
    ("c1024", "p50_us", "(c) 1024: round trip p50 µs"),
    ("c1024", "server_cpu", "(c) 1024: server CPU µs/call"),
    ("c1024", "client_cpu", "(c) 1024: client CPU µs/call"),
    ("d", "rate", f"(d) {CLIENTS} clients, total steps/s"),
    ("d", "check", "(d) lost / out of order"),
]


def fmt(value: float) -> str:
    if math.isnan(value):
        return "—"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def cell_text(cell: Cell | None, attr: str) -> str:
    if cell is None:
        return "—"
    if cell.note:
        return cell.note
    if not cell.samples:
        return "—"
    if attr == "check":
        checks = [s.check for s in cell.samples]
        if any(c is None for c in checks):
            return "—"
        if all(c["ok"] for c in checks) and not checks[0].get("burst") and not checks[0].get("lost"):
            return "n/a"
        if all(c["ok"] for c in checks):
            return f"0 / 0 ({sum(c['burst'] for c in checks):,} pipelined checked)"
        lost = sum(c["lost"] for c in checks)
        errors = [e for c in checks for e in c["errors"]]
        return f"MISS: {lost} lost; {errors[:1]}"
    text = fmt(cell.median(attr))
    if attr == "rate" and len(cell.samples) > 1 and not math.isnan(cell.spread()):
        text += f" ±{cell.spread():.0%}"
    return text


def title(column: str) -> str:
    return COLUMNS[kind(column)] + (" +P" if column.endswith("+P") else "")


def table(results: Results, columns: tuple[str, ...]) -> str:
    header = ["", *(title(c) for c in columns)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row, attr, label in ROWS:
        if row not in results:
            continue
        cells = [cell_text(results[row].get(c), attr) for c in columns]
        if all(c == "—" for c in cells):
            continue
        lines.append("| " + " | ".join([label, *cells]) + " |")
    return "\n".join(lines)


def ratio(results: Results, row: str, num: str, den: str) -> float:
    try:
        return results[row][num].median() / results[row][den].median()
    except (KeyError, ZeroDivisionError):
        return math.nan


def targets(results: Results, suffix: str = "") -> list[tuple[str, str, str]]:
    """(target, measured, PASS/MISS/pending) for each of issue 9's targets; ``suffix="+P"``: patched."""
    out = []

    def verdict(value: float, ok: bool) -> str:
        return "pending" if math.isnan(value) else "PASS" if ok else "MISS"

    legacy, client = "legacy" + suffix, "client" + suffix
    for label, value, goal, percent in (
        ("(a) legacy JSON CartPole ≥ 1.2× gymie 0.5.4", ratio(results, "a", legacy, "gymie054"), 1.2, False),
        ("(b) legacy JSON Pong ≥ 3× gymie 0.5.4", ratio(results, "b", legacy, "gymie054"), 3.0, False),
        ("(b) Pong through RemoteEnv ≥ 70% of in-process", ratio(results, "b", client, "inprocess"), 0.7, 1),
        (
            "(c) 1024 CartPoles through RemoteVectorEnv ≥ 35% of in-process",
            ratio(results, "c1024", client, "inprocess"),
            0.35,
            True,
        ),
    ):
        out.append((label, f"{value:.0%}" if percent else f"{value:.2f}×", verdict(value, value >= goal)))
    for row in ("a", "b"):
        ratios = {c: ratio(results, row, c + suffix, "openenv") for c in REMOTE_CURRENT}
        ratios = {c: r for c, r in ratios.items() if not math.isnan(r)}
        slowest = min(ratios, key=ratios.__getitem__) if ratios else ""
        worst = ratios.get(slowest, math.nan)
        measured = f"slowest {worst:.2f}× ({COLUMNS[slowest]})" if slowest else "—"
        out.append((f"({row}) every gymie column ahead of OpenEnv", measured, verdict(worst, worst > 1.0)))
    cells = [cell for column, cell in results.get("d", {}).items() if column.endswith(suffix)]
    checks = [s.check for cell in cells for s in cell.samples]
    checks = [c for c in checks if c is not None]
    lost = sum(c["lost"] for c in checks)
    ok = all(c["ok"] for c in checks)
    measured = f"{lost} lost, {len(checks)} runs checked"
    out.append(("(d) nothing lost or out of order", measured, verdict(len(checks) or math.nan, ok)))
    return out


# -- main --------------------------------------------------------------------


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = ", ".join(
        f"{name} {metadata.version(name)}" for name in ("numpy", "gymnasium", "eventlet", "msgpack")
    )
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, {versions}"


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one short round of everything (< 60 s)")
    parser.add_argument("--repeats", type=int, help="rounds per cell (default 3, quick 1)")
    parser.add_argument("--only", default="abcd", help="which loads to run, e.g. --only ad")
    parser.add_argument("--no-peer", action="store_true", help="skip gymie 0.5.4 (no peer venv needed)")
    parser.add_argument("--no-openenv", action="store_true", help="skip OpenEnv (no OpenEnv venv needed)")
    parser.add_argument("--columns", help="only these columns, e.g. gymie054,legacy,legacy+P")

    parser.add_argument(
        "--patched",
        metavar="PATCHES",
        help="also run a current gymie with bench/patches.py applied (e.g. all): extra `+P` columns",
    )
    args = parser.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    if args.repeats:
        cfg.repeats = args.repeats
    columns = tuple(
        c
        for c in COLUMNS
        if not (args.no_peer and c == "gymie054") and not (args.no_openenv and c == "openenv")
    )
    if args.patched:
        columns += tuple(f"{c}+P" for c in REMOTE_CURRENT)
    if args.columns:
        columns = tuple(c for c in columns if c in args.columns.split(","))

    import warnings

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    started = time.monotonic()
    print(f"machine: {machine()}")
    print(f"load average before: {load()}  ({'quick' if args.quick else 'full'} run, {cfg.repeats} round(s))")
    if not args.no_peer:
        subprocess.run(["bash", str(servers.BENCH / "setup_peer.sh")], check=True)
    with ExitStack() as stack:
        current = servers.current().start()
        stack.callback(current.stop)
        srv = {"current": current}
        urls = {c: current.url for c in REMOTE_CURRENT}
        if args.patched:
            launcher = [str(servers.BENCH / "patched_server.py"), args.patched]
            patched = servers.current(launcher=launcher).start()
            stack.callback(patched.stop)
            srv["patched"] = patched
            urls.update({f"{c}+P": patched.url for c in REMOTE_CURRENT})
            print(f"+P columns: the current gymie with bench/patches.py {args.patched!r} applied")
        if not args.no_peer:
            peer = servers.peer054().start()
            stack.callback(peer.stop)
            srv["peer"] = peer
            urls["gymie054"] = peer.url
        openenv = None
        if "openenv" in columns and set(args.only) & set(OPENENV_ENVS):
            openenv = OpenEnv(args.only)
            stack.callback(openenv.stop)
            for note in sorted(set(openenv.notes.values())):
                print(f"OpenEnv column: {note}", flush=True)
        bench = Bench(cfg, urls, srv, openenv)
        steps = {
            "a": ("(a) CartPole-v1, one env", lambda: bench.single("a", "CartPole-v1", columns, 2)),
            "b": (
                "(b) ALE/Pong-v5, one env",
                lambda: (
                    bench.single("b", "ALE/Pong-v5", columns, 6, pong=True),
                    bench.single("bstd", "ALE/Pong-v5", columns, 6, pong=True, stdlib=True),
                ),
            ),
            "c": ("(c) CartPole vector envs", lambda: bench.vector(columns)),
            "d": (f"(d) {CLIENTS} concurrent clients", lambda: bench.concurrent(columns)),
        }
        for key in args.only:
            title, run = steps[key]
            t0 = time.monotonic()
            print(f"running {title} ...", flush=True)
            run()
            print(f"  done in {time.monotonic() - t0:.0f} s, load {load()}", flush=True)
    print()
    print(table(bench.results, columns))
    print()
    for suffix in ("", "+P") if args.patched else ("",):
        print("| target" + (" (+P: patched)" if suffix else "") + " | measured | verdict |")
        print("|---|---|---|")
        for target, measured, verdict in targets(bench.results, suffix):
            print(f"| {target} | {measured} | {verdict} |")
        print()
    print()
    print(f"load average after: {load()}; total {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
