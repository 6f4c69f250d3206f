// gymie-client against a real gymie server (python -m gymie), in both encodings.
import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import {
  CONNECT_FAILED,
  CONNECTION_CLOSED,
  ErrorCode,
  GymieConnectionError,
  GymieError,
  GymieTimeoutError,
  TIMEOUT,
  connect,
  ndarray,
  toNested,
} from "../dist/index.js";
import { startServer } from "./server.mjs";

const MAX_MESSAGE = 200_000;
let server;

before(async () => {
  server = await startServer(["--max-message-size", String(MAX_MESSAGE), "--import", "nonfinite_env"]);
});
after(async () => {
  await server?.stop();
});

/** Run `body(client)` on a fresh connection, closed afterwards. */
async function withClient(options, body) {
  const client = await connect(server.url, options);
  try {
    return await body(client);
  } finally {
    await client.close();
  }
}

const timeout = { timeout: 60_000 };

for (const encoding of ["msgpack", "json"]) {
  describe(`${encoding} encoding`, timeout, () => {
    test("connects with the encoding asked for", () =>
      withClient({ encoding }, async (client) => {
        assert.equal(client.encoding, encoding);
        const info = await client.serverInfo();
        assert.ok(info.encodings.includes("msgpack"));
        assert.ok(info.methods.includes("make_vec"));
        assert.equal(info.limits.max_message_size, MAX_MESSAGE);
        const envs = await client.listEnvs();
        assert.ok(envs.includes("CartPole-v1") && envs.includes("MountainCarContinuous-v0"));
      }));

    test("make, reset, step and close CartPole", () =>
      withClient({ encoding }, async (client) => {
        const env = await client.make("CartPole-v1");
        assert.match(env.instanceId, /^[0-9a-f]{32}$/);
        assert.equal(env.envInfo.env_id, "CartPole-v1");
        assert.equal(env.envInfo.spec.max_episode_steps, 500);
        assert.equal(env.actionSpace.name, "Discrete");
        assert.equal(env.actionSpace.n, 2);
        assert.deepEqual(env.observationSpace.shape, [4]);
        assert.equal(env.observationSpace.low[1], -Infinity, "'-Infinity' bounds read back as numbers");
        const { observation, info } = await env.reset({ seed: 0 });
        assert.deepEqual(info, {});
        assert.ok(env.observationSpace.contains(observation));
        if (encoding === "msgpack") {
          assert.ok(observation.data instanceof Float32Array);
          assert.deepEqual(observation.shape, [4]);
          assert.equal(observation.dtype, "<f4");
        } else {
          assert.ok(Array.isArray(observation) && observation.length === 4);
        }
        let total = 0;
        let steps = 0;
        for (let done = false; !done; steps++) {
          const action = env.actionSpace.sample();
          assert.ok(env.actionSpace.contains(action));
          const result = await env.step(action);
          assert.equal(typeof result.reward, "number");
          assert.equal(typeof result.terminated, "boolean");
          assert.equal(typeof result.truncated, "boolean");
          assert.ok(env.observationSpace.contains(result.observation) || result.terminated);
          total += result.reward;
          done = result.terminated || result.truncated;
        }
        assert.equal(total, steps, "CartPole pays 1 per step");
        await env.close();
        await env.close(); // idempotent
        await assert.rejects(env.step(0), { code: ErrorCode.InstanceNotFound });
      }));

    test("the same seed gives the same observations", () =>
      withClient({ encoding }, async (client) => {
        const [a, b] = await Promise.all([client.make("CartPole-v1"), client.make("CartPole-v1")]);
        const first = toNested((await a.reset({ seed: 42 })).observation);
        assert.deepEqual(toNested((await b.reset({ seed: 42 })).observation), first);
        assert.deepEqual(toNested((await a.reset({ seed: 42 })).observation), first);
        assert.notDeepEqual(toNested((await a.reset({ seed: 43 })).observation), first);
        const stepsA = [];
        const stepsB = [];
        for (const action of [0, 1, 1, 0, 1]) stepsA.push(toNested((await a.step(action)).observation));
        await b.step(0); // b is one step behind a's reset(43): reset b with 43 too
        await b.reset({ seed: 43 });
        for (const action of [0, 1, 1, 0, 1]) stepsB.push(toNested((await b.step(action)).observation));
        assert.deepEqual(stepsB, stepsA);
      }));

    test("a continuous Box action as a Float32Array (MountainCarContinuous)", () =>
      withClient({ encoding }, async (client) => {
        const env = await client.make("MountainCarContinuous-v0");
        assert.equal(env.actionSpace.name, "Box");
        assert.deepEqual(env.actionSpace.low, [-1]);
        await env.reset({ seed: 1 });
        const results = [
          await env.step(new Float32Array([0.5])),
          await env.step(ndarray(new Float32Array([-0.25]), [1])),
          await env.step(env.actionSpace.sample()),
          await env.step([1.0]),
        ];
        for (const r of results) {
          assert.equal(typeof r.reward, "number");
          assert.ok(r.reward < 0, "MountainCarContinuous charges for the action");
        }
        // -0.1 * a^2 for the first action
        assert.ok(Math.abs(results[0].reward - -0.025) < 1e-6, String(results[0].reward));
        await assert.rejects(env.step(new Float32Array([0.5, 0.5])), (e) => e instanceof GymieError && e.code === ErrorCode.WrongAction && e.data.error === "WrongAction");
      }));

    test("a vector env of 4 CartPoles", () =>
      withClient({ encoding }, async (client) => {
        const venv = await client.makeVec("CartPole-v1", 4, { vectorizationMode: "sync" });
        assert.equal(venv.numEnvs, 4);
        assert.equal(venv.singleObservationSpace.name, "Box");
        assert.deepEqual(venv.singleObservationSpace.shape, [4]);
        assert.deepEqual(venv.observationSpace.shape, [4, 4]);
        assert.equal(venv.singleActionSpace.n, 2);
        assert.equal(venv.autoresetMode, "NextStep");
        const { observation } = await venv.reset({ seed: 7 });
        assert.deepEqual(toNested(observation).length, 4);
        assert.ok(venv.observationSpace.contains(observation));
        const result = await venv.step(venv.actionSpace.sample());
        assert.deepEqual(toNested(result.reward), [1, 1, 1, 1]);
        assert.deepEqual(toNested(result.terminated), [false, false, false, false]);
        assert.deepEqual(toNested(result.truncated), [false, false, false, false]);
        if (encoding === "msgpack") {
          assert.ok(result.observation.data instanceof Float32Array);
          assert.deepEqual(result.observation.shape, [4, 4]);
        }
        const seeded = await client.makeVec("CartPole-v1", 4, { vectorizationMode: "sync" });
        const again = await seeded.reset({ seed: 7 });
        assert.deepEqual(toNested(again.observation), toNested(observation));
        await venv.close();
        await seeded.close();
      }));

    test("errors carry the server's code and data", () =>
      withClient({ encoding }, async (client) => {
        await assert.rejects(client.make("NoSuchEnv-v0"), (e) => {
          assert.ok(e instanceof GymieError);
          assert.equal(e.name, "GymieError");
          assert.equal(e.code, -32002);
          assert.equal(e.data.error, "EnvironmentNotFound");
          assert.equal(e.data.subject, "NoSuchEnv-v0");
          assert.match(e.message, /NoSuchEnv-v0/);
          return true;
        });
        await assert.rejects(client.call("step", { instance_id: "0".repeat(32), action: 0 }), (e) => {
          assert.equal(e.code, -32001);
          assert.equal(e.data.error, "InstanceNotFound");
          return true;
        });
        await assert.rejects(client.call("no_such_method"), { code: ErrorCode.MethodNotFound });
        await assert.rejects(client.make("bad id!"), { code: ErrorCode.EnvironmentMalformed });
        const env = await client.make("CartPole-v1");
        await env.reset();
        await assert.rejects(env.step(7), { code: ErrorCode.WrongAction });
        assert.ok((await env.step(1)).observation, "the env and connection survive errors");
      }));

    test("100 pipelined steps on 4 envs resolve to their own replies", () =>
      withClient({ encoding }, async (client) => {
        const seeds = [1, 2, 3, 4];
        const make = () => Promise.all(seeds.map(() => client.make("CartPole-v1", { max_episode_steps: 1000 })));
        const piped = await make();
        const serial = await make();
        const actions = Array.from({ length: 25 }, (_, i) => i % 2);
        await Promise.all(piped.map((env, i) => env.reset({ seed: seeds[i] })));
        const inFlight = piped.flatMap((env) => actions.map((a) => env.step(a)));
        assert.equal(client.connection.inFlight, 100, "all 100 requests were in flight at once");
        const pipedResults = await Promise.all(inFlight);
        assert.equal(client.connection.inFlight, 0);
        const serialResults = [];
        for (const [i, env] of serial.entries()) {
          await env.reset({ seed: seeds[i] });
          for (const a of actions) serialResults.push(await env.step(a));
        }
        assert.deepEqual(pipedResults.map((r) => toNested(r.observation)), serialResults.map((r) => toNested(r.observation)));
        const perEnv = (results, i) => toNested(results[i * 25].observation);
        assert.notDeepEqual(perEnv(pipedResults, 0), perEnv(pipedResults, 1), "envs differ, so a mix-up would show");
      }));
  });
}

