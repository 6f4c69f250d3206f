/** The client: {@link connect} to a gymie server, then make envs on it. */
import { Connection } from "./connection.js";
import { Env, VecEnv } from "./env.js";
/** Makes remote envs over one connection; closing it closes every env it made (on the server). */
export class Client {
    connection;
    constructor(connection) {
        this.connection = connection;
    }
    /** `"msgpack"` or `"json"`: the encoding in use. */
    get encoding() {
        return this.connection.encoding;
    }
    /** Call any server method by name and return its result. */
    call(method, params, options) {
        return this.connection.call(method, params, options);
    }
    /**
     * Make `envId` on the server. `kwargs` go to `gymnasium.make` as they are: `seed`,
     * `render_mode`, `max_episode_steps`, the env's own kwargs.
     */
    async make(envId, kwargs = {}) {
        const { instance_id } = await this.call("make", { ...kwargs, env_id: envId });
        return Env.create(this.connection, instance_id);
    }
    /** Make a vector env of `numEnvs` copies of `envId` through `gymnasium.make_vec` on the server. */
    async makeVec(envId, numEnvs = 1, options = {}) {
        const { vectorizationMode, vectorKwargs, ...rest } = options;
        const params = { ...rest, env_id: envId, num_envs: numEnvs };
        if (vectorizationMode !== undefined)
            params.vectorization_mode = vectorizationMode;
        if (vectorKwargs !== undefined)
            params.vector_kwargs = vectorKwargs;
        const { instance_id } = await this.call("make_vec", params);
        return VecEnv.create(this.connection, instance_id);
    }
    /** The env ids the server would make. */
    listEnvs() {
        return this.call("list_envs");
    }
    /** The server's version, protocols, encodings, methods and limits. */
    serverInfo() {
        return this.call("server_info");
    }
    /** Close the connection; the server then closes every env made through it. */
    close() {
        return this.connection.close();
    }
}
/**
 * Connect to a gymie server.
 *
 * ```js
 * const client = await connect("ws://127.0.0.1:5000/gym", { token, encoding: "msgpack", timeout: 30000 });
 * ```
 *
 * @throws GymieConnectionError (code {@link CONNECT_FAILED}) when the handshake fails.
 */
export async function connect(url, options = {}) {
    return new Client(await Connection.open(url, options));
}
