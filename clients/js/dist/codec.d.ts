/** The msgpack extension type of an ndarray. */
export declare const NDARRAY_EXT = 1;
/** The two encodings: `"msgpack"` over the `gymie.msgpack` subprotocol, or `"json"`. */
export type Encoding = "msgpack" | "json";
/** Encode a message as msgpack. */
export declare function encodeMsgpack(message: unknown): Uint8Array;
/** Decode a msgpack frame; ndarrays are views on `frame` where alignment allows. */
export declare function decodeMsgpack(frame: ArrayBuffer | Uint8Array): unknown;
/** Encode a message as strict JSON (typed arrays and ndarrays as nested lists). */
export declare function encodeJson(message: unknown): string;
/** Decode a JSON text frame. */
export declare function decodeJson(frame: string): unknown;
/** Encode a message for `encoding`: bytes for msgpack, text for JSON. */
export declare function encodeFrame(message: unknown, encoding: Encoding): Uint8Array | string;
/** Decode a frame: binary frames are msgpack, text frames JSON (whatever the encoding). */
export declare function decodeFrame(frame: unknown): unknown;
