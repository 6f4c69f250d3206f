/**
 * Gymnasium spaces rebuilt from the server's descriptions (README "Space descriptions").
 *
 * `sample()` and `contains()` work for Discrete, Box, MultiBinary, MultiDiscrete, Tuple, Dict,
 * Text and OneOf. Sequence and Graph are described (and `contains` works for Sequence) but
 * `sample()` throws: ask the server with `env.actionSample()` instead. An unknown space name
 * gives an {@link UnknownSpace} that keeps its description.
 *
 * Array-valued samples are {@link NDArray}s of the space's dtype, the form msgpack delivers
 * observations in; `contains` accepts those, typed arrays (1-d), nested plain arrays and numbers.
 */
import { type NDArray } from "./ndarray.js";
/** A space description as the server sends it: `{name, ...}`. */
export interface SpaceDescription {
    name: string;
    [key: string]: unknown;
}
/** A small seedable PRNG (mulberry32): uniform floats in [0, 1). */
declare class Random {
    private state;
    constructor(seed: number);
    next(): number;
    int(n: number): number;
    normal(): number;
    exponential(): number;
}
/** A space: what values an env's observations or actions take. */
export declare abstract class Space<T = unknown> {
    #private;
    /** The server's description, as sent. */
    readonly description: SpaceDescription;
    constructor(description: SpaceDescription);
    /** The space's name: "Box", "Discrete"... */
    get name(): string;
    /** Seed `sample()` (and the sub-spaces' samplers) for reproducible samples. */
    seed(seed: number): void;
    /** This space's random number generator. */
    protected get random(): Random;
    /** A random element of the space. */
    abstract sample(): T;
    /** Whether `value` is an element of the space. */
    abstract contains(value: unknown): boolean;
    /** `value` (as received) with JSON's "NaN"/"Infinity"/"-Infinity" strings read back as numbers where the space holds floats. */
    revive(value: unknown): unknown;
    /** The description, so `JSON.stringify(space)` gives it back. */
    toJSON(): SpaceDescription;
    protected children(): Space[];
}
/** `value` with the strings "NaN", "Infinity", "-Infinity" (also in nested arrays) read back as numbers. */
export declare function reviveFloats(value: unknown): unknown;
/** `Discrete(n, start)`: the integers `start, ..., start + n - 1`; samples are numbers. */
export declare class Discrete extends Space<number> {
    readonly n: number;
    readonly start: number;
    readonly dtype: string;
    readonly shape: number[];
    constructor(description: SpaceDescription);
    sample(): number;
    contains(value: unknown): boolean;
}
/** `Box(low, high, shape, dtype)`: arrays with each element between its bounds. */
export declare class Box extends Space<NDArray> {
    readonly shape: number[];
    readonly dtype: string;
    /** Lower and upper bounds, flattened in C order (non-finite bounds as ±Infinity). */
    readonly low: number[];
    readonly high: number[];
    constructor(description: SpaceDescription);
    /** Uniform where bounded on both sides, else normal / shifted exponential, as Gymnasium samples. */
    sample(): NDArray;
    contains(value: unknown): boolean;
    revive(value: unknown): unknown;
}
/** `MultiBinary(n)`: arrays of 0s and 1s (int8). */
export declare class MultiBinary extends Space<NDArray> {
    readonly shape: number[];
    readonly dtype = "int8";
    constructor(description: SpaceDescription);
    sample(): NDArray;
    contains(value: unknown): boolean;
}
/** `MultiDiscrete(nvec, start)`: arrays whose element i is in `start[i], ..., start[i] + nvec[i] - 1`. */
export declare class MultiDiscrete extends Space<NDArray> {
    readonly shape: number[];
    readonly dtype: string;
    /** Sizes and starts, flattened in C order. */
    readonly nvec: number[];
    readonly start: number[];
    constructor(description: SpaceDescription);
    sample(): NDArray;
    contains(value: unknown): boolean;
}
/** `Tuple(spaces)`: arrays with one element of each sub-space. */
export declare class Tuple extends Space<unknown[]> {
    readonly spaces: Space[];
    constructor(description: SpaceDescription);
    sample(): unknown[];
    contains(value: unknown): boolean;
    revive(value: unknown): unknown;
    protected children(): Space[];
}
/** `Dict(spaces)`: objects with one element of each sub-space under its key. */
export declare class Dict extends Space<Record<string, unknown>> {
    readonly spaces: Record<string, Space>;
    constructor(description: SpaceDescription);
    sample(): Record<string, unknown>;
    contains(value: unknown): boolean;
    revive(value: unknown): unknown;
    protected children(): Space[];
}
/** `Text(max_length, min_length, charset)`: strings of the charset's characters. */
export declare class Text extends Space<string> {
    readonly minLength: number;
    readonly maxLength: number;
    readonly charset: string[];
    constructor(description: SpaceDescription);
    sample(): string;
    contains(value: unknown): boolean;
}
/** `OneOf(spaces)`: `[index, value]` with `value` an element of `spaces[index]`. */
export declare class OneOf extends Space<[number, unknown]> {
    readonly spaces: Space[];
    constructor(description: SpaceDescription);
    sample(): [number, unknown];
    contains(value: unknown): boolean;
    revive(value: unknown): unknown;
    protected children(): Space[];
}
/** `Sequence(space, stack)`: variable-length sequences of elements of `space` (sampling not supported). */
export declare class Sequence extends Space<unknown> {
    readonly space: Space;
    readonly stack: boolean;
    constructor(description: SpaceDescription);
    sample(): unknown;
    contains(value: unknown): boolean;
    revive(value: unknown): unknown;
    protected children(): Space[];
}
/** `Graph(node_space, edge_space)`: `{nodes, edges, edge_links}` values (sampling and `contains` not supported). */
export declare class Graph extends Space<unknown> {
    readonly nodeSpace: Space;
    readonly edgeSpace: Space | null;
    constructor(description: SpaceDescription);
    sample(): unknown;
    contains(): boolean;
}
/** A space whose name this client does not know; it keeps the description. */
export declare class UnknownSpace extends Space<unknown> {
    sample(): unknown;
    contains(): boolean;
}
/** The space a server's description describes. */
export declare function spaceFrom(description: SpaceDescription): Space;
export {};
