/**
 * Masked-LM train steps of every family (BertForMaskedLM, DistilBertForMaskedLM, RobertaForMaskedLM,
 * ElectraForMaskedLM) against the plain-PyTorch reference (bench/reference/bert_torch.py, mlm_loss_fn): committed
 * fixtures from `make_parity_fixtures.py --task mlm --family <f>` (scores of the predicted positions, loss, gradients,
 * 20 AdamW steps on masked batches; PyTorch scores every position, our head only the predicted ones), and, where
 * Debian's torch is installed, the same against a fresh run with a random seed, and a model we pre-train and save read
 * back by the reference (as from_pretrained would: decoder tied to the word embeddings) to the same scores.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readSafetensors } from '../../../src/core/model/safetensors';
import { IGNORE_LABEL } from '../../../src/core/model/mlm-head';
import { loadMlmModelDir, saveMlmModel } from '../../../src/core/pretrain/model-io';
import { createTrainEngine, Hyper } from '../../../src/core/train/engine';
import {
  BatchJson,
  PYTHON,
  TOL,
  TrajectoryJson,
  assertTrajectoryParity,
  isKeyBias,
  l2,
  readJson,
  toBatch,
  torchAvailable,
  worstRelative,
} from '../../helpers/parity';
import { tempFolder } from '../../helpers/temp';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');

const GENERATOR = path.join(ROOT, 'bench', 'reference', 'make_parity_fixtures.py');
type Family = 'bert' | 'distilbert' | 'roberta' | 'electra';

/**
 * The engine (whose MLM head scores the labelled positions only) against a PyTorch fixture made with the
 * full-vocabulary loss over every position (cross_entropy, ignore_index -100): the predicted rows' scores, the loss,
 * every gradient, and the 20-step AdamW trajectory.
 */
async function checkMlmParity(family: Family, dir: string, log: (line: string) => void): Promise<void> {
  const expected = readJson<{ loss: number; gradNorm: number; rows: number[]; logits: number[] }>(
    path.join(dir, 'expected.json'),
  );
  const trajectory = readJson<TrajectoryJson>(path.join(dir, 'trajectory.json'));
  const batch = toBatch(readJson<BatchJson>(path.join(dir, 'batch.json')));
  const initial = await loadMlmModelDir(dir, 0);
  assert.equal(initial.config.modelType, family);
  assert.equal(initial.freshHead, false, 'the fixture has its MLM head');
  const V = initial.config.vocabSize;
  const engineFor = () =>
    createTrainEngine({
      config: initial.config,
      numLabels: 0,
      task: 'mlm',
      weights: initial.weights,
      hyper: trajectory.hyper,
      device: 'cpu',
      dropout: false,
      seed: 0,
      threads: 1,
      graphOptimizationLevel: 'basic',
    });

  const engine = await engineFor();
  // The engine scores the predicted positions only, in order: the rows PyTorch's full-vocabulary scores have there.
  const scores = await engine.forward(batch);
  assert.deepEqual(
    expected.rows,
    [...batch.labels!.keys()].filter((i) => batch.labels![i] !== BigInt(IGNORE_LABEL)),
  );
  assert.equal(scores.length, expected.rows.length * V);
  assert.ok(
    expected.rows.length < (batch.batchSize * batch.seqLen) / 2,
    'the fixture predicts a minority of the positions',
  );
  const logitsErr = Math.max(...expected.logits.map((x, i) => Math.abs(scores[i] - x)));
  const { loss, grads } = await engine.lossAndGradients(batch);
  const refGrads = await readSafetensors(path.join(dir, 'grads.safetensors'));
  const g = worstRelative(grads, refGrads, 1e-30);
  const keyBias = Math.max(
    ...[...refGrads.keys()].filter(isKeyBias).flatMap((n) => [l2(refGrads.get(n)!.data), l2(grads.get(n)!.data)]),
  );
  await engine.dispose();
  log(
    `loss ours ${loss.toFixed(8)} torch ${expected.loss.toFixed(8)} (|Δ| ${Math.abs(loss - expected.loss).toExponential(2)}); ` +
      `max |Δscore| ${logitsErr.toExponential(2)}; worst gradient error ${g.err.toExponential(2)} (${g.name}); key-bias gradients ≤ ${(keyBias / expected.gradNorm).toExponential(2)} of the norm`,
  );
  assert.ok(logitsErr <= TOL.logits, `scores differ by ${logitsErr}`);
  // A mean over 30,522-way log-sum-exps in float32: the rounding grows with the loss itself (a random seed gave
  // |Δ| 1.4e-6 at a loss of 5.1, 2.8e-7 relative), so the bound is relative above a loss of 1.
  assert.ok(
    Math.abs(loss - expected.loss) <= TOL.loss * Math.max(1, Math.abs(expected.loss)),
    `loss ${loss} vs ${expected.loss}`,
  );
  assert.ok(g.err <= TOL.grad, `gradient ${g.name} differs by ${g.err}`);
  assert.ok(keyBias <= 1e-6 * expected.gradNorm, `a key-bias gradient is not negligible: ${keyBias}`);

  await assertTrajectoryParity(await engineFor(), trajectory, path.join(dir, 'final.safetensors'), log);
}

