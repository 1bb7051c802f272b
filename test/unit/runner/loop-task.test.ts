import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TrainEngine } from '../../../src/core/train/engine';
import type { TrainerEvent } from '../../../src/core/run/events';
import { runPaths } from '../../../src/core/run/paths';
import { trainLoop } from '../../../src/core/train/trainer';
import type { Batch } from '../../../src/core/tokenize/batch';
import { tempDir } from './fixtures';

test("trainLoop with a pluggable task: prepareBatch gets each step number (also after a resume), the evaluation's scores become the eval event", async () => {
  const seenSteps: number[] = [];
  let trained = 0;
  const engine = {
    device: 'cpu',
    trainStep: (b: Batch) => Promise.resolve({ loss: Number(b.seqLen), gradNorm: 1, lr: 1e-3, step: ++trained }),
    getWeights: () => new Map(),
    getOptimizerState: () => ({ step: 0, m: new Map(), v: new Map() }),
  } as unknown as TrainEngine;
  const root = tempDir('loop-task');
  const losses = [3, 2, 2.5];
  const events: TrainerEvent[] = [];
  const saved: number[] = [];
  const result = await trainLoop({
    engine,
    paths: runPaths(root),
    totalSteps: 6,
    config: {
      lr: 1e-3,
      evalSteps: 2,
      metric: 'loss',
      earlyStoppingThreshold: 0,
      earlyStoppingPatience: undefined,
      saveTotalLimit: 1,
    },
    // Resumed after step 1 of a 10-batch epoch.
    state: {
      step: 1,
      epoch: 0,
      batchInEpoch: 1,
      totalSteps: 6,
      seed: 1,
      metricName: 'mlm_loss',
      bestMetric: null,
      bestStep: 0,
      evalsWithoutImprovement: 0,
    },
    batchesForEpoch: () => Array.from({ length: 10 }, () => ({ batchSize: 2, seqLen: 0 }) as Batch),
    prepareBatch: (b, step) => {
      seenSteps.push(step);
      return { ...b, seqLen: 100 + step };
    },
    evaluate: () => {
      const loss = losses.shift()!;
      return Promise.resolve({
        metric: loss,
        scores: {
          task: 'mlm',
          loss,
          accuracy: 0.5,
          perplexity: Math.exp(loss),
          masked_tokens: 7,
          labels: [],
          confusion: [],
          per_class: {},
          misclassified: [],
        },
      });
    },
    saveBest: (_e, step) => {
      saved.push(step);
      return Promise.resolve();
    },
    emit: (e) => events.push(e),
    shouldStop: () => false,
  });
  assert.deepEqual(seenSteps, [1, 2, 3, 4, 5]);
  assert.deepEqual(
    events.filter((e) => e.event === 'step').map((e) => e.event === 'step' && e.loss),
    [101, 102, 103, 104, 105],
  );
  const evals = events.filter((e) => e.event === 'eval');
  assert.deepEqual(
    evals.map(
      (e) => e.event === 'eval' && e.task === 'mlm' && [e.step, e.loss, e.perplexity, e.masked_tokens, e.is_best],
    ),
    [
      [2, 3, Math.exp(3), 7, true],
      [4, 2, Math.exp(2), 7, true],
      [6, 2.5, Math.exp(2.5), 7, false],
    ],
  );
  assert.deepEqual(saved, [2, 4]);
  assert.deepEqual([result.state.step, result.state.bestStep, result.state.bestMetric], [6, 4, 2]);
});
