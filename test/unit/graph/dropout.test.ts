import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { Graph } from '../../../src/core/graph/graph';
import { DropoutKeys, dropout, dropoutKeyData } from '../../../src/core/graph/ops/dropout';
import { toModelBytes } from '../../../src/core/graph/serialize';
import { gradCheck, randn } from './gradcheck';

async function dropoutSession(p: number) {
  const g = new Graph();
  const x = g.input('x', 'float32', ['batch', 'seq']);
  const keys = new DropoutKeys(g.input('keys', 'int64', ['k']));
  g.output(dropout(g, x, p, keys), 'y');
  const s = await ort.InferenceSession.create(toModelBytes(g));
  const sites = keys.siteCount;
  return async (seed: number, step: number, n = 200000) => {
    const r = await s.run({
      x: new ort.Tensor('float32', new Float32Array(n).fill(1), [n / 100, 100]),
      keys: new ort.Tensor('int64', dropoutKeyData(seed, step, sites), [dropoutKeyData(seed, step, sites).length]),
    });
    return r.y.data as Float32Array;
  };
}

test('dropout drops about p of the elements and rescales the rest by 1/(1-p)', async () => {
  const run = await dropoutSession(0.25);
  const y = await run(1, 0);
  const dropped = y.filter((v) => v === 0).length / y.length;
  assert.ok(Math.abs(dropped - 0.25) < 0.015, `dropped fraction ${dropped}`);
  assert.ok(y.every((v) => v === 0 || Math.abs(v - 1 / 0.75) < 1e-6));
  // elements at distance 1, 2, 64 and 4096 are not correlated: P(both dropped) ~ rate^2 (within 4.5 sigma)
  for (const lag of [1, 2, 64, 4096]) {
    let both = 0;
    for (let i = lag; i < y.length; i++) if (y[i] === 0 && y[i - lag] === 0) both++;
    const n = y.length - lag;
    const sigma = Math.sqrt((dropped ** 2 * (1 - dropped ** 2)) / n);
    assert.ok(Math.abs(both / n - dropped ** 2) < 4.5 * sigma, `lag ${lag}: pair rate ${both / n} vs ${dropped ** 2}`);
  }
});

test('the mask is a pure function of seed and step', async () => {
  const run = await dropoutSession(0.5);
  assert.deepEqual(await run(7, 3), await run(7, 3));
  assert.notDeepEqual(await run(7, 3), await run(7, 4));
  assert.notDeepEqual(await run(7, 3), await run(8, 3));
});

test('dropout gradient is the same mask', async () => {
  const keys = dropoutKeyData(3, 0, 1);
  const r = await gradCheck(
    [
      { name: 'x', shape: [4, 6], dims: [4, 6], data: randn(24, 1) },
      { name: 'keys', shape: [keys.length], dims: [keys.length], data: keys },
    ],
    (g, [x, k]) => dropout(g, x, 0.3, new DropoutKeys(k)),
    [4, 6],
    { maxCoords: 24 },
  );
  assert.ok(r.worst < 1e-2, `worst ${r.worst}`);
});
