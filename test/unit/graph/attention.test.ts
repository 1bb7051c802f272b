import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { Graph, Value } from '../../../src/core/graph/graph';
import { blockAttention } from '../../../src/core/graph/ops/attention';
import { add, mul, scale } from '../../../src/core/graph/ops/elementwise';
import { matmul } from '../../../src/core/graph/ops/linear';
import { sumAll } from '../../../src/core/graph/ops/reduce';
import { transpose } from '../../../src/core/graph/ops/shape';
import { softmax } from '../../../src/core/graph/ops/softmax';
import { toModelBytes } from '../../../src/core/graph/serialize';
import { MASK_MIN } from '../../../src/core/model/bert';
import { gradCheck, randn } from './gradcheck';

const SHAPE = ['batch', 'heads', 'seq', 4];

/** The additive padding mask [B, 1, 1, S]: batch row b sees its first S - padded[b] keys. */
function paddingMask(S: number, padded: number[]): Float32Array {
  return Float32Array.from({ length: padded.length * S }, (_, i) =>
    i % S >= S - padded[Math.floor(i / S)] ? MASK_MIN : 0,
  );
}

/** The plain composition the op replaces: softmax(q kᵀ · scale + M) v, with M [B, 1, S, S] given whole. */
function plainAttention(g: Graph, q: Value, k: Value, v: Value, mask: Value, s: number): Value {
  const scores = add(g, scale(g, matmul(g, q, transpose(g, k, [0, 1, 3, 2])), s), mask);
  return matmul(g, softmax(g, scores), v);
}

/** The full mask of the plain path: the padding mask, and MASK_MIN outside the window when there is one. */
function fullMask(S: number, padded: number[], window: number | null): Float32Array {
  const pad = paddingMask(S, padded);
  const out = new Float32Array(padded.length * S * S);
  for (let b = 0; b < padded.length; b++) {
    for (let i = 0; i < S; i++) {
      for (let j = 0; j < S; j++) {
        const near = window === null || Math.abs(i - j) <= Math.floor(window / 2);
        out[(b * S + i) * S + j] = near ? pad[b * S + j] : MASK_MIN;
      }
    }
  }
  return out;
}

/**
 * Zeroes, in place, the rows of a [B, H, S, D] tensor whose query sees no key: a padding query whose whole window is
 * padding. Its output is a softmax over masked scores alone, uniform over the keys each path happens to score (the
 * block's or the whole sequence's); no real position reads it, so the comparison leaves these rows out.
 */
function withoutBlindRows(
  x: Float32Array,
  [B, H, S, D]: readonly number[],
  padded: number[],
  window: number | null,
): Float32Array {
  if (window === null) return x;
  for (let b = 0; b < B; b++) {
    for (let i = Math.max(0, S - padded[b] + Math.floor(window / 2)); i < S; i++) {
      for (let h = 0; h < H; h++) x.fill(0, ((b * H + h) * S + i) * D, ((b * H + h) * S + i + 1) * D);
    }
  }
  return x;
}

/** Both paths in one graph on the same inputs: contexts and the gradients of sum(context * probe) for q, k and v. */
async function compare(
  dims: [number, number, number, number],
  padded: number[],
  window: number | null,
  block: number,
): Promise<{ worst: number; scale: number }> {
  const [B, H, S, D] = dims;
  const g = new Graph();
  const [q, k, v] = ['q', 'k', 'v'].map((n) => g.input(n, 'float32', SHAPE, true));
  const pad = g.input('pad', 'float32', ['batch', 1, 1, 'seq']);
  const full = g.input('full', 'float32', ['batch', 1, 'seq', 'seq']);
  const probe = g.input('probe', 'float32', SHAPE);
  const s = 1 / Math.sqrt(D);
  const blocked = blockAttention(g, q, k, v, pad, { scale: s, window, block });
  const plain = plainAttention(g, q, k, v, full, s);
  g.output(blocked, 'blocked');
  g.output(plain, 'plain');
  const blockedGrads = g.gradients(sumAll(g, mul(g, blocked, probe)), [q, k, v]);
  const plainGrads = g.gradients(sumAll(g, mul(g, plain, probe)), [q, k, v]);
  blockedGrads.forEach((x, i) => g.output(x, `blocked_d${'qkv'[i]}`));
  plainGrads.forEach((x, i) => g.output(x, `plain_d${'qkv'[i]}`));
  const session = await ort.InferenceSession.create(toModelBytes(g), { graphOptimizationLevel: 'basic' });
  const n = B * H * S * D;
  const feeds = {
    q: new ort.Tensor('float32', randn(n, 1), dims),
    k: new ort.Tensor('float32', randn(n, 2), dims),
    v: new ort.Tensor('float32', randn(n, 3), dims),
    pad: new ort.Tensor('float32', paddingMask(S, padded), [B, 1, 1, S]),
    full: new ort.Tensor('float32', fullMask(S, padded, window), [B, 1, S, S]),
    probe: new ort.Tensor('float32', withoutBlindRows(randn(n, 4), dims, padded, window), dims),
  };
  const out = await session.run(feeds);
  await session.release();
  let worst = 0;
  let size = 0;
  for (const name of ['', '_dq', '_dk', '_dv']) {
    const a = out[name ? `blocked${name}` : 'blocked'].data as Float32Array;
    const b = name
      ? (out[`plain${name}`].data as Float32Array)
      : withoutBlindRows(out.plain.data as Float32Array, dims, padded, window);
    if (!name) withoutBlindRows(a, dims, padded, window);
    b.forEach((x, i) => {
      worst = Math.max(worst, Math.abs(x - a[i]));
      size = Math.max(size, Math.abs(x));
    });
  }
  return { worst, scale: size };
}

