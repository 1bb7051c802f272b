import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  listCheckpoints,
  loadCheckpoint,
  loadLatestCheckpoint,
  pruneCheckpoints,
  saveCheckpoint,
  type TrainerState,
} from '../../../src/core/train/checkpoint';
import { recoverRunDir } from '../../../src/core/run/folder';
import { runPaths } from '../../../src/core/run/paths';
import type { Weights } from '../../../src/core/model/params';
import { tempFolder } from '../../helpers/temp';

function weightsFilled(value: number, size = 6): Weights {
  return new Map([
    ['classifier.weight', { shape: [2, size / 2], data: new Float32Array(size).fill(value) }],
    ['classifier.bias', { shape: [2], data: new Float32Array([value, -value]) }],
  ]);
}

function stateAt(step: number): TrainerState {
  return {
    step,
    epoch: 1,
    batchInEpoch: 3,
    totalSteps: 10,
    seed: 42,
    metricName: 'loss',
    bestMetric: 0.5,
    bestStep: step,
    evalsWithoutImprovement: 0,
  };
}

test('saveCheckpoint round-trips weights, optimizer moments and trainer state; prune keeps best and last N', async () => {
  const root = tempFolder('bertft-ckpt-');
  const dir = runPaths(root).checkpoints;
  for (const step of [2, 4, 6, 8]) {
    await saveCheckpoint(dir, {
      weights: weightsFilled(step),
      optimizer: { step, m: weightsFilled(step / 10), v: weightsFilled(step / 100) },
      state: stateAt(step),
    });
  }
  assert.deepEqual(listCheckpoints(dir), [2, 4, 6, 8]);
  const c = await loadCheckpoint(path.join(dir, 'step-4'));
  assert.deepEqual(c.state, stateAt(4));
  assert.deepEqual([...c.weights.get('classifier.bias')!.data], [4, -4]);
  assert.equal(c.optimizer.step, 4);
  assert.ok(Math.abs(c.optimizer.m.get('classifier.weight')!.data[0] - 0.4) < 1e-7);
  assert.ok(Math.abs(c.optimizer.v.get('classifier.bias')!.data[1] + 0.04) < 1e-7);
  assert.deepEqual(await pruneCheckpoints(dir, 2, 2), [4]);
  assert.deepEqual(listCheckpoints(dir), [2, 6, 8]);
  assert.equal((await loadLatestCheckpoint(dir))!.state.step, 8);
});

test('kill -9 while a checkpoint is being written leaves the previous one usable and the run recoverable', async () => {
  const root = tempFolder('bertft-ckpt-kill-');
  const dir = runPaths(root).checkpoints;
  await saveCheckpoint(dir, {
    weights: weightsFilled(1),
    optimizer: { step: 1, m: weightsFilled(0), v: weightsFilled(0) },
    state: stateAt(1),
  });
  // A child process writes big checkpoints in a loop (steps 2, 3, ...); each is killed at a different moment.
  const moduleFile = require.resolve('../../../src/core/train/checkpoint');
  const script = `
    const { saveCheckpoint } = require(${JSON.stringify(moduleFile)});
    const big = (v) => new Map([['classifier.weight', { shape: [2, 1500000], data: new Float32Array(3000000).fill(v) }],
      ['classifier.bias', { shape: [2], data: new Float32Array([v, -v]) }]]);
    (async () => { for (let s = 2; ; s++) { await saveCheckpoint(${JSON.stringify(dir)}, { weights: big(s),
      optimizer: { step: s, m: big(0), v: big(0) }, state: { step: s, epoch: 0, batchInEpoch: s, totalSteps: 99, seed: 1,
      metricName: 'loss', bestMetric: null, bestStep: 0, evalsWithoutImprovement: 0 } }); process.stdout.write(s + '\\n'); } })();`;
  for (const delayMs of [60, 150, 240]) {
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((r) => setTimeout(r, delayMs));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    await recoverRunDir(root);
    assert.deepEqual(
      fs.readdirSync(dir).filter((n) => !/^step-\d+$/.test(n)),
      [],
      'no partial directories after recovery',
    );
    const latest = await loadLatestCheckpoint(dir);
    assert.ok(latest, 'a checkpoint survives');
    const expected = latest.state.step;
    assert.equal(latest.weights.get('classifier.bias')!.data[0], expected, 'weights belong to the step named');
    assert.equal(latest.optimizer.step, expected);
  }
});
