import { test } from 'node:test';
import assert from 'node:assert/strict';
import { add, log, mul, scale, sub, tanh } from '../../../src/core/graph/ops/elementwise';
import { conv1d, linear, matmul } from '../../../src/core/graph/ops/linear';
import { softmax } from '../../../src/core/graph/ops/softmax';
import { layerNorm } from '../../../src/core/graph/ops/layernorm';
import { gelu, geluTanh } from '../../../src/core/graph/ops/gelu';
import { embedding } from '../../../src/core/graph/ops/embedding';
import {
  concat,
  gatherLastAxis,
  gatherRows,
  reshape,
  selectIndex,
  split,
  transpose,
} from '../../../src/core/graph/ops/shape';
import { bceWithLogits, crossEntropy, mseLoss } from '../../../src/core/graph/ops/loss';
import { gradCheck, randn } from './gradcheck';
import * as ort from 'onnxruntime-node';
import { Graph } from '../../../src/core/graph/graph';
import { sumAll } from '../../../src/core/graph/ops/reduce';
import { toModelBytes } from '../../../src/core/graph/serialize';

const TOL = 1e-2;
const f = (name: string, dims: number[], seed: number, shape: (number | string)[] = dims) => ({
  name,
  shape,
  dims,
  data: randn(
    dims.reduce((a, b) => a * b, 1),
    seed,
  ),
});

test('elementwise add/sub/mul with broadcasting: gradients match finite differences', async () => {
  const r = await gradCheck(
    [f('a', [2, 3], 1), f('b', [3], 2)],
    (g, [a, b]) => mul(g, sub(g, add(g, a, b), b), add(g, a, b)),
    [2, 3],
  );
  assert.ok(r.worst < TOL, `worst relative error ${r.worst}`);
});

test('scale and tanh gradients', async () => {
  const r = await gradCheck([f('x', [2, 4], 3)], (g, [x]) => tanh(g, scale(g, x, 0.7)), [2, 4]);
  assert.ok(r.worst < TOL, `worst ${r.worst}`);
});

test('log gradient (of positive inputs: a softmax, as a seed ensemble takes the log of its mean probabilities)', async () => {
  const r = await gradCheck([f('x', [2, 4], 4)], (g, [x]) => log(g, softmax(g, x)), [2, 4]);
  assert.ok(r.worst < TOL, `worst ${r.worst}`);
});

test('linear over symbolic [batch, seq, in] inputs', async () => {
  const r = await gradCheck(
    [f('x', [2, 3, 4], 4, ['batch', 'seq', 4]), f('W', [5, 4], 5), f('b', [5], 6)],
    (g, [x, W, b]) => linear(g, x, W, b),
    [2, 3, 5],
  );
  assert.ok(r.worst < TOL, `worst ${r.worst}`);
});

test('conv1d (GPT-2 Conv1D, weight [in, out]) over symbolic [batch, seq, in] inputs', async () => {
  const r = await gradCheck(
    [f('x', [2, 3, 4], 41, ['batch', 'seq', 4]), f('W', [4, 5], 42), f('b', [5], 43)],
    (g, [x, W, b]) => conv1d(g, x, W, b),
    [2, 3, 5],
  );
  assert.ok(r.worst < TOL, `worst ${r.worst}`);
});

test('conv1d equals linear with the transposed weight', async () => {
  const g = new Graph();
  const x = g.input('x', 'float32', [3, 4]);
  const W = g.input('W', 'float32', [4, 5]);
  const WT = g.input('WT', 'float32', [5, 4]);
  const b = g.input('b', 'float32', [5]);
  g.output(conv1d(g, x, W, b), 'conv');
  g.output(linear(g, x, WT, b), 'lin');
  const session = await ort.InferenceSession.create(toModelBytes(g));
  const w = randn(20, 45);
  const wt = Float32Array.from({ length: 20 }, (_, i) => w[(i % 4) * 5 + Math.floor(i / 4)]);
  const out = await session.run({
    x: new ort.Tensor('float32', randn(12, 44), [3, 4]),
    W: new ort.Tensor('float32', w, [4, 5]),
    WT: new ort.Tensor('float32', wt, [5, 4]),
    b: new ort.Tensor('float32', randn(5, 46), [5]),
  });
  const conv = out.conv.data as Float32Array;
  const lin = out.lin.data as Float32Array;
  assert.ok(conv.every((v, i) => Math.abs(v - lin[i]) < 1e-6));
});

