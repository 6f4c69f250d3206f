// Start a real gymie server for a test file: python -m gymie on 127.0.0.1, a free port.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(HERE, "..", "..", "..");
export const PYTHON = process.env.GYMIE_PYTHON ?? join(REPO, ".venv", "bin", "python");
const START_TIMEOUT_MS = 60_000;

/** Start `python -m gymie` with `args`; resolves to {url, port, stop(), log()}. This folder is on PYTHONPATH. */
export async function startServer(args = []) {
  if (!existsSync(PYTHON)) {
    throw new Error(`No Python for the gymie server at ${PYTHON}: run ./run_tests.sh first or set GYMIE_PYTHON`);
  }
  const child = spawn(
    PYTHON,
    ["-m", "gymie", "--host", "127.0.0.1", "--port", "0", "--log-level", "INFO", "--shutdown-timeout", "1", ...args],
    { cwd: REPO, stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, PYTHONWARNINGS: "ignore", PYTHONPATH: [HERE, process.env.PYTHONPATH].filter(Boolean).join(":") } },
  );
  const killOnExit = () => child.kill("SIGKILL"); // never leave a server behind, even if the test process dies
  process.once("exit", killOnExit);
  let stderr = "";
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gymie did not start within ${START_TIMEOUT_MS} ms:\n${stderr}`)), START_TIMEOUT_MS);
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
      const match = /listening on (ws:\/\/127\.0\.0\.1:\d+\/gym)/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`gymie exited with ${code} before listening:\n${stderr}`));
    });
  });
  return {
    url,
    port: Number(new URL(url).port),
    log: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(killer);
      process.off("exit", killOnExit);
    },
  };
}

/** Resolve after `ms`. */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
