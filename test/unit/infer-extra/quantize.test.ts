import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import { loadPredictor } from '../../../src/core/infer/predictor';
import {
  INT8_DIR,
  QUANT_FORMATS,
  quantizeModel,
  quantizeWeight,
  quantizeWeightTransposed,
  WEIGHT_QMAX,
  writeQuantizedModelDir,
} from '../../../src/core/infer/quantize';
import { runValidationExamples } from '../../../src/core/finetune/run-data';
import { trainedRun } from './fixtures';

/** Tolerance for int8 vs fp32 logits of the tiny trained model (per-column int8 weights, per-tensor uint8 activations). */
const LOGIT_TOLERANCE = 0.05;

test('weights: int8 per output column, transposed, dequantizing within half a step', () => {
  const n = 3;
  const k = 4;
  const w = Float32Array.from([0.5, -1, 0.25, 0, 2, 1, -2, 0.1, 0, 0, 0, 0]);
  const { q, scales } = quantizeWeightTransposed(w, n, k);
  assert.deepEqual(
    Array.from(scales).map((s) => +s.toFixed(6)),
    [+(1 / WEIGHT_QMAX).toFixed(6), +(2 / WEIGHT_QMAX).toFixed(6), 1],
  );
  for (let o = 0; o < n; o++) {
    for (let i = 0; i < k; i++)
      assert.ok(Math.abs(q[i * n + o] * scales[o] - w[o * k + i]) <= scales[o] / 2 + 1e-7, `w[${o},${i}]`);
  }
  assert.equal(q[1 * n + 0], -WEIGHT_QMAX, '7 bits of range: no int16 saturation in a CPU without VNNI');
  assert.equal(WEIGHT_QMAX, 64);
});

test('weights already [in, out] (GPT-2 Conv1D): the same int8 [in, out] and scales as their torch-layout transpose', () => {
  const [n, k] = [3, 4];
  const torchLayout = Float32Array.from([0.5, -1, 0.25, 0, 2, 1, -2, 0.1, 0, 0, 0, 0]);
  const conv1dLayout = new Float32Array(k * n);
  for (let o = 0; o < n; o++) for (let i = 0; i < k; i++) conv1dLayout[i * n + o] = torchLayout[o * k + i];
  assert.deepEqual(quantizeWeight(conv1dLayout, n, k), quantizeWeightTransposed(torchLayout, n, k));
});

test('a model without dense weights is refused with a ModelError', () => {
  const bytes = onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 18 }],
    graph: { name: 'g', node: [{ opType: 'Relu', input: ['x'], output: ['y'] }] },
  }).finish();
  assert.throws(
    () => quantizeModel(bytes),
    (e: Error) => e.name === 'ModelError' && /no dense layer/.test(e.message),
  );
});

for (const format of QUANT_FORMATS) {
  test(`int8 (${format}) agrees with fp32 on the validation set: same top-1, logits within ${LOGIT_TOLERANCE}`, async () => {
    const { run } = await trainedRun();
    const best = path.join(run, 'best');
    const { dir, result } = await writeQuantizedModelDir(run, format);
    assert.equal(dir, path.join(best, INT8_DIR));
    // tiny: 2 layers × 6 dense + pooler + classifier
    assert.equal(result.quantizedLayers, 14);
    assert.ok(fs.statSync(path.join(dir, 'model.onnx')).size < fs.statSync(path.join(best, 'model.onnx')).size);
    assert.ok(!fs.existsSync(`${dir}.tmp`));
    const examples = await runValidationExamples(path.join(run, 'run.json'));
    assert.equal(examples.length, 24);
    const texts = examples.map((e) => e.text);
    const fp32 = await loadPredictor(run, { device: 'cpu' });
    const int8 = await loadPredictor(dir, { device: 'cpu' });
    try {
      assert.deepEqual(int8.labels, fp32.labels);
      const a = await fp32.logits(texts);
      const b = await int8.logits(texts);
      let maxDiff = 0;
      for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
      assert.ok(maxDiff > 0, 'int8 logits should differ from fp32 at least a little');
      assert.ok(maxDiff <= LOGIT_TOLERANCE, `max |Δlogit| ${maxDiff}`);
      const top = (p: Awaited<ReturnType<typeof fp32.predict>>) => p.map((x) => x.label);
      assert.deepEqual(top(await int8.predict(texts)), top(await fp32.predict(texts)));
    } finally {
      await fp32.dispose();
      await int8.dispose();
    }
  });
}
