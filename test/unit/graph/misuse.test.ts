import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { GraphError } from '../../../src/core/errors';
import { Graph } from '../../../src/core/graph/graph';
import { add } from '../../../src/core/graph/ops/elementwise';
import { embedding } from '../../../src/core/graph/ops/embedding';
import { linear, matmul } from '../../../src/core/graph/ops/linear';
import { loop } from '../../../src/core/graph/ops/loop';
import { reshape } from '../../../src/core/graph/ops/shape';
import { binary } from '../../../src/core/graph/raw';
import { toModelBytes } from '../../../src/core/graph/serialize';

test('matmul with mismatched inner dims throws GraphError naming both shapes', () => {
  const g = new Graph();
  const a = g.input('a', 'float32', ['batch', 3, 4]);
  const b = g.input('b', 'float32', ['batch', 5, 2]);
  assert.throws(
    () => matmul(g, a, b),
    (e: unknown) => e instanceof GraphError && /\[batch, 3, 4\].*\[batch, 5, 2\]/.test(e.message),
  );
});

test('linear checks the weight against the input features', () => {
  const g = new Graph();
  const x = g.input('x', 'float32', ['batch', 'seq', 8]);
  const W = g.input('W', 'float32', [4, 6]);
  assert.throws(() => linear(g, x, W, null), GraphError);
});

test('symbolic dims must agree: [batch] does not broadcast with [seq]', () => {
  const g = new Graph();
  const a = g.input('a', 'float32', ['batch']);
  const b = g.input('b', 'float32', ['seq']);
  assert.throws(() => add(g, a, b), /cannot broadcast/);
});

test('wrong dtype is refused', () => {
  const g = new Graph();
  const table = g.input('t', 'float32', [10, 4]);
  const ids = g.input('ids', 'float32', ['batch']);
  assert.throws(() => embedding(g, table, ids), /expected int64/);
  const i = g.input('i', 'int64', [3]);
  assert.throws(() => binary(g, 'Add', table, i), /dtypes differ/);
});

test('a value from another graph is unknown here', () => {
  const g1 = new Graph();
  const g2 = new Graph();
  const a = g1.input('a', 'float32', [2]);
  const b = g2.input('b', 'float32', [2]);
  assert.throws(() => add(g2, a, b), /belongs to another graph/);
});

test('duplicate names and reshapes that change the element count are refused', () => {
  const g = new Graph();
  const x = g.input('x', 'float32', ['batch', 6]);
  assert.throws(() => g.input('x', 'float32', [1]), /already used/);
  assert.throws(() => reshape(g, x, ['batch', 4]), /different number of elements/);
});

test('gradients() needs a scalar loss that depends on a parameter', () => {
  const g = new Graph();
  const x = g.input('x', 'float32', [2], true);
  assert.throws(() => g.gradients(x, [x]), /float32 scalar/);
});

test('outputs keep their final names without Identity nodes, and a Loop runs its body K times', async () => {
  const g = new Graph();
  const x = g.input('x', 'float32', [3]);
  const step = g.input('step', 'float32', [3]);
  const out = loop(g, 4, [x], (body, _iter, [acc]) => {
    const next = binary(body, 'Add', acc, step);
    return {
      carried: [next],
      scans: [body.node1('ReduceSum', [next], { dtype: 'float32', shape: [] }, { keepdims: 0 })],
    };
  });
  g.output(out.carried[0], 'final');
  g.output(out.scans[0], 'sums');
  assert.equal(g.nodes.filter((n) => n.op === 'Identity').length, 0);
  const s = await ort.InferenceSession.create(toModelBytes(g));
  const r = await s.run({
    x: new ort.Tensor('float32', Float32Array.of(1, 2, 3), [3]),
    step: new ort.Tensor('float32', Float32Array.of(1, 0, -1), [3]),
  });
  assert.deepEqual([...(r.final.data as Float32Array)], [5, 2, -1]);
  assert.deepEqual([...(r.sums.data as Float32Array)], [6, 6, 6, 6]);
  await s.release();
});

test('runtime dim values: symbols, numbers and products such as 2*batch*seq', async () => {
  const g = new Graph();
  const x = g.input('x', 'float32', ['batch', 'seq', 3]);
  const flat = reshape(g, x, ['batch*seq', 3]);
  g.output(g.dimValue(flat.shape[0]), 'rows');
  g.output(g.dimValue('2*batch*seq'), 'double');
  g.output(g.dimValue('seq'), 'seq');
  g.output(g.dimValue(7), 'seven');
  const s = await ort.InferenceSession.create(toModelBytes(g));
  const r = await s.run({ x: new ort.Tensor('float32', new Float32Array(2 * 5 * 3), [2, 5, 3]) });
  assert.deepEqual([r.rows.data[0], r.double.data[0], r.seq.data[0], r.seven.data[0]], [10n, 20n, 5n, 7n]);
  await s.release();
});
