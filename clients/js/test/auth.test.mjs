// Tokens, the browser-style global WebSocket (Node's --experimental-websocket), and the example.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, before, describe, test } from "node:test";
import { CONNECT_FAILED, GymieConnectionError, connect } from "../dist/index.js";
import { startServer } from "./server.mjs";

const run = promisify(execFile);
const HERE = dirname(fileURLToPath(import.meta.url));
const INDEX = new URL("../dist/index.js", import.meta.url).href;
const TOKEN = "secret";
let server;

before(async () => {
  server = await startServer(["--token", TOKEN]);
});
after(async () => {
  await server?.stop();
});

/** Run `script` (an ES module) in a Node with the global WebSocket; returns its JSON output. */
async function inBrowserStyleNode(script) {
  const { stdout } = await run(process.execPath, ["--experimental-websocket", "--no-warnings", "--input-type=module", "-e", script], {
    timeout: 30_000,
  });
  return JSON.parse(stdout);
}

describe("token", { timeout: 60_000 }, () => {
  test("a wrong or missing token rejects the connect with HTTP 401 (ws)", async () => {
    for (const token of ["wrong", undefined]) {
      await assert.rejects(connect(server.url, { token }), (e) => {
        assert.ok(e instanceof GymieConnectionError);
        assert.equal(e.code, CONNECT_FAILED);
        assert.equal(e.data.error, "ConnectFailed");
        assert.equal(e.status, 401);
        assert.match(e.message, /handshake refused: HTTP 401 Unauthorized: A valid token is required/);
        return true;
      });
    }
  });

  test("the right token connects (Authorization header with ws)", async () => {
    for (const encoding of ["msgpack", "json"]) {
      const client = await connect(server.url, { token: TOKEN, encoding });
      const env = await client.make("CartPole-v1");
      const { observation } = await env.reset({ seed: 0 });
      assert.ok(env.observationSpace.contains(observation));
      await client.close();
    }
  });

  test("with a global WebSocket the token goes in ?token=, and a wrong one fails clearly", async () => {
    const script = `
      import { connect } from ${JSON.stringify(INDEX)};
      const out = { global: typeof WebSocket };
      const client = await connect(${JSON.stringify(server.url)}, { token: ${JSON.stringify(TOKEN)} });
      const env = await client.make("CartPole-v1");
      const { observation } = await env.reset({ seed: 0 });
      out.encoding = client.encoding;
      out.observation = { isFloat32: observation.data instanceof Float32Array, shape: observation.shape };
      const step = await env.step(env.actionSpace.sample());
      out.reward = step.reward;
      await client.close();
      try { await connect(${JSON.stringify(server.url)}, { token: "wrong", timeout: 10000 }); out.wrong = "connected"; }
      catch (e) { out.wrong = { name: e.name, code: e.code, message: e.message }; }
      console.log(JSON.stringify(out));`;
    const out = await inBrowserStyleNode(script);
    assert.equal(out.global, "function");
    assert.equal(out.encoding, "msgpack");
    assert.deepEqual(out.observation, { isFloat32: true, shape: [4] });
    assert.equal(out.reward, 1);
    assert.equal(out.wrong.name, "GymieConnectionError");
    assert.equal(out.wrong.code, CONNECT_FAILED);
    assert.match(out.wrong.message, /Cannot connect to ws:\/\/127\.0\.0\.1:\d+\/gym/);
  });
});

describe("example", { timeout: 60_000 }, () => {
  test("examples/cartpole.mjs plays episodes and prints their returns", async () => {
    const example = join(HERE, "..", "examples", "cartpole.mjs");
    const { stdout } = await run(process.execPath, [example, server.url, "--episodes", "2", "--token", TOKEN], { timeout: 30_000 });
    const lines = stdout.trim().split("\n");
    assert.equal(lines.length, 2);
    for (const [i, line] of lines.entries()) {
      const match = new RegExp(`^episode ${i + 1}: return (\\d+)$`).exec(line);
      assert.ok(match, line);
      assert.ok(Number(match[1]) >= 8 && Number(match[1]) <= 500, line);
    }
  });
});
