// Spaces from descriptions (as gymie.spaces.describe writes them), without a server.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Box, Dict, Discrete, spaceFrom, toNested, ndarray, UnknownSpace } from "../dist/index.js";

const box = { name: "Box", shape: [2, 2], low: [[-1, "-Infinity"], [0, 0]], high: [[1, "Infinity"], ["Infinity", 5]] };
const descriptions = [
  { name: "Discrete", n: 3, start: -1 },
  box,
  { name: "Box", shape: [3], low: [0, 0, 0], high: [255, 255, 255], dtype: "uint8" },
  { name: "Box", shape: [], low: -2, high: 2, dtype: "float64" },
  { name: "MultiBinary", n: 5, shape: [5], low: [0], high: [1] },
  { name: "MultiDiscrete", nvec: [[3, 4], [2, 2]], shape: [2, 2], start: [[1, 0], [0, -1]] },
  { name: "Tuple", spaces: [{ name: "Discrete", n: 2 }, box] },
  { name: "Dict", spaces: { pos: box, id: { name: "Discrete", n: 7 } } },
  { name: "Text", min_length: 1, max_length: 4, charset: "abc" },
  { name: "OneOf", spaces: [{ name: "Discrete", n: 2 }, { name: "MultiBinary", n: 2, shape: [2], low: [0], high: [1] }] },
];

test("samples of every sampleable space are contained in it, and seeding repeats them", () => {
  for (const description of descriptions) {
    const space = spaceFrom(description);
    assert.equal(space.name, description.name);
    assert.deepEqual(JSON.parse(JSON.stringify(space)), description);
    space.seed(123);
    const first = Array.from({ length: 50 }, () => space.sample());
    for (const value of first) assert.ok(space.contains(value), `${description.name}: ${JSON.stringify(toNested(value))}`);
    space.seed(123);
    const again = Array.from({ length: 50 }, () => space.sample());
    assert.deepEqual(toNested(again), toNested(first), description.name);
  }
});

test("Box: bounds from descriptions, dtype of samples, contains", () => {
  const space = spaceFrom(box);
  assert.ok(space instanceof Box);
  assert.deepEqual(space.low, [-1, -Infinity, 0, 0]);
  assert.deepEqual(space.high, [1, Infinity, Infinity, 5]);
  const sample = space.sample();
  assert.ok(sample.data instanceof Float32Array);
  assert.deepEqual(sample.shape, [2, 2]);
  assert.equal(sample.dtype, "<f4");
  assert.ok(space.contains([[0, 1e30], [3, 5]]));
  assert.ok(!space.contains([[0, 1e30], [3, 6]]), "above high");
  assert.ok(!space.contains([0, 0, 0, 0]), "wrong shape");
  assert.ok(!space.contains([[NaN, 0], [0, 0]]), "NaN");
  const u8 = spaceFrom(descriptions[2]);
  assert.ok(u8.sample().data instanceof Uint8Array);
  assert.ok(u8.contains(new Uint8Array([0, 128, 255])));
  assert.ok(!u8.contains([0.5, 1, 2]), "integers only");
  const scalar = spaceFrom(descriptions[3]);
  assert.deepEqual(scalar.sample().shape, []);
  assert.ok(scalar.contains(1.5) && !scalar.contains(3));
});

test("Discrete, MultiDiscrete, MultiBinary: contains", () => {
  const d = spaceFrom(descriptions[0]);
  assert.ok(d instanceof Discrete);
  assert.ok(d.contains(-1) && d.contains(1) && d.contains(1n) && d.contains(ndarray(new BigInt64Array([0n]), [])));
  assert.ok(!d.contains(2) && !d.contains(0.5) && !d.contains([0]) && !d.contains("0"));
  const md = spaceFrom(descriptions[5]);
  assert.ok(md.sample().data instanceof BigInt64Array);
  assert.ok(md.contains([[1, 3], [1, 0]]) && !md.contains([[0, 0], [0, 0]]));
  const mb = spaceFrom(descriptions[4]);
  assert.ok(mb.sample().data instanceof Int8Array);
  assert.ok(mb.contains([0, 1, 1, 0, 1]) && !mb.contains([0, 2, 1, 0, 1]));
});

test("Tuple and Dict: structure, keys and revive of non-finite strings", () => {
  const dict = spaceFrom(descriptions[7]);
  assert.ok(dict instanceof Dict);
  assert.deepEqual(Object.keys(dict.sample()), ["pos", "id"]);
  assert.ok(!dict.contains({ pos: [[0, 0], [0, 0]] }), "missing key");
  const revived = dict.revive({ pos: [[0, "-Infinity"], ["NaN", 1]], id: 3 });
  assert.deepEqual(revived, { pos: [[0, -Infinity], [NaN, 1]], id: 3 });
  const tuple = spaceFrom(descriptions[6]);
  assert.deepEqual(tuple.revive([1, [["Infinity", 0], [0, 0]]]), [1, [[Infinity, 0], [0, 0]]]);
  const text = spaceFrom(descriptions[8]);
  assert.equal(text.revive("NaN"), "NaN", "strings of non-float spaces stay strings");
  assert.ok(!text.contains("abcd!") && !text.contains(""));
});

test("Sequence, Graph and unknown spaces are described; sampling them throws a clear error", () => {
  const seq = spaceFrom({ name: "Sequence", space: { name: "Discrete", n: 2 }, stack: false });
  assert.ok(seq.contains([0, 1, 1]) && !seq.contains([2]));
  assert.throws(() => seq.sample(), /cannot sample a Sequence space; use env.actionSample\(\)/);
  const graph = spaceFrom({ name: "Graph", node_space: box, edge_space: null });
  assert.equal(graph.edgeSpace, null);
  assert.throws(() => graph.sample(), /cannot sample a Graph/);
  const odd = spaceFrom({ name: "Hyperbolic", k: 1 });
  assert.ok(odd instanceof UnknownSpace);
  assert.throws(() => odd.sample(), /cannot sample a Hyperbolic/);
  assert.throws(() => spaceFrom({ n: 2 }), /Not a space description/);
});
