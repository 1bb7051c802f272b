/**
 * DistilBERT, RoBERTa and ELECTRA train steps against the plain-PyTorch reference (bench/reference/bert_torch.py):
 * committed fixtures from `make_parity_fixtures.py --family <f>` (logits, loss, gradients, 20 AdamW steps), and, where
 * Debian's torch is installed, a model we train and save read back by the reference to the same logits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadModelDir, saveHfModel } from '../../../src/core/model/load';
import { readSafetensors } from '../../../src/core/model/safetensors';
import { createTrainEngine, Hyper } from '../../../src/core/train/engine';
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

for (const family of ['distilbert', 'roberta', 'electra']) {
  const dir = path.join(ROOT, 'test', 'fixtures', `parity-${family}`);

  test(`${family}: engine matches the committed PyTorch fixtures (logits, loss, gradients, 20 AdamW steps)`, async (t) => {
    const expected = readJson<{ loss: number; logits: number[] }>(path.join(dir, 'expected.json'));
    const trajectory = readJson<TrajectoryJson>(path.join(dir, 'trajectory.json'));
    const batchJson = readJson<BatchJson>(path.join(dir, 'batch.json'));
    const numLabels = expected.logits.length / batchJson.batchSize;
    const initial = await loadModelDir(dir, numLabels, 0);
    assert.equal(initial.config.modelType, family);
    assert.equal(initial.addedHead, false);
    const engineFor = () =>
      createTrainEngine({
        config: initial.config,
        numLabels,
        weights: initial.weights,
        hyper: trajectory.hyper,
        device: 'cpu',
        dropout: false,
        seed: 0,
        threads: 1,
        graphOptimizationLevel: 'basic',
      });

    const engine = await engineFor();
    const batch = toBatch(batchJson);
    const logits = await engine.forward(batch);
    const logitsErr = Math.max(...expected.logits.map((x, i) => Math.abs(x - logits[i])));
    const { loss, grads } = await engine.lossAndGradients(batch);
    const g = worstRelative(grads, await readSafetensors(path.join(dir, 'grads.safetensors')), 1e-30);
    await engine.dispose();
    t.diagnostic(
      `max |Δlogit| ${logitsErr.toExponential(2)}; |Δloss| ${Math.abs(loss - expected.loss).toExponential(2)}; worst gradient error ${g.err.toExponential(2)} (${g.name})`,
    );
    assert.ok(logitsErr <= TOL.logits, `logits differ by ${logitsErr}`);
    assert.ok(Math.abs(loss - expected.loss) <= TOL.loss, `loss ${loss} vs ${expected.loss}`);
    assert.ok(g.err <= TOL.grad, `gradient ${g.name} differs by ${g.err}`);

    await assertTrajectoryParity(await engineFor(), trajectory, path.join(dir, 'final.safetensors'), (line) =>
      t.diagnostic(line),
    );
  });

  test(`${family}: a model we train and save is read by the PyTorch reference to the same logits`, async (t) => {
    if (!torchAvailable()) {
      t.skip(`${PYTHON} cannot import torch (apt-get install python3-torch libopenblas0-pthread)`);
      return;
    }
    const trajectory = readJson<{ hyper: Hyper; batches: BatchJson[] }>(path.join(dir, 'trajectory.json'));
    const { config, weights } = await loadModelDir(dir, 3, 0);
    const engine = await createTrainEngine({
      config,
      numLabels: 3,
      weights,
      hyper: trajectory.hyper,
      device: 'cpu',
      dropout: false,
      seed: 0,
      threads: 1,
    });
    const out = fs.mkdtempSync(path.join(os.tmpdir(), `bertft-saved-${family}-`));
    try {
      for (const b of trajectory.batches.slice(0, 5)) await engine.trainStep(toBatch(b));
      await saveHfModel(out, { config, weights: engine.getWeights(), id2label: ['neg', 'neu', 'pos'] });
      const batchFile = path.join(dir, 'batch.json');
      const ours = await engine.forward(toBatch(readJson<BatchJson>(batchFile)));
      const stdout = execFileSync(
        PYTHON,
        [path.join(ROOT, 'bench', 'reference', 'bert_torch.py'), 'logits', out, batchFile],
        { encoding: 'utf8' },
      );
      const theirs = JSON.parse(stdout.trim().split('\n').pop() as string) as number[];
      const err = Math.max(...theirs.map((x, i) => Math.abs(x - ours[i])));
      t.diagnostic(`max |Δlogit| after save → PyTorch load: ${err.toExponential(2)}`);
      assert.equal(theirs.length, ours.length);
      assert.ok(err <= TOL.logits, `logits differ by ${err}`);
    } finally {
      await engine.dispose();
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
}
