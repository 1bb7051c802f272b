import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { UserError } from '../../../src/core/errors';
import type { TrainEngine } from '../../../src/core/train/engine';
import { listCheckpoints } from '../../../src/core/train/checkpoint';
import { resolveTrainConfig } from '../../../src/core/train/presets';
import { runPaths } from '../../../src/core/run/paths';
import { trainLoop } from '../../../src/core/train/trainer';
import type { Batch } from '../../../src/core/tokenize/batch';
import { tempDir } from './fixtures';

test('a non-finite loss stops the loop with a UserError suggesting a lower learning rate, before any checkpoint of bad weights', async () => {
  const losses = [0.7, 0.6, NaN];
  let steps = 0;
  const engine = {
    device: 'cpu',
    step: 0,
    trainStep: () => Promise.resolve({ loss: losses[steps++], gradNorm: 1, lr: 1e-3, step: steps }),
  } as unknown as TrainEngine;
  const batch = { batchSize: 1, seqLen: 1 } as Batch;
  const root = tempDir('diverge');
  const config = resolveTrainConfig({ data: 'd', out: root, lr: 1e-3, maxLength: 16 });
  await assert.rejects(
    trainLoop({
      engine,
      config,
      paths: runPaths(root),
      totalSteps: 10,
      state: {
        step: 0,
        epoch: 0,
        batchInEpoch: 0,
        totalSteps: 10,
        seed: 1,
        metricName: 'loss',
        bestMetric: null,
        bestStep: 0,
        evalsWithoutImprovement: 0,
      },
      batchesForEpoch: () => Array.from({ length: 10 }, () => batch),
      evaluate: () => Promise.reject(new Error('not reached')),
      saveBest: async () => {},
      emit: () => {},
      shouldStop: () => false,
    }),
    (e: unknown) =>
      e instanceof UserError &&
      e.code === 'TRAIN_DIVERGED' &&
      /step 3/.test(e.message) &&
      /--lr 0\.00025/.test(e.describe()),
  );
  assert.equal(steps, 3);
  assert.deepEqual(fs.existsSync(runPaths(root).checkpoints) ? listCheckpoints(runPaths(root).checkpoints) : [], []);
});
