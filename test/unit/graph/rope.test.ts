import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { Graph } from '../../../src/core/graph/graph';
import { rope, ropeTables } from '../../../src/core/graph/ops/rope';
import { toModelBytes } from '../../../src/core/graph/serialize';
import { gradCheck, randn } from './gradcheck';

const TOL = 1e-2;

test('rope: gradients match finite differences on symbolic [batch, heads, seq, headDim] inputs', async () => {
  const dims = [2, 2, 5, 6];
  const x = { name: 'x', shape: ['batch', 2, 'seq', 6], dims, data: randn(2 * 2 * 5 * 6, 31) };
  const r = await gradCheck(
    [x],
    (g, [v]) => {
      const { cos, sin } = ropeTables(g, 'seq', 6, 10000);
      return rope(g, v, cos, sin);
    },
    dims,
    { maxCoords: 40 },
  );
  assert.ok(r.worst < TOL, `worst relative error ${r.worst}`);
});

test('rope: forward equals the rotation of each (i, i + d/2) pair by position * theta^(-2i/d)', async () => {
  const [S, D, theta] = [7, 8, 160000];
  const g = new Graph();
  const x = g.input('x', 'float32', [1, 'seq', D]);
  const { cos, sin } = ropeTables(g, 'seq', D, theta);
  g.output(rope(g, x, cos, sin), 'y');
  const session = await ort.InferenceSession.create(toModelBytes(g));
  const data = randn(S * D, 32);
  const out = await session.run({ x: new ort.Tensor('float32', data, [1, S, D]) });
  const y = out.y.data as Float32Array;
  await session.release();
  let worst = 0;
  for (let p = 0; p < S; p++) {
    for (let i = 0; i < D / 2; i++) {
      const angle = p * Math.pow(theta, (-2 * i) / D);
      const [a, b] = [data[p * D + i], data[p * D + i + D / 2]];
      const want = [a * Math.cos(angle) - b * Math.sin(angle), b * Math.cos(angle) + a * Math.sin(angle)];
      worst = Math.max(worst, Math.abs(want[0] - y[p * D + i]), Math.abs(want[1] - y[p * D + i + D / 2]));
    }
  }
  assert.ok(worst < 1e-5, `max |Δ| ${worst}`);
  // Position 0 is the identity.
  for (let i = 0; i < D; i++) assert.ok(Math.abs(y[i] - data[i]) < 1e-7);
});

test('rope: an odd head size or a table of the wrong shape is refused', () => {
  const g = new Graph();
  assert.throws(() => ropeTables(g, 'seq', 5, 10000), /even/);
  const x = g.input('x', 'float32', [2, 'seq', 4]);
  const { cos, sin } = ropeTables(g, 3, 4, 10000);
  assert.throws(() => rope(g, x, cos, sin), /must be \[seq, headDim\]/);
});