test('batched matmul', async () => {
  const r = await gradCheck([f('a', [2, 3, 4], 7), f('b', [2, 4, 2], 8)], (g, [a, b]) => matmul(g, a, b), [2, 3, 2]);
  assert.ok(r.worst < TOL, `worst ${r.worst}`);
});

test('softmax over the last axis', async () => {
  const r = await gradCheck([f('x', [3, 5], 9)], (g, [x]) => softmax(g, x), [3, 5]);
  assert.ok(r.worst < TOL, `worst ${r.worst}`);
});

test('layerNorm: x, gamma and beta', async () => {
  const r = await gradCheck(
    [f('x', [2, 3, 6], 10), f('gamma', [6], 11), f('beta', [6], 12)],
    (g, [x, ga, be]) => layerNorm(g, x, ga, be, 1e-12),
    [2, 3, 6],
  );
  assert.ok(r.worst < TOL, `worst ${r.worst}`);
});

test('exact GELU', async () => {
  const r = await gradCheck([f('x', [3, 4], 13)], (g, [x]) => gelu(g, x), [3, 4]);
  assert.ok(r.worst < TOL, `worst ${r.worst}`);
});

test('GELU, tanh approximation (GPT-2 gelu_new): gradient, and values of the formula', async () => {
  const r = await gradCheck([f('x', [3, 4], 47, [3, 4])], (g, [x]) => geluTanh(g, x), [3, 4]);
  assert.ok(r.worst < TOL, `worst ${r.worst}`);
  const g = new Graph();
  g.output(geluTanh(g, g.input('x', 'float32', [5])), 'y');
  const xs = Float32Array.of(-3, -0.5, 0, 0.7, 2.5);
  const { y } = await (
    await ort.InferenceSession.create(toModelBytes(g))
  ).run({ x: new ort.Tensor('float32', xs, [5]) });
  const c = Math.sqrt(2 / Math.PI);
  xs.forEach((x, i) => {
    const want = 0.5 * x * (1 + Math.tanh(c * (x + 0.044715 * x ** 3)));
    assert.ok(Math.abs((y.data as Float32Array)[i] - want) < 1e-6, `gelu_new(${x})`);
  });
});

test('embedding with repeated ids accumulates gradients', async () => {
  const ids = {
    name: 'ids',
    shape: ['batch', 'seq'],
    dims: [2, 3],
    data: BigInt64Array.from([1, 4, 1, 0, 4, 4], BigInt),
  };
  const r = await gradCheck([f('table', [5, 3], 14), ids], (g, [t, i]) => embedding(g, t, i), [2, 3, 3], {
    maxCoords: 15,
  });
  assert.ok(r.worst < TOL, `worst ${r.worst}`);
});

test('embedding with a padding index: that row gets no gradient (torch padding_idx), every other row the same as without', async () => {
  const ids = BigInt64Array.from([1, 4, 1, 0, 4, 4], BigInt);
  const tableData = randn(15, 14);
  const probe = randn(18, 3);
  const gradFor = async (paddingIdx?: number): Promise<Float32Array> => {
    const g = new Graph();
    const table = g.input('table', 'float32', [5, 3], true);
    const idValue = g.input('ids', 'int64', [2, 3]);
    const probeValue = g.input('probe', 'float32', [2, 3, 3]);
    const loss = sumAll(g, mul(g, embedding(g, table, idValue, paddingIdx), probeValue));
    g.output(g.gradients(loss, [table])[0], 'grad');
    const session = await ort.InferenceSession.create(toModelBytes(g));
    const out = await session.run({
      table: new ort.Tensor('float32', tableData, [5, 3]),
      ids: new ort.Tensor('int64', ids, [2, 3]),
      probe: new ort.Tensor('float32', probe, [2, 3, 3]),
    });
    await session.release();
    return out.grad.data as Float32Array;
  };
  const plain = await gradFor();
  const padded = await gradFor(4);
  assert.ok(
    plain.subarray(12).some((x) => x !== 0),
    'without a padding index row 4 has a gradient',
  );
  assert.deepEqual([...padded.subarray(12)], [0, 0, 0]);
  assert.deepEqual([...padded.subarray(0, 12)], [...plain.subarray(0, 12)]);
  const g = new Graph();
  assert.throws(
    () => embedding(g, g.input('t', 'float32', [5, 3], true), g.input('i', 'int64', [2]), 5),
    /padding index 5 is not a row/,
  );
});