test('blockAttention equals softmax(q kᵀ · scale + mask) v and its gradients, over blocks that do not divide the sequence', async () => {
  for (const [window, block] of [
    [null, 4],
    [null, 1],
    [null, 64],
    [4, 4],
    [6, 5],
    [2, 3],
  ] as const) {
    const r = await compare([2, 3, 13, 4], [0, 4], window, block);
    assert.ok(r.scale > 0.1, 'the compared values are not all near zero');
    assert.ok(r.worst < 1e-5, `window ${window}, block ${block}: max |Δ| ${r.worst} (values up to ${r.scale})`);
  }
});

test('blockAttention: gradients match finite differences, global and windowed', async () => {
  const dims = [2, 2, 7, 4];
  const n = 2 * 2 * 7 * 4;
  const pad = { name: 'pad', shape: ['batch', 1, 1, 'seq'], dims: [2, 1, 1, 7], data: paddingMask(7, [0, 2]) };
  for (const window of [null, 4]) {
    const r = await gradCheck(
      [
        { name: 'q', shape: SHAPE, dims, data: randn(n, 11) },
        { name: 'k', shape: SHAPE, dims, data: randn(n, 12) },
        { name: 'v', shape: SHAPE, dims, data: randn(n, 13) },
        { ...pad, differentiable: false },
      ],
      (g, [q, k, v, m]) => blockAttention(g, q, k, v, m, { scale: 0.5, window, block: 3 }),
      dims,
      { maxCoords: 24 },
    );
    assert.ok(r.worst < 1e-2, `window ${window}: worst relative error ${r.worst}`);
  }
});

test('blockAttention holds no [seq, seq] tensor: every value of its forward and backward has at most one seq dim', () => {
  const g = new Graph();
  const [q, k, v] = ['q', 'k', 'v'].map((n) => g.input(n, 'float32', SHAPE, true));
  const pad = g.input('pad', 'float32', ['batch', 1, 1, 'seq']);
  const out = blockAttention(g, q, k, v, pad, { scale: 0.5, window: null, block: 8 });
  g.gradients(sumAll(g, out), [q, k, v]);
  const graphs = [g];
  let values = 0;
  while (graphs.length > 0) {
    const graph = graphs.pop()!;
    for (const node of graph.nodes) {
      for (const o of node.outputs) {
        values++;
        const seqDims = o.shape.filter((d) => d === 'seq').length;
        assert.ok(seqDims <= 1, `${node.op} makes ${o.toString()}`);
      }
      const body = node.attrs.body;
      if (body && typeof body === 'object' && 'graph' in body) graphs.push(body.graph);
    }
  }
  assert.ok(values > 50, `${values} values checked`);
});

test('blockAttention refuses a block or window that is not a whole number', () => {
  const g = new Graph();
  const [q, k, v] = ['q', 'k', 'v'].map((n) => g.input(n, 'float32', SHAPE));
  const pad = g.input('pad', 'float32', ['batch', 1, 1, 'seq']);
  assert.throws(() => blockAttention(g, q, k, v, pad, { scale: 1, window: null, block: 0 }), /positive number/);
  assert.throws(() => blockAttention(g, q, k, v, pad, { scale: 1, window: 2.5, block: 4 }), /whole number/);
});
