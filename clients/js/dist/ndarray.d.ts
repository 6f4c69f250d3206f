/**
 * N-dimensional arrays as they travel in msgpack: `{data, shape, dtype}`.
 *
 * `dtype` is NumPy's `dtype.str` ("<f4", "|u1"...), `shape` the dimensions (`[]` for a scalar) and
 * `data` a typed array holding the elements in C (row-major) order:
 *
 * | dtype | data |
 * | --- | --- |
 * | `|b1` (bool) | `Uint8Array` of 0/1 |
 * | `|u1` `|i1` `<u2` `<i2` `<u4` `<i4` | `Uint8Array` `Int8Array` `Uint16Array` `Int16Array` `Uint32Array` `Int32Array` |
 * | `<u8` `<i8` | `BigUint64Array` `BigInt64Array` |
 * | `<f4` `<f8` | `Float32Array` `Float64Array` |
 * | `<f2` | widened to `Float32Array` on decode, `dtype` then "<f4" (no `Float16Array` in Node 20) |
 * | `<c8` `<c16` | `Float32Array` / `Float64Array` of interleaved (real, imaginary) pairs |
 *
 * Big-endian (`>`) arrays are byte-swapped into native order on decode (`dtype` then says `<`).
 */
/** Any typed array an {@link NDArray} may hold. */
export type TypedArray = Uint8Array | Uint8ClampedArray | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | BigUint64Array | BigInt64Array | Float32Array | Float64Array;
/** An n-dimensional array: a typed array of `dtype`, in C order, of `shape`. */
export interface NDArray<T extends TypedArray = TypedArray> {
    data: T;
    shape: number[];
    dtype: string;
}
/** NumPy dtype names (as space descriptions spell them) → `dtype.str` on a little-endian server. */
export declare const DTYPE_STR: Record<string, string>;
/** Whether `value` looks like an {@link NDArray}. */
export declare function isNDArray(value: unknown): value is NDArray;
/** Whether `value` is a typed array (not a DataView). */
export declare function isTypedArray(value: unknown): value is TypedArray;
/** The `dtype.str` of a typed array's elements (`Float32Array` → "<f4"). */
export declare function dtypeOf(data: TypedArray): string;
/** An {@link NDArray} of `data`, with `shape` (default: 1-d) and `dtype` (default: the data's). */
export declare function ndarray<T extends TypedArray>(data: T, shape?: number[], dtype?: string): NDArray<T>;
/** The number of elements of `shape`. */
export declare function size(shape: readonly number[]): number;
/**
 * The array of a received ext-1 payload: a zero-copy view on `raw` when its offset is aligned for
 * the element size (and no byte swap is needed), else a copy.
 */
export declare function fromBytes(dtype: string, shape: number[], raw: Uint8Array): NDArray;
/** The raw bytes of an array to send (a view, not a copy), after checking data, shape and dtype agree. */
export declare function toBytes(nd: NDArray): Uint8Array;
/**
 * `value` with every {@link NDArray} and typed array turned into nested plain arrays: numbers
 * (64-bit integers as `Number`, which loses precision past 2^53), booleans for `|b1`, complex
 * numbers as `[re, im]` pairs. Plain arrays and objects are walked; anything else is returned as is.
 */
export declare function toNested(value: unknown): unknown;