test('reshape, transpose and selectIndex on symbolic shapes', async () => {
  const r = await gradCheck(
    [f('x', [2, 3, 4], 15, ['batch', 'seq', 4])],
    (g, [x]) => selectIndex(g, transpose(g, reshape(g, x, ['batch', 'seq', 2, 2]), [0, 2, 1, 3]), 2, 1),
    [2, 2, 2],
  );
  assert.ok(r.worst < TOL, `worst ${r.worst}`);
});

test('gatherLastAxis (torch.gather on the last axis): repeated indices accumulate, entries never picked get zero gradient', async () => {
  // x [2, 3, 4] gathered into [2, 3, 5]: rows pick index 0 twice, index 3 never in some rows.
  const picks = [0, 0, 2, 1, 2, 1, 1, 1, 0, 2, 2, 3, 0, 1, 0, 3, 3, 3, 3, 3, 0, 2, 2, 2, 1, 0, 1, 2, 0, 1];
  const index = { name: 'index', shape: [2, 3, 5], dims: [2, 3, 5], data: BigInt64Array.from(picks, BigInt) };
  const r = await gradCheck([f('x', [2, 3, 4], 48), index], (g, [x, i]) => gatherLastAxis(g, x, i), [2, 3, 5], {
    maxCoords: 24,
  });
  assert.ok(r.worst < TOL, `worst ${r.worst}`);
  assert.equal(r.checked, 24, 'every element of x, picked or not, is checked');
  // One [1, 1, 5] index row broadcast over the leading dims, as DeBERTa's position tables are.
  const row = { name: 'index', shape: [1, 1, 5], dims: [1, 1, 5], data: BigInt64Array.from([3, 0, 0, 2, 3], BigInt) };
  const b = await gradCheck(
    [f('x', [2, 3, 4], 49, ['batch', 3, 4]), row],
    (g, [x, i]) => gatherLastAxis(g, x, i),
    [2, 3, 5],
    {
      maxCoords: 24,
    },
  );
  assert.ok(b.worst < TOL, `broadcast index: worst ${b.worst}`);
});

test('gatherRows of flattened symbolic [batch, seq, hidden] states: repeated rows accumulate, rows not picked get zero gradient', async () => {
  const idx = { name: 'idx', shape: ['masked'], dims: [4], data: BigInt64Array.from([5, 0, 5, 2], BigInt) };
  const r = await gradCheck(
    [f('x', [2, 3, 3], 21, ['batch', 'seq', 3]), idx],
    (g, [x, i]) => gatherRows(g, reshape(g, x, ['batch*seq', 3]), i),
    [4, 3],
    { maxCoords: 18 },
  );
  assert.ok(r.worst < TOL, `worst ${r.worst}`);
  assert.equal(r.checked, 18, 'every element of x, picked or not, is checked');
  // The same gradient in closed form: row k of x gets the sum of the probe rows that picked it.
  const g = new Graph();
  const x = g.input('x', 'float32', ['rows', 2], true);
  const probe = g.input('probe', 'float32', ['masked', 2]);
  const loss = sumAll(g, mul(g, gatherRows(g, x, g.input('idx', 'int64', ['masked'])), probe));
  g.output(g.gradients(loss, [x])[0], 'grad');
  const session = await ort.InferenceSession.create(toModelBytes(g));
  const out = await session.run({
    x: new ort.Tensor('float32', new Float32Array(8), [4, 2]),
    idx: new ort.Tensor('int64', BigInt64Array.from([3, 1, 3], BigInt), [3]),
    probe: new ort.Tensor('float32', Float32Array.from([1, 2, 10, 20, 100, 200]), [3, 2]),
  });
  await session.release();
  assert.deepEqual([...(out.grad.data as Float32Array)], [0, 0, 10, 20, 0, 0, 101, 202]);
  assert.throws(() => gatherRows(g, x, g.input('i32', 'float32', [2])), /expected int64/);
});

