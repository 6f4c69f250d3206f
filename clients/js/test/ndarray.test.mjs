// The codec and ndarrays, without a server.
import assert from "node:assert/strict";
import { test } from "node:test";
import { encode, decode, ExtensionCodec } from "@msgpack/msgpack";
import { decodeFrame, encodeFrame, isNDArray, ndarray, toNested } from "../dist/index.js";

/** A reply frame holding an ext-1 ndarray of `dtype`, `shape` and `raw`, with `pad` bytes before it. */
function frameWith(dtype, shape, raw, pad = "") {
  const codec = new ExtensionCodec();
  const marker = { ndarray: true };
  codec.register({ type: 1, encode: (v) => (v === marker ? encode([dtype, shape, raw]) : null), decode: () => null });
  return encode({ jsonrpc: "2.0", id: 1, result: { pad, obs: marker } }, { extensionCodec: codec });
}

test("a float32 array decodes into a Float32Array of its shape", () => {
  const values = new Float32Array([1.5, -2, 3.25, 0, 5, 6]);
  const reply = decodeFrame(frameWith("<f4", [2, 3], new Uint8Array(values.buffer)).slice().buffer);
  const obs = reply.result.obs;
  assert.ok(obs.data instanceof Float32Array);
  assert.deepEqual(obs.shape, [2, 3]);
  assert.equal(obs.dtype, "<f4");
  assert.deepEqual(Array.from(obs.data), Array.from(values));
  assert.deepEqual(toNested(obs), [[1.5, -2, 3.25], [0, 5, 6]]);
});

test("an aligned array is a zero-copy view on the frame, a misaligned one a copy", () => {
  const raw = new Uint8Array(new Float64Array([1, 2, 3, 4]).buffer);
  const seen = { view: 0, copy: 0 };
  for (let pad = 0; pad < 8; pad++) {
    const frame = frameWith("<f8", [4], raw, "x".repeat(pad)).slice();
    const obs = decodeFrame(frame.buffer).result.obs;
    assert.deepEqual(Array.from(obs.data), [1, 2, 3, 4]);
    const offset = Buffer.from(frame).indexOf(Buffer.from(raw)); // where the raw bytes start in the frame
    assert.ok(offset > 0);
    if (offset % 8 === 0) assert.equal(obs.data.buffer, frame.buffer, `pad ${pad}: view expected`);
    else assert.notEqual(obs.data.buffer, frame.buffer, `pad ${pad}: copy expected`);
    seen[offset % 8 === 0 ? "view" : "copy"]++;
  }
  assert.deepEqual(seen, { view: 1, copy: 7 });
});

test("every dtype maps to its typed array", () => {
  const cases = [
    ["|b1", [1, 0, 1], Uint8Array],
    ["|u1", [0, 255], Uint8Array],
    ["|i1", [-128, 127], Int8Array],
    ["<i2", [-3, 4], Int16Array],
    ["<u2", [65535], Uint16Array],
    ["<i4", [-5, 6], Int32Array],
    ["<u4", [7], Uint32Array],
    ["<i8", [-8n, 9n], BigInt64Array],
    ["<u8", [10n], BigUint64Array],
    ["<f4", [0.5], Float32Array],
    ["<f8", [0.1], Float64Array],
  ];
  for (const [dtype, values, Cls] of cases) {
    const raw = new Uint8Array(new Cls(values).buffer);
    const obs = decodeFrame(frameWith(dtype, [values.length], raw)).result.obs;
    assert.ok(obs.data instanceof Cls, dtype);
    assert.deepEqual(Array.from(obs.data), values, dtype);
    assert.equal(obs.dtype, dtype);
  }
  const bools = decodeFrame(frameWith("|b1", [3], new Uint8Array([1, 0, 1]))).result.obs;
  assert.deepEqual(toNested(bools), [true, false, true]);
});

test("big-endian arrays are byte-swapped and float16 widened to float32", () => {
  const be = new Uint8Array([0x3f, 0x80, 0, 0, 0xc0, 0, 0, 0]); // 1.0, -2.0 as >f4
  const obs = decodeFrame(frameWith(">f4", [2], be)).result.obs;
  assert.deepEqual(Array.from(obs.data), [1, -2]);
  assert.equal(obs.dtype, "<f4");
  const half = new Uint8Array([0x00, 0x3c, 0x00, 0xc0, 0x00, 0x7c]); // 1, -2, inf as <f2
  const h = decodeFrame(frameWith("<f2", [3], half)).result.obs;
  assert.ok(h.data instanceof Float32Array);
  assert.deepEqual(Array.from(h.data), [1, -2, Infinity]);
  assert.equal(h.dtype, "<f4");
});

test("a payload whose size does not match its shape is refused", () => {
  assert.throws(() => decodeFrame(frameWith("<f4", [3], new Uint8Array(8))), /needs 12 bytes, got 8/);
  assert.throws(() => decodeFrame(frameWith("<U4", [1], new Uint8Array(16))), /Unsupported ndarray dtype/);
});

test("typed arrays and ndarrays are sent as ext 1, plain values as they are", () => {
  const action = ndarray(new Float32Array([0.5, -1, 2, 3]), [2, 2]);
  const frame = encodeFrame({ a: action, b: new Uint8Array([1, 2]), c: [1, 2], d: 3 }, "msgpack");
  const seen = [];
  const codec = new ExtensionCodec();
  codec.register({ type: 1, encode: () => null, decode: (data) => (seen.push(decode(data)), "ext") });
  const message = decode(frame, { extensionCodec: codec });
  assert.deepEqual(message, { a: "ext", b: "ext", c: [1, 2], d: 3 });
  assert.equal(seen[0][0], "<f4");
  assert.deepEqual(seen[0][1], [2, 2]);
  assert.deepEqual(Array.from(new Float32Array(seen[0][2].slice().buffer)), [0.5, -1, 2, 3]);
  assert.deepEqual(seen[1].slice(0, 2), ["|u1", [2]]);
  assert.throws(() => ndarray(new Float32Array(3), [2, 2]), /needs 16 bytes, got 12/);
});

test("JSON sends arrays as lists and non-finite numbers as strings", () => {
  const text = encodeFrame({ x: ndarray(new Float32Array([1, NaN, Infinity, -Infinity]), [2, 2]), y: new Int32Array([3]), z: 5n }, "json");
  assert.equal(text, '{"x":[[1,"NaN"],["Infinity","-Infinity"]],"y":[3],"z":5}');
  assert.deepEqual(decodeFrame('{"a": [1, "NaN"]}'), { a: [1, "NaN"] });
});

test("isNDArray and toNested", () => {
  assert.ok(isNDArray(ndarray(new Uint8Array(2))));
  assert.ok(!isNDArray({ data: [1], shape: [1], dtype: "<f8" }));
  assert.deepEqual(toNested(ndarray(new BigInt64Array([1n, 2n]), [2, 1])), [[1], [2]]);
  assert.equal(toNested(ndarray(new Float64Array([7]), [])), 7);
  assert.deepEqual(toNested(ndarray(new Float32Array(0), [2, 0])), [[], []]);
  assert.deepEqual(toNested({ a: [ndarray(new Uint8Array([1]))], b: "s" }), { a: [[1]], b: "s" });
});
