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
/** Element kind and size (`"f4"`) → typed array class. */
const CLASSES = {
    b1: Uint8Array,
    u1: Uint8Array,
    i1: Int8Array,
    u2: Uint16Array,
    i2: Int16Array,
    u4: Uint32Array,
    i4: Int32Array,
    u8: BigUint64Array,
    i8: BigInt64Array,
    f4: Float32Array,
    f8: Float64Array,
    c8: Float32Array,
    c16: Float64Array,
};
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const NATIVE = LITTLE_ENDIAN ? "<" : ">";
/** NumPy dtype names (as space descriptions spell them) → `dtype.str` on a little-endian server. */
export const DTYPE_STR = {
    bool: "|b1",
    int8: "|i1",
    uint8: "|u1",
    int16: "<i2",
    uint16: "<u2",
    int32: "<i4",
    uint32: "<u4",
    int64: "<i8",
    uint64: "<u8",
    float16: "<f2",
    float32: "<f4",
    float64: "<f8",
    complex64: "<c8",
    complex128: "<c16",
};
/** Whether `value` looks like an {@link NDArray}. */
export function isNDArray(value) {
    if (typeof value !== "object" || value === null)
        return false;
    const v = value;
    return typeof v.dtype === "string" && Array.isArray(v.shape) && isTypedArray(v.data);
}
/** Whether `value` is a typed array (not a DataView). */
export function isTypedArray(value) {
    return ArrayBuffer.isView(value) && !(value instanceof DataView);
}
/** The `dtype.str` of a typed array's elements (`Float32Array` → "<f4"). */
export function dtypeOf(data) {
    const name = data.constructor.name;
    const kind = name.startsWith("BigInt")
        ? "i"
        : name.startsWith("BigUint") || name.startsWith("Uint")
            ? "u"
            : name.startsWith("Int")
                ? "i"
                : "f";
    const size = data.BYTES_PER_ELEMENT;
    return `${size === 1 ? "|" : NATIVE}${kind}${size}`;
}
/** An {@link NDArray} of `data`, with `shape` (default: 1-d) and `dtype` (default: the data's). */
export function ndarray(data, shape, dtype) {
    const nd = { data, shape: shape ?? [data.length], dtype: dtype ?? dtypeOf(data) };
    checkSize(nd.dtype, nd.shape, data.byteLength);
    return nd;
}
/** The number of elements of `shape`. */
export function size(shape) {
    return shape.reduce((a, b) => a * b, 1);
}
function parse(dtype) {
    const order = dtype[0] ?? "";
    const key = dtype.slice(1);
    const cls = CLASSES[key];
    if (!"<>|=".includes(order) || order === "" || (cls === undefined && key !== "f2")) {
        throw new TypeError(`Unsupported ndarray dtype ${JSON.stringify(dtype)}`);
    }
    return { order, key, cls: cls ?? Float32Array, itemsize: Number(key.slice(1)) };
}
function checkSize(dtype, shape, byteLength) {
    const { itemsize } = parse(dtype);
    if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
        throw new TypeError(`ndarray shape must be non-negative integers, got [${shape}]`);
    }
    const expected = size(shape) * itemsize;
    if (byteLength !== expected) {
        throw new TypeError(`ndarray of ${dtype} [${shape}] needs ${expected} bytes, got ${byteLength}`);
    }
}
/**
 * The array of a received ext-1 payload: a zero-copy view on `raw` when its offset is aligned for
 * the element size (and no byte swap is needed), else a copy.
 */
export function fromBytes(dtype, shape, raw) {
    checkSize(dtype, shape, raw.byteLength);
    const { order, key, cls } = parse(dtype);
    if (key === "f2")
        return { data: halfToFloat(raw, order === ">"), shape, dtype: "<f4" };
    const unit = key[0] === "c" ? Number(key.slice(1)) / 2 : Number(key.slice(1));
    const swap = unit > 1 && (order === "<" ? !LITTLE_ENDIAN : order === ">" ? LITTLE_ENDIAN : false);
    let bytes = raw;
    if (swap)
        bytes = byteSwapped(raw, unit);
    else if (raw.byteOffset % cls.BYTES_PER_ELEMENT !== 0)
        bytes = raw.slice();
    const data = new cls(bytes.buffer, bytes.byteOffset, bytes.byteLength / cls.BYTES_PER_ELEMENT);
    return { data, shape, dtype: swap ? `${NATIVE}${key}` : dtype };
}
/** The raw bytes of an array to send (a view, not a copy), after checking data, shape and dtype agree. */
export function toBytes(nd) {
    checkSize(nd.dtype, nd.shape, nd.data.byteLength);
    return new Uint8Array(nd.data.buffer, nd.data.byteOffset, nd.data.byteLength);
}
function byteSwapped(raw, unit) {
    const out = new Uint8Array(raw.byteLength);
    for (let i = 0; i < raw.byteLength; i += unit) {
        for (let j = 0; j < unit; j++)
            out[i + j] = raw[i + unit - 1 - j];
    }
    return out;
}
function halfToFloat(raw, bigEndian) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out = new Float32Array(raw.byteLength / 2);
    for (let i = 0; i < out.length; i++) {
        const h = view.getUint16(i * 2, !bigEndian);
        const sign = h & 0x8000 ? -1 : 1;
        const exp = (h >> 10) & 0x1f;
        const frac = h & 0x3ff;
        out[i] =
            exp === 0 ? sign * 2 ** -14 * (frac / 1024)
                : exp === 31 ? (frac ? NaN : sign * Infinity)
                    : sign * 2 ** (exp - 15) * (1 + frac / 1024);
    }
    return out;
}
/**
 * `value` with every {@link NDArray} and typed array turned into nested plain arrays: numbers
 * (64-bit integers as `Number`, which loses precision past 2^53), booleans for `|b1`, complex
 * numbers as `[re, im]` pairs. Plain arrays and objects are walked; anything else is returned as is.
 */
export function toNested(value) {
    if (isNDArray(value))
        return nest(value);
    if (isTypedArray(value))
        return Array.from(value, plain);
    if (Array.isArray(value))
        return value.map(toNested);
    if (typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toNested(v)]));
    }
    return value;
}
function plain(x) {
    return typeof x === "bigint" ? Number(x) : x;
}
function nest(nd) {
    const src = nd.data;
    const item = nd.dtype.slice(1, 2) === "c"
        ? (i) => [plain(src[2 * i]), plain(src[2 * i + 1])]
        : nd.dtype === "|b1"
            ? (i) => src[i] !== 0
            : (i) => plain(src[i]);
    const strides = nd.shape.map((_, d) => size(nd.shape.slice(d + 1)));
    const build = (d, offset) => d === nd.shape.length
        ? item(offset)
        : Array.from({ length: nd.shape[d] }, (_, i) => build(d + 1, offset + i * strides[d]));
    return build(0, 0);
}