test('cross-entropy, plain and class-weighted', async () => {
  const labels = { name: 'labels', shape: ['batch'], dims: [4], data: BigInt64Array.from([0, 2, 1, 2], BigInt) };
  const plain = await gradCheck(
    [f('logits', [4, 3], 16, ['batch', 3]), labels],
    (g, [l, y]) => crossEntropy(g, l, y, null),
    [],
    {},
  );
  assert.ok(plain.worst < TOL, `plain worst ${plain.worst}`);
  const weights = { name: 'w', shape: [3], dims: [3], data: Float32Array.from([0.5, 2, 1]), differentiable: false };
  const weighted = await gradCheck(
    [f('logits', [4, 3], 17, ['batch', 3]), labels, weights],
    (g, [l, y, w]) => crossEntropy(g, l, y, w),
    [],
  );
  assert.ok(weighted.worst < TOL, `weighted worst ${weighted.worst}`);
});

test('cross-entropy with label smoothing, plain and class-weighted', async () => {
  const labels = { name: 'labels', shape: ['batch'], dims: [4], data: BigInt64Array.from([0, 2, 1, 2], BigInt) };
  const weights = { name: 'w', shape: [3], dims: [3], data: Float32Array.from([0.5, 2, 1]), differentiable: false };
  for (const eps of [0.1, 0.6, 1]) {
    const plain = await gradCheck(
      [f('logits', [4, 3], 21, ['batch', 3]), labels],
      (g, [l, y]) => crossEntropy(g, l, y, null, eps),
      [],
    );
    assert.ok(plain.worst < TOL, `ε ${eps} plain worst ${plain.worst}`);
    const weighted = await gradCheck(
      [f('logits', [4, 3], 22, ['batch', 3]), labels, weights],
      (g, [l, y, w]) => crossEntropy(g, l, y, w, eps),
      [],
    );
    assert.ok(weighted.worst < TOL, `ε ${eps} weighted worst ${weighted.worst}`);
  }
  const g = new Graph();
  assert.throws(
    () => crossEntropy(g, g.input('l', 'float32', [2, 3]), g.input('y', 'int64', [2]), null, 1.5),
    /label smoothing 1.5 is outside \[0, 1\]/,
  );
});

test('mean squared error of a one-output head (torch MSELoss on logits.squeeze())', async () => {
  const targets = { name: 'y', shape: ['batch'], dims: [5], data: randn(5, 31), differentiable: false };
  const r = await gradCheck([f('logits', [5, 1], 30, ['batch', 1]), targets], (g, [l, y]) => mseLoss(g, l, y), []);
  assert.ok(r.worst < TOL, `worst ${r.worst}`);
  const g = new Graph();
  assert.throws(
    () => mseLoss(g, g.input('l', 'float32', [2, 3]), g.input('y', 'float32', [2])),
    /a regression head has one output/,
  );
});

