/** The client: {@link connect} to a gymie server, then make envs on it. */
import { Connection, type CallOptions, type ConnectionOptions } from "./connection.js";
import type { Encoding } from "./codec.js";
import { Env, VecEnv } from "./env.js";

/** What `server_info` returns. */
export interface ServerInfo {
  version: string;
  protocols: string[];
  encodings: string[];
  subprotocols: string[];
  methods: string[];
  limits: Record<string, number | null>;
  [key: string]: unknown;
}

/** Options of {@link Client.makeVec}; other keys are the env's own kwargs (snake_case, as in Python). */
export interface MakeVecOptions {
  /** `"sync"`, `"async"` or `"vector_entry_point"` (the server picks when omitted). */
  vectorizationMode?: "sync" | "async" | "vector_entry_point";
  /** Seed of the vector env. */
  seed?: number;
  /** `gymnasium.make_vec`'s `vector_kwargs`. */
  vectorKwargs?: Record<string, unknown>;
  [envKwarg: string]: unknown;
}

/** Makes remote envs over one connection; closing it closes every env it made (on the server). */
export class Client {
  readonly connection: Connection;

  constructor(connection: Connection) {
    this.connection = connection;
  }

  /** `"msgpack"` or `"json"`: the encoding in use. */
  get encoding(): Encoding {
    return this.connection.encoding;
  }

  /** Call any server method by name and return its result. */
  call<T = unknown>(method: string, params?: object | unknown[], options?: CallOptions): Promise<T> {
    return this.connection.call<T>(method, params, options);
  }

  /**
   * Make `envId` on the server. `kwargs` go to `gymnasium.make` as they are: `seed`,
   * `render_mode`, `max_episode_steps`, the env's own kwargs.
   */
  async make(envId: string, kwargs: Record<string, unknown> = {}): Promise<Env> {
    const { instance_id } = await this.call<{ instance_id: string }>("make", { ...kwargs, env_id: envId });
    return Env.create(this.connection, instance_id);
  }

  /** Make a vector env of `numEnvs` copies of `envId` through `gymnasium.make_vec` on the server. */
  async makeVec(envId: string, numEnvs = 1, options: MakeVecOptions = {}): Promise<VecEnv> {
    const { vectorizationMode, vectorKwargs, ...rest } = options;
    const params: Record<string, unknown> = { ...rest, env_id: envId, num_envs: numEnvs };
    if (vectorizationMode !== undefined) params.vectorization_mode = vectorizationMode;
    if (vectorKwargs !== undefined) params.vector_kwargs = vectorKwargs;
    const { instance_id } = await this.call<{ instance_id: string }>("make_vec", params);
    return VecEnv.create(this.connection, instance_id);
  }

  /** The env ids the server would make. */
  listEnvs(): Promise<string[]> {
    return this.call<string[]>("list_envs");
  }

  /** The server's version, protocols, encodings, methods and limits. */
  serverInfo(): Promise<ServerInfo> {
    return this.call<ServerInfo>("server_info");
  }

  /** Close the connection; the server then closes every env made through it. */
  close(): Promise<void> {
    return this.connection.close();
  }
}

/** Options of {@link connect}. */
export type ConnectOptions = ConnectionOptions;

/**
 * Connect to a gymie server.
 *
 * ```js
 * const client = await connect("ws://127.0.0.1:5000/gym", { token, encoding: "msgpack", timeout: 30000 });
 * ```
 *
 * @throws GymieConnectionError (code {@link CONNECT_FAILED}) when the handshake fails.
 */
export async function connect(url: string, options: ConnectOptions = {}): Promise<Client> {
  return new Client(await Connection.open(url, options));
}
