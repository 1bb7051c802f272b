import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bertClassifierParamSpecs, initWeights, Weights } from '../../../src/core/model/params';
import { EngineOptions, createTrainEngine } from '../../../src/core/train/engine';
import { HYPER, makeBatch, tinyConfig } from './fixtures';

const config = tinyConfig();
const specs = bertClassifierParamSpecs(config, 2);

function engine(overrides: Partial<EngineOptions> = {}) {
  return createTrainEngine({
    config,
    numLabels: 2,
    weights: initWeights(specs, 4, 0.02),
    hyper: HYPER,
    device: 'cpu',
    dropout: true,
    seed: 3,
    threads: 1,
    ...overrides,
  });
}

const snapshot = (w: Weights): Map<string, Float32Array> =>
  new Map([...w].map(([k, t]) => [k, Float32Array.from(t.data)]));

/** Losses and final state of 6 steps, with the state updated in place or given fresh arrays every step. */
async function trajectory(level: EngineOptions['graphOptimizationLevel'], inPlaceUpdates: boolean) {
  const log: string[] = [];
  const e = await engine({ graphOptimizationLevel: level, inPlaceUpdates, log: (l) => log.push(l) });
  const losses: number[] = [];
  for (let i = 0; i < 6; i++) losses.push((await e.trainStep(makeBatch(40 + i))).loss);
  const weights = snapshot(e.getWeights());
  const { m, v } = e.getOptimizerState();
  await e.dispose();
  return { losses, weights, m: snapshot(m), v: snapshot(v), inPlace: log.some((l) => l.includes('in place')) };
}

for (const level of ['all', 'disabled'] as const) {
  test(`state updated in place gives bit-identical training to fresh outputs (dropout on, optimization ${level})`, async () => {
    const inPlace = await trajectory(level, true);
    const fresh = await trajectory(level, false);
    assert.equal(inPlace.inPlace, true, 'the engine never took the in-place path');
    assert.equal(fresh.inPlace, false);
    assert.deepEqual(inPlace.losses, fresh.losses);
    for (const part of ['weights', 'm', 'v'] as const) {
      for (const [name, data] of inPlace[part]) assert.deepEqual(data, fresh[part].get(name), `${part} ${name}`);
    }
  });
}

test('arrays given to the engine or handed out by it are never written by later steps', async () => {
  const given = initWeights(specs, 4, 0.02);
  const givenCopy = snapshot(given);
  const e = await engine({ weights: given });
  for (let i = 0; i < 3; i++) await e.trainStep(makeBatch(60 + i));
  const handed = e.getWeights();
  const moments = e.getOptimizerState();
  const handedCopy = snapshot(handed);
  const mCopy = snapshot(moments.m);
  e.setOptimizerState(moments);
  for (let i = 0; i < 3; i++) await e.trainStep(makeBatch(70 + i));
  for (const [name, t] of given) assert.deepEqual(t.data, givenCopy.get(name), `given ${name}`);
  for (const [name, t] of handed) assert.deepEqual(t.data, handedCopy.get(name), `handed out ${name}`);
  for (const [name, t] of moments.m)
    assert.deepEqual(t.data, mCopy.get(name), `moments handed out and given back ${name}`);
  const now = e.getWeights();
  assert.notDeepEqual(now.get('classifier.weight')!.data, handed.get('classifier.weight')!.data, 'training moved on');
  await e.dispose();
});
