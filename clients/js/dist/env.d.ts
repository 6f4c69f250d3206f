/**
 * Remote environments: {@link Env} (one Gymnasium env) and {@link VecEnv} (a vector env), each
 * standing in for one instance on the server.
 *
 * Values come back as the encoding delivers them: with msgpack, NumPy arrays are {@link NDArray}s
 * (`observation.data` a `Float32Array` for CartPole); with JSON, nested plain arrays. Over JSON the
 * strings "NaN", "Infinity" and "-Infinity" are read back as numbers in observations (where the
 * observation space holds floats) and rewards; `info` is left as received.
 */
import type { CallOptions, Connection } from "./connection.js";
import { type Space, type SpaceDescription } from "./spaces.js";
/** What the server says about an instance (`env_info`). */
export interface EnvInfo {
    env_id: string;
    render_mode: string | null;
    metadata: Record<string, unknown>;
    spec: {
        id: string;
        max_episode_steps?: number | null;
        reward_threshold?: number | null;
        [key: string]: unknown;
    } | null;
    num_envs: number | null;
    autoreset_mode: string | null;
    [key: string]: unknown;
}
/** `reset`'s result. */
export interface ResetResult<Obs = unknown> {
    observation: Obs;
    info: Record<string, unknown>;
}
/** `step`'s result; a vector env's `reward`, `terminated`, `truncated` are batches. */
export interface StepResult<Obs = unknown, Reward = number, Done = boolean> {
    observation: Obs;
    reward: Reward;
    terminated: Done;
    truncated: Done;
    info: Record<string, unknown>;
}
/** `reset`'s options. */
export interface ResetOptions {
    seed?: number;
    options?: Record<string, unknown>;
}
/** Calls on one server instance, shared by {@link Env} and {@link VecEnv}. */
declare abstract class Instance {
    /** The server's id of this instance. */
    readonly instanceId: string;
    /** What the server said about the instance: env id, render mode, metadata, spec. */
    readonly envInfo: EnvInfo;
    /** The (batched, for a vector env) observation and action spaces. */
    readonly observationSpace: Space;
    readonly actionSpace: Space;
    protected readonly connection: Connection;
    private closed;
    protected constructor(connection: Connection, instanceId: string, envInfo: EnvInfo, spaces: SpaceDescription[]);
    /** The render mode the env was made with (`render_mode` kwarg of `make`). */
    get renderMode(): string | null;
    /** The env's metadata (`render_modes`, `render_fps`...). */
    get metadata(): Record<string, unknown>;
    /** Whether {@link close} was called. */
    get isClosed(): boolean;
    /** Call any server method on this instance. */
    call<T = unknown>(method: string, params?: Record<string, unknown>, options?: CallOptions): Promise<T>;
    /** Reset the env (a vector env: every sub-env), optionally with a seed and options. */
    reset(options?: ResetOptions): Promise<ResetResult>;
    /** A random action sampled on the server (works for every space). */
    actionSample(): Promise<unknown>;
    /** The server's render: a `|u1` NDArray (msgpack) or nested arrays (JSON) for `rgb_array`; null without a render mode. */
    render(): Promise<unknown>;
    /** Close the instance on the server; idempotent, and quiet if the connection or instance is gone. */
    close(): Promise<void>;
    protected stepResult<R, D>(action: unknown): Promise<StepResult<unknown, R, D>>;
}
/** One environment on a gymie server, made with `client.make`. */
export declare class Env extends Instance {
    /** Stand in for the server's instance `instanceId`: fetch its info and spaces (pipelined). */
    static create(connection: Connection, instanceId: string): Promise<Env>;
    /** Send one action; the action may be a number, nested arrays, a typed array or an NDArray. */
    step(action: unknown): Promise<StepResult<unknown, number, boolean>>;
}
/** A vector environment on a gymie server, made with `client.makeVec`: batched `reset` and `step`. */
export declare class VecEnv extends Instance {
    /** The number of sub-environments. */
    readonly numEnvs: number;
    /** One sub-environment's spaces. */
    readonly singleObservationSpace: Space;
    readonly singleActionSpace: Space;
    private constructor();
    /** Stand in for the server's vector instance `instanceId`: fetch its info and spaces (pipelined). */
    static create(connection: Connection, instanceId: string): Promise<VecEnv>;
    /** How sub-envs restart when their episode ends: "NextStep", "SameStep" or "Disabled". */
    get autoresetMode(): string | null;
    /** Step every sub-env with a batch of actions; `reward`, `terminated`, `truncated` are batches (NDArrays with msgpack). */
    step(actions: unknown): Promise<StepResult<unknown, unknown, unknown>>;
}
export {};
