import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadPredictor } from '../../../src/core/infer/predictor';
import { loadPreprocessor } from '../../../src/core/infer/preprocess';
import { softmaxRows } from '../../../src/core/util/metrics';
import { InferenceClient } from '../../../src/extension/inference/client';
import { trainedRun, tempDir } from './fixtures';

const TEXTS = ['the plot was wonderful and superb', 'truly awful acting, boring', 'music'];
const CLI = path.resolve(__dirname, '..', '..', '..', 'src', 'cli.js');

test('worker, in-process predictor, `bertft predict --json` and the bare ONNX session give the same probabilities', async () => {
  const { run } = await trainedRun();
  const client = new InferenceClient();
  try {
    const info = await client.load(run);
    assert.deepEqual(info.labels, ['neg', 'pos']);
    const viaWorker = await client.predict(TEXTS);
    const workerLogits = await client.logits(TEXTS);

    const predictor = await loadPredictor(run, { device: 'cpu' });
    const inProcess = await predictor.logits(TEXTS);
    await predictor.dispose();
    assert.deepEqual(Array.from(workerLogits), Array.from(inProcess));

    const cli = execFileSync(
      process.execPath,
      [CLI, 'predict', '--model', run, ...TEXTS.flatMap((t) => ['--text', t]), '--json'],
      { encoding: 'utf8' },
    )
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { label: string; scores: Record<string, number> });
    assert.equal(cli.length, TEXTS.length);

    // The exported model.onnx run directly, fed the model folder's tokenizer (short texts: one row each, no padding).
    const pre = await loadPreprocessor(path.join(run, 'best'));
    const session = await ort.InferenceSession.create(path.join(run, 'best', 'model.onnx'));
    const onnxProbs: number[][] = [];
    for (const text of TEXTS) {
      const [b] = pre.evalBatches(pre.encode([text], { maxLength: info.maxLength, truncation: 'head' }), {
        maxLength: info.maxLength,
        truncation: 'head',
        evalBatchSize: 1,
      });
      const valid = Array.from(b.attentionMask).filter((m) => m === 1n).length;
      const ids = b.inputIds.slice(0, valid);
      const out = await session.run({
        input_ids: new ort.Tensor('int64', ids, [1, valid]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(valid).fill(1n), [1, valid]),
        token_type_ids: new ort.Tensor('int64', new BigInt64Array(valid), [1, valid]),
      });
      onnxProbs.push(Array.from(softmaxRows(out.logits.data as Float32Array, 2)));
    }
    await session.release();

    TEXTS.forEach((_, i) => {
      assert.equal(cli[i].label, viaWorker[i].label);
      for (const [c, label] of ['neg', 'pos'].entries()) {
        assert.ok(Math.abs(cli[i].scores[label] - viaWorker[i].scores[label]) < 1e-6, `CLI ${label} text ${i}`);
        assert.ok(Math.abs(onnxProbs[i][c] - viaWorker[i].scores[label]) < 1e-5, `ONNX ${label} text ${i}`);
      }
    });
    assert.equal(viaWorker[0].label, 'pos');
    assert.equal(viaWorker[1].label, 'neg');
  } finally {
    await client.dispose();
  }
});

test('a bad model folder fails with the UserError from the worker (code, fix and file kept)', async () => {
  const client = new InferenceClient();
  const empty = tempDir('no-model');
  try {
    await assert.rejects(
      client.load(empty),
      (e: Error & { code?: string; fix?: string; file?: string }) =>
        e.name === 'ModelError' && e.code === 'MODEL_NOT_FOUND' && e.file === empty && typeof e.fix === 'string',
    );
    assert.equal(client.model, undefined);
    await assert.rejects(client.predict(['x']), /No model is loaded/);
  } finally {
    await client.dispose();
  }
});

test('cancellation: an aborted request rejects with CANCELLED and later requests still work', async () => {
  const { run } = await trainedRun();
  const client = new InferenceClient();
  try {
    await client.load(run);
    const long = client.predict(Array.from({ length: 200 }, (_, i) => `${TEXTS[i % 3]} ${i}`));
    const abort = new AbortController();
    const queued = client.predict(['queued behind the long one'], abort.signal);
    abort.abort();
    await assert.rejects(queued, (e: Error & { code?: string }) => e.code === 'CANCELLED');
    assert.equal((await long).length, 200);
    const already = new AbortController();
    already.abort();
    await assert.rejects(
      client.predict(['x'], already.signal),
      (e: Error & { code?: string }) => e.code === 'CANCELLED',
    );
    assert.equal((await client.predict([TEXTS[0]]))[0].label, 'pos');
  } finally {
    await client.dispose();
  }
});

test('changing the model replaces the session; dispose stops the worker and a later call starts a new one', async () => {
  const { run } = await trainedRun();
  const client = new InferenceClient();
  try {
    const a = await client.load(run);
    const b = await client.load(path.join(run, 'best'));
    assert.equal(b.dir, path.join(run, 'best'));
    assert.deepEqual(a.labels, b.labels);
    await assert.rejects(
      client.load(tempDir('not-a-model')),
      (e: Error & { code?: string }) => e.code === 'MODEL_NOT_FOUND',
    );
    assert.equal(client.model?.dir, path.join(run, 'best'), 'a failed load keeps the current model');
    assert.equal((await client.predict([TEXTS[0]]))[0].label, 'pos');
    await client.dispose();
    assert.equal(client.model, undefined);
    await client.load(run);
    assert.equal((await client.predict([TEXTS[1]]))[0].label, 'neg');
  } finally {
    await client.dispose();
  }
});
