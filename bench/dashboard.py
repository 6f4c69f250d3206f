"""Does watching slow the agent? An agent steps at full speed; rounds alternate watched and not.

Usage (from the repository root)::

    .venv/bin/python bench/dashboard.py [--rounds 7] [--seconds 3] [--watcher python|browser]
        [--isolation none|process] [--encoding msgpack|json]

One server (``python -m gymie``); one agent process steps an ``rgb_array`` CartPole-v1 through
``gymie.client`` as fast as it can (a shared counter, read by this process, counts its steps).
Each round has a window without a watcher and one with, in alternating order: the watcher is
either a ``/watch`` client on a thread of this process (``python``: subscribes to the tables and
to the agent's frames and reads everything, like the page does, without drawing), nothing
(``none``: an A/A control that measures the method's own bias) or the real
dashboard in Debian's headless Chromium (``browser``: ``/ui`` with the agent's instance
selected, so it decodes and draws every frame; the browser's own CPU use competes with the
agent's on this 2-core machine). Prints per-round steps/s, medians, the paired ratios and the
frames/s the watcher received.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

import msgpack  # noqa: E402
import servers  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


def agent(url: str, encoding: str, counter: Any, instance: Any, stop: Any) -> None:
    """Step CartPole as fast as possible; count steps in ``counter`` (run in its own process)."""
    import gymie.client

    with gymie.client.connect(url, encoding=encoding) as client:  # type: ignore[arg-type]
        env = client.make("CartPole-v1", render_mode="rgb_array")
        env.reset(seed=0)
        instance.value = env.instance_id.encode()
        while not stop.is_set():
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
            counter.value += 1
            if terminated or truncated:
                env.reset()


class PythonWatcher:
    """A ``/watch`` client on a thread: tables and the instance's frames, all read."""

    def __init__(self, url: str, instance_id: str) -> None:
        self.ws = connect(url.removesuffix("/gym") + "/watch", subprotocols=["gymie.msgpack"]).__enter__()  # type: ignore[list-item]
        self.frames = self.first = 0
        self.server: dict[str, Any] = {}
        self.ws.send(msgpack.packb({"jsonrpc": "2.0", "id": 1, "method": "watch", "params": {}}))
        params = {"instance_id": instance_id}
        self.ws.send(msgpack.packb({"jsonrpc": "2.0", "id": 2, "method": "watch_frames", "params": params}))
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        while self.frames == 0:
            time.sleep(0.01)

    def _read(self) -> None:
        try:
            for frame in self.ws:
                message = msgpack.unpackb(frame)
                if message.get("method") == "frame" and message["params"]["png"]:
                    self.frames += 1
                elif message.get("method") == "tables":
                    self.server = message["params"]["server"]
        except Exception:
            pass

    def mark(self) -> None:
        self.first = self.frames

    def received(self) -> int:
        return self.frames - self.first

    def close(self) -> None:
        self.ws.close()
        self._thread.join(5)


class NoWatcher:
    """The A/A control: the "watched" window has no watcher at all (the method's own bias)."""

    def __init__(self, *args: Any) -> None:
        pass

    def mark(self) -> None:
        pass

    def received(self) -> int:
        return 0

    def close(self) -> None:
        pass


class BrowserWatcher:
    """The dashboard in headless Chromium with the instance selected (frames drawn)."""

    def __init__(self, browser: Any, url: str, instance_id: str) -> None:
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.page.goto(url.replace("ws://", "http://").removesuffix("/gym") + "/ui")
        self.page.click(f"#instances tr[data-id='{instance_id}']", timeout=20_000)
        self.page.wait_for_selector("#frame[data-seq]", timeout=20_000)
        self.first = 0

    def seq(self) -> int:
        return int(self.page.get_attribute("#frame", "data-seq") or 0)

    def mark(self) -> None:
        self.first = self.seq()

    def received(self) -> int:
        return self.seq() - self.first  # frames the page drew (its seq numbers; none skipped here)

    def close(self) -> None:
        self.page.close()


