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
export { Client, connect, type ConnectOptions, type MakeVecOptions, type ServerInfo } from "./client.js";
export { Connection, DEFAULT_TIMEOUT, MSGPACK_SUBPROTOCOL, type CallOptions, type ConnectionOptions, type WebSocketConstructor, type WebSocketLike, } from "./connection.js";
export { Env, VecEnv, type EnvInfo, type ResetOptions, type ResetResult, type StepResult } from "./env.js";
export { CONNECT_FAILED, CONNECTION_CLOSED, ErrorCode, GymieConnectionError, GymieError, GymieTimeoutError, TIMEOUT, type ErrorData, } from "./errors.js";
export { NDARRAY_EXT, decodeFrame, encodeFrame, type Encoding } from "./codec.js";
export { DTYPE_STR, dtypeOf, isNDArray, ndarray, toNested, type NDArray, type TypedArray } from "./ndarray.js";
export { Box, Dict, Discrete, Graph, MultiBinary, MultiDiscrete, OneOf, Sequence, Space, Text, Tuple, UnknownSpace, spaceFrom, type SpaceDescription, } from "./spaces.js";
