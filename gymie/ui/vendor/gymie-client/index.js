/**
 * gymie-client: Gymnasium environments served by a gymie server, over WebSocket (JSON-RPC 2.0,
 * msgpack or JSON). Works in browsers and Node ≥ 20.
 *
 * ```js
 * import { connect } from "gymie-client";
 * const client = await connect("ws://127.0.0.1:5000/gym");
 * const env = await client.make("CartPole-v1");
 * let { observation } = await env.reset({ seed: 0 });
 * const { reward, terminated, truncated } = await env.step(env.actionSpace.sample());
 * await client.close();
 * ```
 */
export { Client, connect } from "./client.js";
export { Connection, DEFAULT_TIMEOUT, MSGPACK_SUBPROTOCOL, } from "./connection.js";
export { Env, VecEnv } from "./env.js";
export { CONNECT_FAILED, CONNECTION_CLOSED, ErrorCode, GymieConnectionError, GymieError, GymieTimeoutError, TIMEOUT, } from "./errors.js";
export { NDARRAY_EXT, decodeFrame, encodeFrame } from "./codec.js";
export { DTYPE_STR, dtypeOf, isNDArray, ndarray, toNested } from "./ndarray.js";
export { Box, Dict, Discrete, Graph, MultiBinary, MultiDiscrete, OneOf, Sequence, Space, Text, Tuple, UnknownSpace, spaceFrom, } from "./spaces.js";
