import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadPredictor } from '../../../src/core/infer/predictor';
import { modelDirOf } from '../../../src/core/run/paths';
import { loadPreprocessor } from '../../../src/core/infer/preprocess';
import { loadModelDir } from '../../../src/core/model/load';
import { createTrainEngine } from '../../../src/core/train/engine';
import { ModelError } from '../../../src/core/errors';
import { runTrainingSession } from '../../../src/core/finetune/session';
import { tempDir, writeSentimentCsv } from '../runner/fixtures';

const TEXTS = [
  'the film was wonderful and superb',
  'the plot was awful, truly boring',
  'music',
  'x'.repeat(3000) + ' dreadful ending',
];

async function trainedRun(): Promise<string> {
  const dir = tempDir('infer');
  const out = path.join(dir, 'run');
  await runTrainingSession(
    {
      data: writeSentimentCsv(dir),
      out,
      model: 'random:tiny',
      maxSteps: 6,
      batchSize: 8,
      maxLength: 32,
      lr: 1e-3,
      device: 'cpu',
      evalSteps: 3,
    },
    { emit: () => {}, shouldStop: () => false },
  );
  return out;
}

test('loadPredictor: a run folder means its best/; probabilities sum to 1 and the label is the argmax', async () => {
  const run = await trainedRun();
  assert.equal(modelDirOf(run), path.join(run, 'best'));
  const predictor = await loadPredictor(run, { device: 'cpu' });
  try {
    assert.deepEqual(predictor.labels, ['neg', 'pos']);
    assert.equal(predictor.settings.maxLength, 32);
    const predictions = await predictor.predict(TEXTS);
    assert.equal(predictions.length, TEXTS.length);
    for (const p of predictions) {
      const values = Object.values(p.scores);
      assert.ok(Math.abs(values.reduce((a, b) => a + b, 0) - 1) < 1e-5);
      assert.equal(p.score, Math.max(...values));
      assert.equal(p.scores[p.label], p.score);
    }
    assert.deepEqual(await predictor.predict([]), []);
  } finally {
    await predictor.dispose();
  }
});

test("predictor logits (exported model.onnx) equal the training engine's forward on the same weights and tokens", async () => {
  const run = await trainedRun();
  const best = path.join(run, 'best');
  const predictor = await loadPredictor(best, { device: 'cpu' });
  const pre = await loadPreprocessor(best);
  const { config, weights } = await loadModelDir(best, 2, 0);
  const engine = await createTrainEngine({
    config,
    numLabels: 2,
    weights,
    device: 'cpu',
    dropout: false,
    seed: 0,
    hyper: {
      lr: 1e-3,
      weightDecay: 0,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      maxGradNorm: 1,
      warmupSteps: 0,
      totalSteps: 1,
    },
  });
  try {
    const ours = await predictor.logits(TEXTS);
    const [batch] = pre.evalBatches(pre.encode(TEXTS, predictor.settings), {
      ...predictor.settings,
      evalBatchSize: 32,
    });
    const reference = await engine.forward(batch);
    assert.equal(ours.length, reference.length);
    for (let i = 0; i < ours.length; i++)
      assert.ok(Math.abs(ours[i] - reference[i]) < 1e-4, `logit ${i}: ${ours[i]} vs ${reference[i]}`);

    // A Hugging Face folder without model.onnx gets one built from model.safetensors: same predictions.
    const hfOnly = path.join(path.dirname(run), 'hf-only');
    fs.mkdirSync(hfOnly);
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'bertft.json']) {
      fs.copyFileSync(path.join(best, f), path.join(hfOnly, f));
    }
    const rebuilt = await loadPredictor(hfOnly, { device: 'cpu' });
    const again = await rebuilt.logits(TEXTS);
    for (let i = 0; i < ours.length; i++) assert.ok(Math.abs(again[i] - ours[i]) < 1e-5);
    await rebuilt.dispose();
  } finally {
    await predictor.dispose();
    await engine.dispose();
  }
});

test('loadPredictor: a folder that is not a classifier is a ModelError saying what to give instead', async () => {
  const dir = tempDir('infer-bad');
  await assert.rejects(
    loadPredictor(dir),
    (e: unknown) => e instanceof ModelError && /not a model folder/.test(e.message) && /bertft run/.test(e.describe()),
  );
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ model_type: 'bert', hidden_size: 64 }));
  await assert.rejects(loadPredictor(dir), (e: unknown) => e instanceof ModelError && /no id2label/.test(e.message));
  fs.writeFileSync(path.join(dir, 'config.json'), '{ broken');
  await assert.rejects(
    loadPredictor(dir),
    (e: unknown) => e instanceof ModelError && e.file === path.join(dir, 'config.json'),
  );
});