describe("composite spaces and non-finite floats", timeout, () => {
  for (const encoding of ["msgpack", "json"]) {
    test(`${encoding}: NaN and infinities read back as numbers in float observations and rewards`, () =>
      withClient({ encoding }, async (client) => {
        const env = await client.make("NonFinite-v0");
        assert.equal(env.observationSpace.name, "Dict");
        assert.equal(env.actionSpace.name, "Tuple");
        const pos = (observation) => Array.from(encoding === "msgpack" ? observation.pos.data : observation.pos);
        const { observation } = await env.reset({ seed: 0 });
        assert.deepEqual(pos(observation), [NaN, Infinity, -Infinity]);
        assert.equal(observation.mode, 1);
        for (let i = 0; i < 3; i++) {
          const action = env.actionSpace.sample();
          assert.ok(env.actionSpace.contains(action));
          const step = await env.step(action); // the env asserts the action is in its space
          assert.deepEqual(pos(step.observation), [NaN, Infinity, -Infinity]);
          assert.equal(step.reward, -Infinity);
          assert.equal(step.info.label, "NaN");
          // info is left as received: JSON's stand-in string, msgpack's number
          if (encoding === "json") assert.equal(step.info.nan, "NaN");
          else assert.ok(Number.isNaN(step.info.nan));
        }
        await assert.rejects(env.step([0, [2, 0]]), { code: ErrorCode.WrongAction });
      }));
  }
});

