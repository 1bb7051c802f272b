/**
 * Label smoothing (with class weights) against torch.nn.functional.cross_entropy(weight=w, label_smoothing=ε) on a
 * tiny BERT classifier: loss, gradients and 20 AdamW steps, from the committed fixtures
 * (`bench/reference/make_parity_fixtures.py --label-smoothing 0.1 --class-weights 0.5,2,1`) and, where Debian's torch
 * is installed, from a fresh rerun of the reference with a random seed and ε.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadModelDir } from '../../../src/core/model/load';
import { readSafetensors } from '../../../src/core/model/safetensors';
import { createTrainEngine } from '../../../src/core/train/engine';
import type { Weights } from '../../../src/core/model/params';
import {
  BatchJson,
  PYTHON,
  TOL,
  TrajectoryJson,
  assertTrajectoryParity,
  readJson,
  toBatch,
  torchAvailable,
  worstRelative,
} from '../../helpers/parity';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'parity-smoothing');
const GENERATOR = path.join(ROOT, 'bench', 'reference', 'make_parity_fixtures.py');

interface Expected {
  loss: number;
  logits: number[];
  labelSmoothing: number;
  classWeights: number[] | null;
}

async function checkSmoothingParity(dir: string, log: (line: string) => void): Promise<void> {
  const expected = readJson<Expected>(path.join(dir, 'expected.json'));
  const trajectory = readJson<TrajectoryJson>(path.join(dir, 'trajectory.json'));
  const batch = toBatch(readJson<BatchJson>(path.join(dir, 'batch.json')));
  const numLabels = expected.logits.length / batch.batchSize;
  const initial = await loadModelDir(dir, numLabels, 0);
  assert.ok(expected.labelSmoothing > 0, 'the fixture smooths its labels');
  const engineFor = (weights: Weights) =>
    createTrainEngine({
      config: initial.config,
      numLabels,
      weights,
      hyper: trajectory.hyper,
      device: 'cpu',
      dropout: false,
      seed: 0,
      threads: 1,
      graphOptimizationLevel: 'basic',
      labelSmoothing: expected.labelSmoothing,
      classWeights: expected.classWeights ? Float32Array.from(expected.classWeights) : undefined,
    });
  const engine = await engineFor(initial.weights);
  try {
    const { loss, grads } = await engine.lossAndGradients(batch);
    const g = worstRelative(grads, await readSafetensors(path.join(dir, 'grads.safetensors')), 1e-30);
    log(
      `ε ${expected.labelSmoothing}, weights ${JSON.stringify(expected.classWeights)}: loss ours ${loss.toFixed(8)} ` +
        `torch ${expected.loss.toFixed(8)}; worst gradient error ${g.err.toExponential(2)} (${g.name})`,
    );
    assert.ok(Math.abs(loss - expected.loss) <= TOL.loss, `loss ${loss} vs ${expected.loss}`);
    assert.ok(g.err <= TOL.grad, `gradient ${g.name} differs by ${g.err} (norm-relative)`);
  } finally {
    await engine.dispose();
  }
  await assertTrajectoryParity(await engineFor(initial.weights), trajectory, path.join(dir, 'final.safetensors'), log);
}

test('label smoothing with class weights matches the committed PyTorch fixtures: loss, gradients, 20 AdamW steps', async (t) => {
  await checkSmoothingParity(FIXTURES, (line) => t.diagnostic(line));
});

test('label smoothing matches a fresh PyTorch run with a random seed and ε', async (t) => {
  if (!torchAvailable()) {
    t.skip(`${PYTHON} cannot import torch (apt-get install python3-torch libopenblas0-pthread)`);
    return;
  }
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bertft-smoothing-'));
  const seed = 1 + Math.floor(Math.random() * 1_000_000);
  const eps = Number((0.05 + 0.5 * Math.random()).toFixed(3));
  t.diagnostic(`seed ${seed}, ε ${eps}`);
  try {
    execFileSync(PYTHON, [GENERATOR, '--out', dir, '--seed', String(seed), '--label-smoothing', String(eps)], {
      stdio: 'pipe',
      env: { ...process.env, OMP_NUM_THREADS: '1' },
    });
    await checkSmoothingParity(dir, (line) => t.diagnostic(line));
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
