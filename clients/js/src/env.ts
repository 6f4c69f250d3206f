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
import { CONNECTION_CLOSED, ErrorCode, GymieError } from "./errors.js";
import { reviveFloats, spaceFrom, type Space, type SpaceDescription } from "./spaces.js";

/** What the server says about an instance (`env_info`). */
export interface EnvInfo {
  env_id: string;
  render_mode: string | null;
  metadata: Record<string, unknown>;
  spec: { id: string; max_episode_steps?: number | null; reward_threshold?: number | null; [key: string]: unknown } | null;
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
abstract class Instance {
  /** The server's id of this instance. */
  readonly instanceId: string;
  /** What the server said about the instance: env id, render mode, metadata, spec. */
  readonly envInfo: EnvInfo;
  /** The (batched, for a vector env) observation and action spaces. */
  readonly observationSpace: Space;
  readonly actionSpace: Space;
  protected readonly connection: Connection;
  private closed = false;

  protected constructor(connection: Connection, instanceId: string, envInfo: EnvInfo, spaces: SpaceDescription[]) {
    this.connection = connection;
    this.instanceId = instanceId;
    this.envInfo = envInfo;
    this.observationSpace = spaceFrom(spaces[0]!);
    this.actionSpace = spaceFrom(spaces[1]!);
  }

  /** The render mode the env was made with (`render_mode` kwarg of `make`). */
  get renderMode(): string | null {
    return this.envInfo.render_mode;
  }

  /** The env's metadata (`render_modes`, `render_fps`...). */
  get metadata(): Record<string, unknown> {
    return this.envInfo.metadata;
  }

  /** Whether {@link close} was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Call any server method on this instance. */
  call<T = unknown>(method: string, params: Record<string, unknown> = {}, options?: CallOptions): Promise<T> {
    return this.connection.call<T>(method, { instance_id: this.instanceId, ...params }, options);
  }

  /** Reset the env (a vector env: every sub-env), optionally with a seed and options. */
  async reset(options: ResetOptions = {}): Promise<ResetResult> {
    const params: Record<string, unknown> = {};
    if (options.seed !== undefined) params.seed = options.seed;
    if (options.options !== undefined) params.options = options.options;
    const result = await this.call<ResetResult>("reset", params);
    return { observation: this.observationSpace.revive(result.observation), info: result.info };
  }

  /** A random action sampled on the server (works for every space). */
  actionSample(): Promise<unknown> {
    return this.call("action_sample");
  }

  /** The server's render: a `|u1` NDArray (msgpack) or nested arrays (JSON) for `rgb_array`; null without a render mode. */
  render(): Promise<unknown> {
    return this.call("render");
  }

  /** Close the instance on the server; idempotent, and quiet if the connection or instance is gone. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.call("close");
    } catch (error) {
      const gone = error instanceof GymieError && (error.code === ErrorCode.InstanceNotFound || error.code === CONNECTION_CLOSED);
      if (!gone) throw error;
    }
  }

  protected async stepResult<R, D>(action: unknown): Promise<StepResult<unknown, R, D>> {
    const result = await this.call<StepResult<unknown, R, D>>("step", { action });
    result.observation = this.observationSpace.revive(result.observation);
    result.reward = reviveFloats(result.reward) as R;
    return result;
  }
}

/** One environment on a gymie server, made with `client.make`. */
export class Env extends Instance {
  /** Stand in for the server's instance `instanceId`: fetch its info and spaces (pipelined). */
  static async create(connection: Connection, instanceId: string): Promise<Env> {
    const [info, observation, action] = await fetchAll(connection, instanceId, ["env_info", "observation_space", "action_space"]);
    return new Env(connection, instanceId, info as EnvInfo, [observation, action] as SpaceDescription[]);
  }

  /** Send one action; the action may be a number, nested arrays, a typed array or an NDArray. */
  step(action: unknown): Promise<StepResult<unknown, number, boolean>> {
    return this.stepResult(action);
  }
}

/** A vector environment on a gymie server, made with `client.makeVec`: batched `reset` and `step`. */
export class VecEnv extends Instance {
  /** The number of sub-environments. */
  readonly numEnvs: number;
  /** One sub-environment's spaces. */
  readonly singleObservationSpace: Space;
  readonly singleActionSpace: Space;

  private constructor(connection: Connection, instanceId: string, envInfo: EnvInfo, spaces: SpaceDescription[]) {
    super(connection, instanceId, envInfo, spaces);
    this.numEnvs = Number(envInfo.num_envs);
    this.singleObservationSpace = spaceFrom(spaces[2]!);
    this.singleActionSpace = spaceFrom(spaces[3]!);
  }

  /** Stand in for the server's vector instance `instanceId`: fetch its info and spaces (pipelined). */
  static async create(connection: Connection, instanceId: string): Promise<VecEnv> {
    const methods = ["env_info", "observation_space", "action_space", "single_observation_space", "single_action_space"];
    const [info, ...spaces] = await fetchAll(connection, instanceId, methods);
    return new VecEnv(connection, instanceId, info as EnvInfo, spaces as SpaceDescription[]);
  }

  /** How sub-envs restart when their episode ends: "NextStep", "SameStep" or "Disabled". */
  get autoresetMode(): string | null {
    return this.envInfo.autoreset_mode;
  }

  /** Step every sub-env with a batch of actions; `reward`, `terminated`, `truncated` are batches (NDArrays with msgpack). */
  step(actions: unknown): Promise<StepResult<unknown, unknown, unknown>> {
    return this.stepResult(actions);
  }
}

async function fetchAll(connection: Connection, instanceId: string, methods: string[]): Promise<unknown[]> {
  try {
    return await Promise.all(methods.map((m) => connection.call(m, { instance_id: instanceId })));
  } catch (error) {
    // Don't leak an instance whose stand-in cannot be built.
    await connection.call("close", { instance_id: instanceId }).catch(() => undefined);
    throw error;
  }
}
