/**
 * Frames on the wire: msgpack (binary frames, ndarrays as extension type 1) and strict JSON (text).
 *
 * msgpack ext 1 payload: msgpack `[dtype, shape, raw]` (see gymie/codec.py). Received arrays become
 * {@link NDArray}s; sent {@link NDArray}s and bare typed arrays (1-d) become ext 1. JSON sends
 * arrays as nested lists and non-finite numbers as the strings "NaN", "Infinity", "-Infinity",
 * as the server does; received JSON is plain `JSON.parse` output.
 */
import { Decoder, Encoder, ExtensionCodec } from "../msgpack/index.mjs";
import { fromBytes, isNDArray, isTypedArray, ndarray, toBytes, toNested } from "./ndarray.js";
/** The msgpack extension type of an ndarray. */
export const NDARRAY_EXT = 1;
const payloadEncoder = new Encoder();
const payloadDecoder = new Decoder();
const extensionCodec = new ExtensionCodec();
extensionCodec.register({
    type: NDARRAY_EXT,
    encode: (value) => {
        const nd = isNDArray(value) ? value : isTypedArray(value) ? ndarray(value) : null;
        return nd === null ? null : payloadEncoder.encode([nd.dtype, nd.shape, toBytes(nd)]);
    },
    decode: (payload) => {
        const decoded = payloadDecoder.decode(payload);
        if (!Array.isArray(decoded) || decoded.length !== 3) {
            throw new TypeError("ndarray payload must be [dtype, shape, bytes]");
        }
        const [dtype, shape, raw] = decoded;
        if (typeof dtype !== "string" || !Array.isArray(shape) || !(raw instanceof Uint8Array)) {
            throw new TypeError("ndarray payload must be [dtype: str, shape: int[], raw: bin]");
        }
        return fromBytes(dtype, shape, raw);
    },
});
// One encoder and decoder for every frame (@msgpack/msgpack clones them when re-entered).
const encoder = new Encoder({ extensionCodec, useBigInt64: true });
const decoder = new Decoder({ extensionCodec });
/** Encode a message as msgpack. */
export function encodeMsgpack(message) {
    return encoder.encode(message);
}
/** Decode a msgpack frame; ndarrays are views on `frame` where alignment allows. */
export function decodeMsgpack(frame) {
    return decoder.decode(frame instanceof Uint8Array ? frame : new Uint8Array(frame));
}
/** Encode a message as strict JSON (typed arrays and ndarrays as nested lists). */
export function encodeJson(message) {
    return JSON.stringify(message, jsonReplacer);
}
function jsonReplacer(_key, value) {
    if (typeof value === "number")
        return Number.isFinite(value) ? value : String(value);
    if (typeof value === "bigint")
        return Number(value);
    if (isNDArray(value) || isTypedArray(value))
        return toNested(value);
    return value;
}
/** Decode a JSON text frame. */
export function decodeJson(frame) {
    return JSON.parse(frame);
}
/** Encode a message for `encoding`: bytes for msgpack, text for JSON. */
export function encodeFrame(message, encoding) {
    return encoding === "msgpack" ? encodeMsgpack(message) : encodeJson(message);
}
/** Decode a frame: binary frames are msgpack, text frames JSON (whatever the encoding). */
export function decodeFrame(frame) {
    if (typeof frame === "string")
        return decodeJson(frame);
    if (frame instanceof ArrayBuffer || frame instanceof Uint8Array)
        return decodeMsgpack(frame);
    if (ArrayBuffer.isView(frame)) {
        return decodeMsgpack(new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength));
    }
    throw new TypeError(`Cannot decode a frame of type ${Object.prototype.toString.call(frame)}`);
}
