#!/usr/bin/env node
// A random agent on CartPole-v1, served by a gymie server:
//
//   python -m gymie --host 127.0.0.1 --port 5000 &
//   node examples/cartpole.mjs ws://127.0.0.1:5000/gym --episodes 3 [--token T] [--encoding json]
import { connect } from "../dist/index.js";

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const url = args.find((a) => a.startsWith("ws")) ?? "ws://127.0.0.1:5000/gym";
const episodes = Number(option("episodes", 3));

const client = await connect(url, { token: option("token", process.env.GYMIE_TOKEN), encoding: option("encoding", "msgpack") });
try {
  const env = await client.make("CartPole-v1");
  env.actionSpace.seed(0);
  for (let episode = 0; episode < episodes; episode++) {
    await env.reset({ seed: episode });
    let episodeReturn = 0;
    for (let done = false; !done; ) {
      const { reward, terminated, truncated } = await env.step(env.actionSpace.sample());
      episodeReturn += reward;
      done = terminated || truncated;
    }
    console.log(`episode ${episode + 1}: return ${episodeReturn}`);
  }
  await env.close();
} finally {
  await client.close();
}
