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
import { DTYPE_STR, isNDArray, isTypedArray, ndarray, size } from "./ndarray.js";
/** JSON's stand-ins for non-finite floats. */
const NONFINITE = { NaN: NaN, Infinity: Infinity, "-Infinity": -Infinity };
/** A small seedable PRNG (mulberry32): uniform floats in [0, 1). */
class Random {
    state;
    constructor(seed) {
        this.state = seed >>> 0;
    }
    next() {
        let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    }
    int(n) {
        return Math.floor(this.next() * n);
    }
    normal() {
        return Math.sqrt(-2 * Math.log(1 - this.next())) * Math.cos(2 * Math.PI * this.next());
    }
    exponential() {
        return -Math.log(1 - this.next());
    }
}
const randomSeed = () => Math.floor(Math.random() * 2 ** 32);
/** A space: what values an env's observations or actions take. */
export class Space {
    /** The server's description, as sent. */
    description;
    #random = new Random(randomSeed());
    constructor(description) {
        this.description = description;
    }
    /** The space's name: "Box", "Discrete"... */
    get name() {
        return this.description.name;
    }
    /** Seed `sample()` (and the sub-spaces' samplers) for reproducible samples. */
    seed(seed) {
        this.#random = new Random(seed);
        this.children().forEach((child, i) => child.seed((seed + 1 + i) >>> 0));
    }
    /** This space's random number generator. */
    get random() {
        return this.#random;
    }
    /** `value` (as received) with JSON's "NaN"/"Infinity"/"-Infinity" strings read back as numbers where the space holds floats. */
    revive(value) {
        return value;
    }
    /** The description, so `JSON.stringify(space)` gives it back. */
    toJSON() {
        return this.description;
    }
    children() {
        return [];
    }
}
/** Flattened values and shape of an array-like value; null when it is not a regular array. */
function flatten(value) {
    if (isNDArray(value))
        return { values: value.data, shape: value.shape };
    if (isTypedArray(value))
        return { values: value, shape: [value.length] };
    if (!Array.isArray(value))
        return typeof value === "object" ? null : { values: [value], shape: [] };
    const shape = [];
    for (let v = value; Array.isArray(v); v = v[0])
        shape.push(v.length);
    const values = value.flat(shape.length);
    const regular = values.length === size(shape) && !values.some(Array.isArray);
    return regular ? { values, shape } : null;
}
const sameShape = (a, b) => a.length === b.length && a.every((d, i) => d === b[i]);
function numeric(value) {
    if (typeof value === "number")
        return value;
    if (typeof value === "bigint")
        return Number(value);
    if (typeof value === "boolean")
        return value ? 1 : 0;
    return NaN;
}
/** `value` with the strings "NaN", "Infinity", "-Infinity" (also in nested arrays) read back as numbers. */
export function reviveFloats(value) {
    if (typeof value === "string")
        return value in NONFINITE ? NONFINITE[value] : value;
    if (Array.isArray(value))
        return value.map(reviveFloats);
    return value;
}
function numbers(nested) {
    const flat = Array.isArray(nested) ? nested.flat(Infinity) : [nested];
    return flat.map((v) => numeric(reviveFloats(v)));
}
/** The typed array class of a NumPy dtype name. */
function typedArrayFor(dtype, length) {
    switch (DTYPE_STR[dtype]) {
        case "|b1":
        case "|u1":
            return new Uint8Array(length);
        case "|i1":
            return new Int8Array(length);
        case "<i2":
            return new Int16Array(length);
        case "<u2":
            return new Uint16Array(length);
        case "<i4":
            return new Int32Array(length);
        case "<u4":
            return new Uint32Array(length);
        case "<i8":
            return new BigInt64Array(length);
        case "<u8":
            return new BigUint64Array(length);
        case "<f8":
            return new Float64Array(length);
        case "<f4":
        case "<f2":
            return new Float32Array(length);
        default:
            throw new TypeError(`Unsupported dtype ${JSON.stringify(dtype)}`);
    }
}
/** An NDArray of `dtype` holding `values` (integers already rounded). */
function filled(dtype, shape, values) {
    const data = typedArrayFor(dtype, values.length);
    const big = data instanceof BigInt64Array || data instanceof BigUint64Array;
    values.forEach((v, i) => (data[i] = big ? BigInt(v) : v));
    // float16 spaces are sampled as float32 (no Float16Array in Node 20).
    return ndarray(data, shape, dtype === "float16" ? "<f4" : DTYPE_STR[dtype]);
}
const isIntegerDtype = (dtype) => /^u?int|^bool$/.test(dtype);
/** `Discrete(n, start)`: the integers `start, ..., start + n - 1`; samples are numbers. */
export class Discrete extends Space {
    n;
    start;
    dtype;
    shape = [];
    constructor(description) {
        super(description);
        this.n = Number(description.n);
        this.start = Number(description.start ?? 0);
        this.dtype = String(description.dtype ?? "int64");
    }
    sample() {
        return this.start + this.random.int(this.n);
    }
    contains(value) {
        const flat = flatten(value);
        if (flat === null || flat.values.length !== 1 || flat.shape.length !== 0)
            return false;
        const x = numeric(flat.values[0]);
        return Number.isInteger(x) && x >= this.start && x < this.start + this.n;
    }
}
/** `Box(low, high, shape, dtype)`: arrays with each element between its bounds. */
export class Box extends Space {
    shape;
    dtype;
    /** Lower and upper bounds, flattened in C order (non-finite bounds as ±Infinity). */
    low;
    high;
    constructor(description) {
        super(description);
        this.shape = description.shape ?? [];
        this.dtype = String(description.dtype ?? "float32");
        const n = size(this.shape);
        const bound = (nested) => {
            const values = numbers(nested);
            return values.length === n ? values : Array.from({ length: n }, () => values[0] ?? NaN);
        };
        this.low = bound(description.low);
        this.high = bound(description.high);
    }
    /** Uniform where bounded on both sides, else normal / shifted exponential, as Gymnasium samples. */
    sample() {
        const integer = isIntegerDtype(this.dtype);
        const values = this.low.map((low, i) => {
            const high = this.high[i];
            const r = this.random;
            if (integer)
                return Math.min(high, Math.floor(low + (high - low + 1) * r.next()));
            if (Number.isFinite(low) && Number.isFinite(high))
                return low + (high - low) * r.next();
            if (Number.isFinite(low))
                return low + r.exponential();
            if (Number.isFinite(high))
                return high - r.exponential();
            return r.normal();
        });
        return filled(this.dtype, this.shape, values);
    }
    contains(value) {
        const flat = flatten(value);
        if (flat === null || !sameShape(flat.shape, this.shape))
            return false;
        const integer = isIntegerDtype(this.dtype);
        for (let i = 0; i < flat.values.length; i++) {
            const x = numeric(flat.values[i]);
            if (!(x >= this.low[i] && x <= this.high[i]) || (integer && !Number.isInteger(x)))
                return false;
        }
        return true;
    }
    revive(value) {
        return isIntegerDtype(this.dtype) ? value : reviveFloats(value);
    }
}
/** `MultiBinary(n)`: arrays of 0s and 1s (int8). */
export class MultiBinary extends Space {
    shape;
    dtype = "int8";
    constructor(description) {
        super(description);
        const n = description.n;
        this.shape = description.shape ?? (Array.isArray(n) ? n : [Number(n)]);
    }
    sample() {
        return filled(this.dtype, this.shape, Array.from({ length: size(this.shape) }, () => this.random.int(2)));
    }
    contains(value) {
        const flat = flatten(value);
        if (flat === null || !sameShape(flat.shape, this.shape))
            return false;
        return Array.from(flat.values).every((v) => numeric(v) === 0 || numeric(v) === 1);
    }
}
/** `MultiDiscrete(nvec, start)`: arrays whose element i is in `start[i], ..., start[i] + nvec[i] - 1`. */
export class MultiDiscrete extends Space {
    shape;
    dtype;
    /** Sizes and starts, flattened in C order. */
    nvec;
    start;
    constructor(description) {
        super(description);
        this.nvec = numbers(description.nvec);
        this.shape = description.shape ?? [this.nvec.length];
        this.dtype = String(description.dtype ?? "int64");
        this.start = description.start === undefined ? this.nvec.map(() => 0) : numbers(description.start);
    }
    sample() {
        return filled(this.dtype, this.shape, this.nvec.map((n, i) => this.start[i] + this.random.int(n)));
    }
    contains(value) {
        const flat = flatten(value);
        if (flat === null || !sameShape(flat.shape, this.shape))
            return false;
        return Array.from(flat.values).every((v, i) => {
            const x = numeric(v);
            return Number.isInteger(x) && x >= this.start[i] && x < this.start[i] + this.nvec[i];
        });
    }
}
/** `Tuple(spaces)`: arrays with one element of each sub-space. */
export class Tuple extends Space {
    spaces;
    constructor(description) {
        super(description);
        this.spaces = description.spaces.map(spaceFrom);
    }
    sample() {
        return this.spaces.map((s) => s.sample());
    }
    contains(value) {
        return (Array.isArray(value) && value.length === this.spaces.length && this.spaces.every((s, i) => s.contains(value[i])));
    }
    revive(value) {
        return Array.isArray(value) ? value.map((v, i) => this.spaces[i]?.revive(v) ?? v) : value;
    }
    children() {
        return this.spaces;
    }
}
/** `Dict(spaces)`: objects with one element of each sub-space under its key. */
export class Dict extends Space {
    spaces;
    constructor(description) {
        super(description);
        const entries = Object.entries(description.spaces);
        this.spaces = Object.fromEntries(entries.map(([key, d]) => [key, spaceFrom(d)]));
    }
    sample() {
        return Object.fromEntries(Object.entries(this.spaces).map(([key, s]) => [key, s.sample()]));
    }
    contains(value) {
        if (typeof value !== "object" || value === null || Array.isArray(value))
            return false;
        const v = value;
        const keys = Object.keys(this.spaces);
        return Object.keys(v).length === keys.length && keys.every((k) => k in v && this.spaces[k].contains(v[k]));
    }
    revive(value) {
        if (typeof value !== "object" || value === null || Array.isArray(value))
            return value;
        const v = value;
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.spaces[k]?.revive(x) ?? x]));
    }
    children() {
        return Object.values(this.spaces);
    }
}
/** `Text(max_length, min_length, charset)`: strings of the charset's characters. */
export class Text extends Space {
    minLength;
    maxLength;
    charset;
    constructor(description) {
        super(description);
        this.minLength = Number(description.min_length ?? 1);
        this.maxLength = Number(description.max_length);
        this.charset = Array.from(String(description.charset));
    }
    sample() {
        const length = this.minLength + this.random.int(this.maxLength - this.minLength + 1);
        return Array.from({ length }, () => this.charset[this.random.int(this.charset.length)]).join("");
    }
    contains(value) {
        if (typeof value !== "string")
            return false;
        const chars = Array.from(value);
        return chars.length >= this.minLength && chars.length <= this.maxLength && chars.every((c) => this.charset.includes(c));
    }
}
/** `OneOf(spaces)`: `[index, value]` with `value` an element of `spaces[index]`. */
export class OneOf extends Space {
    spaces;
    constructor(description) {
        super(description);
        this.spaces = description.spaces.map(spaceFrom);
    }
    sample() {
        const index = this.random.int(this.spaces.length);
        return [index, this.spaces[index].sample()];
    }
    contains(value) {
        if (!Array.isArray(value) || value.length !== 2)
            return false;
        const space = Number.isInteger(value[0]) ? this.spaces[value[0]] : undefined;
        return space !== undefined && space.contains(value[1]);
    }
    revive(value) {
        if (!Array.isArray(value) || value.length !== 2)
            return value;
        const space = this.spaces[value[0]];
        return space === undefined ? value : [value[0], space.revive(value[1])];
    }
    children() {
        return this.spaces;
    }
}
function cannotSample(name) {
    throw new Error(`gymie-client cannot sample a ${name} space; use env.actionSample() to sample on the server`);
}
/** `Sequence(space, stack)`: variable-length sequences of elements of `space` (sampling not supported). */
export class Sequence extends Space {
    space;
    stack;
    constructor(description) {
        super(description);
        this.space = spaceFrom(description.space);
        this.stack = Boolean(description.stack);
    }
    sample() {
        return cannotSample("Sequence");
    }
    contains(value) {
        if (this.stack)
            return cannotSample("stacked Sequence");
        return Array.isArray(value) && value.every((v) => this.space.contains(v));
    }
    revive(value) {
        return Array.isArray(value) && !this.stack ? value.map((v) => this.space.revive(v)) : value;
    }
    children() {
        return [this.space];
    }
}
/** `Graph(node_space, edge_space)`: `{nodes, edges, edge_links}` values (sampling and `contains` not supported). */
export class Graph extends Space {
    nodeSpace;
    edgeSpace;
    constructor(description) {
        super(description);
        this.nodeSpace = spaceFrom(description.node_space);
        const edge = description.edge_space;
        this.edgeSpace = edge === null || edge === undefined ? null : spaceFrom(edge);
    }
    sample() {
        return cannotSample("Graph");
    }
    contains() {
        throw new Error("gymie-client cannot check membership of a Graph space");
    }
}
/** A space whose name this client does not know; it keeps the description. */
export class UnknownSpace extends Space {
    sample() {
        return cannotSample(this.name);
    }
    contains() {
        throw new Error(`gymie-client does not know the ${this.name} space`);
    }
}
const CLASSES = {
    Discrete,
    Box,
    MultiBinary,
    MultiDiscrete,
    Tuple,
    Dict,
    Text,
    OneOf,
    Sequence,
    Graph,
};
/** The space a server's description describes. */
export function spaceFrom(description) {
    if (typeof description !== "object" || description === null || typeof description.name !== "string") {
        throw new TypeError(`Not a space description: ${JSON.stringify(description)}`);
    }
    const cls = CLASSES[description.name] ?? UnknownSpace;
    return new cls(description);
}