for (const family of ['bert', 'distilbert', 'roberta', 'electra'] as const) {
  const dir = path.join(ROOT, 'test', 'fixtures', `parity-mlm-${family}`);

  test(`${family} MLM: engine matches the committed PyTorch fixtures (scores, loss, gradients, 20 AdamW steps)`, async (t) => {
    await checkMlmParity(family, dir, (line) => t.diagnostic(line));
  });

  test(`${family} MLM: the masked-positions head matches a fresh PyTorch full-vocabulary run with a random seed`, async (t) => {
    if (!torchAvailable()) {
      t.skip(`${PYTHON} cannot import torch (apt-get install python3-torch libopenblas0-pthread)`);
      return;
    }
    const fresh = tempFolder(`bertft-parity-mlm-${family}-`);
    const seed = 1 + Math.floor(Math.random() * 1_000_000);
    t.diagnostic(`seed ${seed}`);
    try {
      execFileSync(PYTHON, [GENERATOR, '--family', family, '--task', 'mlm', '--out', fresh, '--seed', String(seed)], {
        stdio: 'pipe',
        env: { ...process.env, OMP_NUM_THREADS: '1' },
      });
      await checkMlmParity(family, fresh, (line) => t.diagnostic(line));
    } finally {
      fs.rmSync(fresh, { recursive: true, force: true });
    }
  });

  test(`${family} MLM: a model we pre-train and save is read by the PyTorch reference to the same scores`, async (t) => {
    if (!torchAvailable()) {
      t.skip(`${PYTHON} cannot import torch (apt-get install python3-torch libopenblas0-pthread)`);
      return;
    }
    const trajectory = readJson<{ hyper: Hyper; batches: BatchJson[] }>(path.join(dir, 'trajectory.json'));
    const { config, weights } = await loadMlmModelDir(dir, 0);
    const engine = await createTrainEngine({
      config,
      numLabels: 0,
      task: 'mlm',
      weights,
      hyper: trajectory.hyper,
      device: 'cpu',
      dropout: false,
      seed: 0,
      threads: 1,
    });
    const out = tempFolder(`bertft-saved-mlm-${family}-`);
    try {
      for (const b of trajectory.batches.slice(0, 5)) await engine.trainStep(toBatch(b));
      await saveMlmModel(out, config, engine.getWeights());
      const batchFile = path.join(dir, 'batch.json');
      // Without labels the engine scores every position, as the reference's mlm-logits does.
      const ours = await engine.forward({ ...toBatch(readJson<BatchJson>(batchFile)), labels: undefined });
      const stdout = execFileSync(
        PYTHON,
        [path.join(ROOT, 'bench', 'reference', 'bert_torch.py'), 'mlm-logits', out, batchFile],
        { encoding: 'utf8' },
      );
      const theirs = JSON.parse(stdout.trim().split('\n').pop() as string) as number[];
      assert.equal(theirs.length, ours.length);
      const err = Math.max(...theirs.map((x, i) => Math.abs(x - ours[i])));
      t.diagnostic(`max |Δscore| after save → PyTorch load: ${err.toExponential(2)}`);
      assert.ok(err <= TOL.logits, `scores differ by ${err}`);
    } finally {
      await engine.dispose();
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
}