test('binary cross-entropy with logits (torch BCEWithLogitsLoss), plain and with positive weights', async () => {
  // Targets 0/1 and one soft target; logits up to ±40, where a naive log(sigmoid(x)) overflows to -inf.
  const y = Float32Array.from([1, 0, 1, 0, 0, 1, 1, 0.3, 0, 0, 1, 0]);
  const targets = { name: 'y', shape: ['batch', 3], dims: [4, 3], data: y, differentiable: false };
  const logits = f('logits', [4, 3], 40, ['batch', 3]);
  const plain = await gradCheck([logits, targets], (g, [l, t]) => bceWithLogits(g, l, t, null), []);
  assert.ok(plain.worst < TOL, `plain worst ${plain.worst}`);
  const pos = { name: 'p', shape: [3], dims: [3], data: Float32Array.from([0.5, 3, 1]), differentiable: false };
  const weighted = await gradCheck([logits, targets, pos], (g, [l, t, p]) => bceWithLogits(g, l, t, p), []);
  assert.ok(weighted.worst < TOL, `weighted worst ${weighted.worst}`);

  // The forward value against the formula in float64, including logits far outside exp's float32 range.
  const g = new Graph();
  const l = g.input('l', 'float32', ['batch', 2]);
  const t = g.input('t', 'float32', ['batch', 2]);
  const p = g.input('p', 'float32', [2]);
  g.output(bceWithLogits(g, l, t, null), 'plain');
  g.output(bceWithLogits(g, l, t, p), 'weighted');
  const session = await ort.InferenceSession.create(toModelBytes(g));
  const x = [40, -40, 0.5, -100];
  const yy = [0, 1, 1, 0];
  const pw = [2, 0.25];
  const out = await session.run({
    l: new ort.Tensor('float32', Float32Array.from(x), [2, 2]),
    t: new ort.Tensor('float32', Float32Array.from(yy), [2, 2]),
    p: new ort.Tensor('float32', Float32Array.from(pw), [2]),
  });
  await session.release();
  const softplus = (z: number) => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
  const mean = (w: (i: number) => number) =>
    x.reduce((s, xi, i) => s + (1 - yy[i]) * xi + w(i) * softplus(-xi), 0) / x.length;
  const expectPlain = mean(() => 1);
  const expectWeighted = mean((i) => 1 + (pw[i % 2] - 1) * yy[i]);
  assert.ok(Math.abs((out.plain.data as Float32Array)[0] - expectPlain) < 1e-5, `plain ${out.plain.data[0]}`);
  assert.ok(
    Math.abs((out.weighted.data as Float32Array)[0] - expectWeighted) < 1e-5,
    `weighted ${out.weighted.data[0]}`,
  );
  assert.throws(
    () => bceWithLogits(g, g.input('a', 'float32', [2, 3]), g.input('b', 'float32', [2, 2]), null),
    /targets .* do not match logits/,
  );
});

test('concat and split (an unused piece gets a zero gradient)', async () => {
  const r = await gradCheck(
    [f('a', [2, 3], 18), f('b', [2, 1], 19), f('x', [2, 5], 20)],
    (g, [a, b, x]) => {
      const [, second, third] = split(g, x, 1, [1, 3, 1]);
      return mul(g, concat(g, [a, b], 1), concat(g, [second, third], -1));
    },
    [2, 4],
    { maxCoords: 15 },
  );
  assert.ok(r.worst < TOL, `worst ${r.worst}`);
});

test('embedding gradient of heavily repeated ids is exact on 4 threads (no lost updates between threads)', async () => {
  // 16384 rows into 3 table rows: onnxruntime's ScatterND 'add' lost a few percent of these updates on 2+ threads.
  const n = 16384;
  const H = 64;
  const g = new Graph();
  const table = g.input('table', 'float32', [3, H], true);
  const ids = g.input('ids', 'int64', [n]);
  const y = embedding(g, table, ids);
  const loss = sumAll(g, y);
  g.output(g.gradients(loss, [table])[0], 'grad');
  const session = await ort.InferenceSession.create(toModelBytes(g), { intraOpNumThreads: 4 });
  const idData = BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 3 === 2 ? 2 : i % 2));
  const expectedRowCounts = [0, 1, 2].map((row) => idData.filter((id) => id === BigInt(row)).length);
  for (let run = 0; run < 5; run++) {
    const out = await session.run({
      table: new ort.Tensor('float32', new Float32Array(3 * H), [3, H]),
      ids: new ort.Tensor('int64', idData, [n]),
    });
    const grad = out.grad.data as Float32Array;
    for (let row = 0; row < 3; row++) {
      for (let col = 0; col < H; col++)
        assert.equal(grad[row * H + col], expectedRowCounts[row], `run ${run}, row ${row}, column ${col}`);
    }
  }
  await session.release();
});
