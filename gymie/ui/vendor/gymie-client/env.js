import { CONNECTION_CLOSED, ErrorCode, GymieError } from "./errors.js";
import { reviveFloats, spaceFrom } from "./spaces.js";
/** Calls on one server instance, shared by {@link Env} and {@link VecEnv}. */
class Instance {
    /** The server's id of this instance. */
    instanceId;
    /** What the server said about the instance: env id, render mode, metadata, spec. */
    envInfo;
    /** The (batched, for a vector env) observation and action spaces. */
    observationSpace;
    actionSpace;
    connection;
    closed = false;
    constructor(connection, instanceId, envInfo, spaces) {
        this.connection = connection;
        this.instanceId = instanceId;
        this.envInfo = envInfo;
        this.observationSpace = spaceFrom(spaces[0]);
        this.actionSpace = spaceFrom(spaces[1]);
    }
    /** The render mode the env was made with (`render_mode` kwarg of `make`). */
    get renderMode() {
        return this.envInfo.render_mode;
    }
    /** The env's metadata (`render_modes`, `render_fps`...). */
    get metadata() {
        return this.envInfo.metadata;
    }
    /** Whether {@link close} was called. */
    get isClosed() {
        return this.closed;
    }
    /** Call any server method on this instance. */
    call(method, params = {}, options) {
        return this.connection.call(method, { instance_id: this.instanceId, ...params }, options);
    }
    /** Reset the env (a vector env: every sub-env), optionally with a seed and options. */
    async reset(options = {}) {
        const params = {};
        if (options.seed !== undefined)
            params.seed = options.seed;
        if (options.options !== undefined)
            params.options = options.options;
        const result = await this.call("reset", params);
        return { observation: this.observationSpace.revive(result.observation), info: result.info };
    }
    /** A random action sampled on the server (works for every space). */
    actionSample() {
        return this.call("action_sample");
    }
    /** The server's render: a `|u1` NDArray (msgpack) or nested arrays (JSON) for `rgb_array`; null without a render mode. */
    render() {
        return this.call("render");
    }
    /** Close the instance on the server; idempotent, and quiet if the connection or instance is gone. */
    async close() {
        if (this.closed)
            return;
        this.closed = true;
        try {
            await this.call("close");
        }
        catch (error) {
            const gone = error instanceof GymieError && (error.code === ErrorCode.InstanceNotFound || error.code === CONNECTION_CLOSED);
            if (!gone)
                throw error;
        }
    }
    async stepResult(action) {
        const result = await this.call("step", { action });
        result.observation = this.observationSpace.revive(result.observation);
        result.reward = reviveFloats(result.reward);
        return result;
    }
}
/** One environment on a gymie server, made with `client.make`. */
export class Env extends Instance {
    /** Stand in for the server's instance `instanceId`: fetch its info and spaces (pipelined). */
    static async create(connection, instanceId) {
        const [info, observation, action] = await fetchAll(connection, instanceId, ["env_info", "observation_space", "action_space"]);
        return new Env(connection, instanceId, info, [observation, action]);
    }
    /** Send one action; the action may be a number, nested arrays, a typed array or an NDArray. */
    step(action) {
        return this.stepResult(action);
    }
}
/** A vector environment on a gymie server, made with `client.makeVec`: batched `reset` and `step`. */
export class VecEnv extends Instance {
    /** The number of sub-environments. */
    numEnvs;
    /** One sub-environment's spaces. */
    singleObservationSpace;
    singleActionSpace;
    constructor(connection, instanceId, envInfo, spaces) {
        super(connection, instanceId, envInfo, spaces);
        this.numEnvs = Number(envInfo.num_envs);
        this.singleObservationSpace = spaceFrom(spaces[2]);
        this.singleActionSpace = spaceFrom(spaces[3]);
    }
    /** Stand in for the server's vector instance `instanceId`: fetch its info and spaces (pipelined). */
    static async create(connection, instanceId) {
        const methods = ["env_info", "observation_space", "action_space", "single_observation_space", "single_action_space"];
        const [info, ...spaces] = await fetchAll(connection, instanceId, methods);
        return new VecEnv(connection, instanceId, info, spaces);
    }
    /** How sub-envs restart when their episode ends: "NextStep", "SameStep" or "Disabled". */
    get autoresetMode() {
        return this.envInfo.autoreset_mode;
    }
    /** Step every sub-env with a batch of actions; `reward`, `terminated`, `truncated` are batches (NDArrays with msgpack). */
    step(actions) {
        return this.stepResult(actions);
    }
}
async function fetchAll(connection, instanceId, methods) {
    try {
        return await Promise.all(methods.map((m) => connection.call(m, { instance_id: instanceId })));
    }
    catch (error) {
        // Don't leak an instance whose stand-in cannot be built.
        await connection.call("close", { instance_id: instanceId }).catch(() => undefined);
        throw error;
    }
}