describe("msgpack arrays", timeout, () => {
  test("a Pong frame is a Uint8Array of shape [210, 160, 3], viewed in place", () =>
    withClient({}, async (client) => {
      const env = await client.make("ALE/Pong-v5", { render_mode: "rgb_array" });
      assert.equal(env.actionSpace.name, "Discrete");
      assert.equal(env.observationSpace.dtype, "uint8");
      const { observation } = await env.reset({ seed: 0 });
      assert.ok(observation.data instanceof Uint8Array);
      assert.deepEqual(observation.shape, [210, 160, 3]);
      assert.equal(observation.dtype, "|u1");
      assert.equal(observation.data.length, 210 * 160 * 3);
      assert.ok(observation.data.buffer.byteLength > observation.data.byteLength, "a view on the received frame");
      assert.ok(env.observationSpace.contains(observation));
      for (let i = 0; i < 5; i++) {
        const r = await env.step(env.actionSpace.sample());
        assert.deepEqual(r.observation.shape, [210, 160, 3]);
      }
      const frame = await env.render();
      assert.ok(frame.data instanceof Uint8Array);
      assert.deepEqual(frame.shape, [210, 160, 3]);
      assert.ok(frame.data.some((v) => v !== 0), "the frame is not blank");
    }));

  test("render of an rgb_array CartPole; JSON gives the same frame as nested arrays", async () => {
    const frames = [];
    for (const encoding of ["msgpack", "json"]) {
      await withClient({ encoding }, async (client) => {
        const env = await client.make("CartPole-v1", { render_mode: "rgb_array" });
        assert.equal(env.renderMode, "rgb_array");
        await env.reset({ seed: 3 });
        frames.push(await env.render());
      });
    }
    assert.deepEqual(frames[0].shape, [400, 600, 3]);
    assert.deepEqual(toNested(frames[0]), frames[1]);
  });

  test("msgpack and JSON observations agree", async () => {
    const seen = [];
    for (const encoding of ["msgpack", "json"]) {
      await withClient({ encoding }, async (client) => {
        const env = await client.make("CartPole-v1");
        const obs = [(await env.reset({ seed: 11 })).observation];
        for (const a of [1, 0, 1]) obs.push((await env.step(a)).observation);
        seen.push(toNested(obs));
      });
    }
    assert.deepEqual(seen[0], seen[1]);
  });
});