def window(counter: Any, seconds: float, server: servers.Server) -> tuple[float, float]:
    """The agent's steps/s over ``seconds``, and the server's CPU µs per step meanwhile."""
    start, cpu, t0 = counter.value, server.cpu_seconds(), time.perf_counter()
    time.sleep(seconds)
    steps = counter.value - start
    return steps / (time.perf_counter() - t0), 1e6 * (server.cpu_seconds() - cpu) / max(1, steps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--watcher", choices=["python", "browser", "none"], default="python")
    parser.add_argument("--isolation", choices=["none", "process"], default="none")
    parser.add_argument("--encoding", choices=["msgpack", "json"], default="msgpack")
    args = parser.parse_args()

    server = servers.current("--isolation", args.isolation).start()
    ctx = multiprocessing.get_context("spawn")
    counter, instance, stop = ctx.Value("q", 0, lock=False), ctx.Array("c", 32), ctx.Event()
    proc = ctx.Process(target=agent, args=(server.url, args.encoding, counter, instance, stop))
    playwright = browser = None
    try:
        proc.start()
        while len(instance.value) < 32:
            time.sleep(0.05)
        instance_id = instance.value.decode()
        if args.watcher == "browser":
            from playwright.sync_api import sync_playwright

            playwright = sync_playwright().start()
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        time.sleep(1.0)  # warm up
        rows = []
        for r in range(args.rounds):
            row: dict[str, Any] = {}
            for watched in [False, True] if r % 2 == 0 else [True, False]:
                if not watched:
                    row["alone"], row["cpu_alone"] = window(counter, args.seconds, server)
                    continue
                if browser is not None:
                    watcher: Any = BrowserWatcher(browser, server.url, instance_id)
                elif args.watcher == "none":
                    watcher = NoWatcher()
                else:
                    watcher = PythonWatcher(server.url, instance_id)
                time.sleep(0.5)
                watcher.mark()
                t0 = time.perf_counter()
                row["watched"], row["cpu_watched"] = window(counter, args.seconds, server)
                row["fps"] = watcher.received() / (time.perf_counter() - t0)
                row["server"] = getattr(watcher, "server", {})
                watcher.close()
                time.sleep(0.5)  # closing a page costs the browser CPU: not in the next window
            rows.append(row)
            print(
                f"round {r + 1}: alone {row['alone']:,.0f} steps/s, watched {row['watched']:,.0f} steps/s "
                f"({row['watched'] / row['alone']:.3f}×), {row['fps']:.1f} frames/s received; "
                f"server CPU {row['cpu_alone']:.0f} → {row['cpu_watched']:.0f} µs/step",
                flush=True,
            )
        report(rows, args)
    finally:
        stop.set()
        proc.join(10)
        if proc.is_alive():
            proc.kill()
        if browser is not None:
            browser.close()
        if playwright is not None:
            playwright.stop()
        server.stop()


def report(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    alone = statistics.median(r["alone"] for r in rows)
    watched = statistics.median(r["watched"] for r in rows)
    ratios = [r["watched"] / r["alone"] for r in rows]
    fps = statistics.median(r["fps"] for r in rows)
    cpu_alone = statistics.median(r["cpu_alone"] for r in rows)
    cpu_watched = statistics.median(r["cpu_watched"] for r in rows)
    server = rows[-1].get("server") or {}
    print(f"\n{args.watcher} watcher, --isolation {args.isolation}, {args.encoding} agent, "
          f"{args.rounds} rounds × {args.seconds:g} s per window")  # fmt: skip
    print("| agent alone (steps/s, median) | agent watched (steps/s, median) | ratio of medians "
          "| paired ratios: median (min–max) | frames/s received (median) "
          "| server CPU µs/step alone → watched |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    print(
        f"| {alone:,.0f} | {watched:,.0f} | {watched / alone:.3f} | {statistics.median(ratios):.3f} "
        f"({min(ratios):.3f}–{max(ratios):.3f}) | {fps:.1f} | {cpu_alone:.0f} → {cpu_watched:.0f} |"
    )
    if server:
        print("server's frame cost:", json.dumps({k: server.get(k) for k in ("frames_rendered", "frame_ms")}))


if __name__ == "__main__":
    main()
