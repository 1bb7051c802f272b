/**
 * Multi-label training (binary cross-entropy with logits, with positive weights) against
 * torch.nn.BCEWithLogitsLoss(pos_weight=p) on a tiny BERT classifier with three sigmoid outputs: loss, gradients and 20
 * AdamW steps, from the committed fixtures (`bench/reference/make_parity_fixtures.py --task multi-label
 * --pos-weight 0.5,3,1`) and, where Debian's torch is installed, from a fresh rerun without positive weights (HF's
 * BertForSequenceClassification loss for problem_type "multi_label_classification") with a random seed.
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
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'parity-multi-label');
const GENERATOR = path.join(ROOT, 'bench', 'reference', 'make_parity_fixtures.py');

interface Expected {
  loss: number;
  logits: number[];
  posWeight: number[] | null;
}

type MultiLabelBatchJson = BatchJson & { targets: number[] };

async function checkMultiLabelParity(dir: string, log: (line: string) => void): Promise<void> {
  const expected = readJson<Expected>(path.join(dir, 'expected.json'));
  const trajectory = readJson<Omit<TrajectoryJson, 'batches'> & { batches: MultiLabelBatchJson[] }>(
    path.join(dir, 'trajectory.json'),
  );
  const first = readJson<MultiLabelBatchJson>(path.join(dir, 'batch.json'));
  const numLabels = expected.logits.length / first.batchSize;
  const initial = await loadModelDir(dir, numLabels, 0);
  const engineFor = (weights: Weights, targets: number[]) =>
    createTrainEngine({
      config: initial.config,
      numLabels,
      task: 'multi-label',
      multiLabelTargets: Float32Array.from(targets),
      weights,
      hyper: trajectory.hyper,
      device: 'cpu',
      dropout: false,
      seed: 0,
      threads: 1,
      graphOptimizationLevel: 'basic',
      classWeights: expected.posWeight ? Float32Array.from(expected.posWeight) : undefined,
    });
  const engine = await engineFor(initial.weights, first.targets);
  try {
    const batch = toBatch(first);
    const logits = await engine.forward(batch);
    const logitErr = Math.max(...expected.logits.map((x, i) => Math.abs(x - logits[i])));
    const { loss, grads } = await engine.lossAndGradients(batch);
    const g = worstRelative(grads, await readSafetensors(path.join(dir, 'grads.safetensors')), 1e-30);
    log(
      `pos_weight ${JSON.stringify(expected.posWeight)}: loss ours ${loss.toFixed(8)} torch ${expected.loss.toFixed(8)}; ` +
        `worst logit error ${logitErr.toExponential(2)}, worst gradient error ${g.err.toExponential(2)} (${g.name})`,
    );
    assert.ok(logitErr <= TOL.logits, `logits differ by ${logitErr}`);
    assert.ok(Math.abs(loss - expected.loss) <= TOL.loss, `loss ${loss} vs ${expected.loss}`);
    assert.ok(g.err <= TOL.grad, `gradient ${g.name} differs by ${g.err} (norm-relative)`);
  } finally {
    await engine.dispose();
  }
  const allTargets = trajectory.batches.flatMap((b) => b.targets);
  await assertTrajectoryParity(
    await engineFor(initial.weights, allTargets),
    trajectory,
    path.join(dir, 'final.safetensors'),
    log,
  );
}

test('multi-label BCE with positive weights matches the committed PyTorch fixtures: loss, gradients, 20 AdamW steps', async (t) => {
  await checkMultiLabelParity(FIXTURES, (line) => t.diagnostic(line));
});

test('multi-label BCE without positive weights (HF multi_label_classification) matches a fresh PyTorch run', async (t) => {
  if (!torchAvailable()) {
    t.skip(`${PYTHON} cannot import torch (apt-get install python3-torch libopenblas0-pthread)`);
    return;
  }
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bertft-multi-label-'));
  const seed = 1 + Math.floor(Math.random() * 1_000_000);
  t.diagnostic(`seed ${seed}`);
  try {
    execFileSync(PYTHON, [GENERATOR, '--out', dir, '--seed', String(seed), '--task', 'multi-label'], {
      stdio: 'pipe',
      env: { ...process.env, OMP_NUM_THREADS: '1' },
    });
    await checkMultiLabelParity(dir, (line) => t.diagnostic(line));
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
