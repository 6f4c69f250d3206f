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
export declare class Client {
    readonly connection: Connection;
    constructor(connection: Connection);
    /** `"msgpack"` or `"json"`: the encoding in use. */
    get encoding(): Encoding;
    /** Call any server method by name and return its result. */
    call<T = unknown>(method: string, params?: object | unknown[], options?: CallOptions): Promise<T>;
    /**
     * Make `envId` on the server. `kwargs` go to `gymnasium.make` as they are: `seed`,
     * `render_mode`, `max_episode_steps`, the env's own kwargs.
     */
    make(envId: string, kwargs?: Record<string, unknown>): Promise<Env>;
    /** Make a vector env of `numEnvs` copies of `envId` through `gymnasium.make_vec` on the server. */
    makeVec(envId: string, numEnvs?: number, options?: MakeVecOptions): Promise<VecEnv>;
    /** The env ids the server would make. */
    listEnvs(): Promise<string[]>;
    /** The server's version, protocols, encodings, methods and limits. */
    serverInfo(): Promise<ServerInfo>;
    /** Close the connection; the server then closes every env made through it. */
    close(): Promise<void>;
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
export declare function connect(url: string, options?: ConnectOptions): Promise<Client>;