describe("timeouts and closes", timeout, () => {
  test("a request without a reply in time rejects with GymieTimeoutError; the connection stays usable", () =>
    withClient({ timeout: 20_000 }, async (client) => {
      await assert.rejects(client.call("make", { env_id: "ALE/Breakout-v5" }, { timeout: 1 }), (e) => {
        assert.ok(e instanceof GymieTimeoutError && e instanceof GymieError);
        assert.equal(e.code, TIMEOUT);
        assert.equal(e.data.error, "Timeout");
        assert.equal(e.data.method, "make");
        assert.match(e.message, /No reply to make within 1 ms/);
        return true;
      });
      assert.equal(client.connection.inFlight, 0);
      const env = await client.make("CartPole-v1"); // the late reply to the timed-out make is skipped
      assert.ok((await env.reset({ seed: 0 })).observation);
    }));

  test("the connection-wide timeout applies to every call", () =>
    withClient({ timeout: 5_000 }, async (client) => {
      assert.equal(client.connection.timeout, 5_000);
      client.connection.timeout = 1;
      await assert.rejects(client.make("ALE/Breakout-v5"), { code: TIMEOUT });
    }));

  test("a handshake without an answer in time fails to connect", async () => {
    const silent = net.createServer((socket) => socket.resume()); // reads, never answers
    await new Promise((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const url = `ws://127.0.0.1:${silent.address().port}/gym`;
      const started = Date.now();
      await assert.rejects(connect(url, { timeout: 300 }), (e) => {
        assert.ok(e instanceof GymieConnectionError);
        assert.equal(e.code, CONNECT_FAILED);
        assert.match(e.message, /Cannot connect to .*(timed out|within 300 ms)/);
        return true;
      });
      assert.ok(Date.now() - started < 10_000);
    } finally {
      await new Promise((resolve) => silent.close(resolve)); // resolves once the client hung up
    }
  });

  test("a server close rejects the pending requests with its code and reason", () =>
    withClient({}, async (client) => {
      const env = await client.make("CartPole-v1");
      await env.reset();
      const pending = [env.step(new Uint8Array(MAX_MESSAGE + 1000)), env.step(0)];
      for (const p of pending) {
        await assert.rejects(p, (e) => {
          assert.ok(e instanceof GymieConnectionError);
          assert.equal(e.code, CONNECTION_CLOSED);
          // 1009, or 1006 when the server's close frame is lost: it closes the TCP connection without
          // reading the rest of the oversized message, and the reset can drop the frame in transit.
          assert.ok([1009, 1006].includes(e.closeCode), String(e.closeCode));
          assert.equal(e.data.error, "ConnectionClosed");
          assert.match(e.message, /closed by the server \(code 100[69]/);
          return true;
        });
      }
      const closeCode = (await pending[0].catch((e) => e)).closeCode;
      await assert.rejects(client.listEnvs(), { code: CONNECTION_CLOSED, closeCode }); // the same error, at once
    }));

  test("closing the client rejects what is pending; later calls fail at once", async () => {
    const client = await connect(server.url);
    const pending = client.make("ALE/Breakout-v5");
    const closing = client.close();
    assert.ok(client.connection.isClosed);
    await assert.rejects(pending, (e) => {
      assert.ok(e instanceof GymieConnectionError);
      assert.equal(e.code, CONNECTION_CLOSED);
      assert.equal(e.closeCode, 1000);
      assert.match(e.message, /closed by the client/);
      return true;
    });
    await closing;
    await client.close(); // idempotent
    await assert.rejects(client.listEnvs(), (e) => e.code === CONNECTION_CLOSED && /closed by the client/.test(e.message));
  });

  test("connecting to a port with no server fails with a clear error", async () => {
    const closed = await startServer();
    const url = closed.url;
    await closed.stop();
    await assert.rejects(connect(url, { timeout: 5_000 }), (e) => {
      assert.ok(e instanceof GymieConnectionError);
      assert.equal(e.code, CONNECT_FAILED);
      assert.match(e.message, /Cannot connect to ws:\/\/127\.0\.0\.1:\d+\/gym: .*ECONNREFUSED/);
      return true;
    });
  });
});

describe("notifications (the server's /watch pushes)", timeout, () => {
  for (const encoding of ["msgpack", "json"]) {
    test(`onNotification gets the tables and frames a watcher subscribed to (${encoding})`, async () => {
      const agent = await connect(server.url);
      const watcher = await connect(server.url.replace(/\/gym$/, "/watch"), { encoding });
      try {
        const env = await agent.make("CartPole-v1", { render_mode: "rgb_array" });
        await env.reset({ seed: 0 });
        const seen = { tables: 0, frame: null };
        const gotFrame = new Promise((resolve) => {
          watcher.connection.onNotification = (method, params) => {
            if (method === "tables") seen.tables += 1;
            if (method === "frame" && params.png) resolve(params);
          };
        });
        const snapshot = await watcher.call("watch");
        assert.ok(snapshot.instances.some((i) => i.id === env.instanceId && i.env_id === "CartPole-v1"));
        const info = await watcher.call("watch_frames", { instance_id: env.instanceId });
        assert.equal(info.renderable, true);
        await env.step(1);
        const frame = await gotFrame;
        const png = typeof frame.png === "string" ? Buffer.from(frame.png, "base64") : frame.png;
        assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
        assert.deepEqual([frame.width, frame.height], [600, 400]);
        // Replies still reach their callers while notifications flow.
        assert.equal(await watcher.call("ping"), true);
        await assert.rejects(watcher.call("step", { instance_id: env.instanceId, action: 0 }), (e) => e.code === ErrorCode.MethodNotFound);
      } finally {
        await watcher.close();
        await agent.close();
      }
    });
  }
});
