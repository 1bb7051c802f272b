/**
 * The int8 model of every task: a text-pair classifier, a regression model and a multi-label model, each trained
 * briefly on real data, quantized, and measured by compareQuantized on the run's own validation rows
 * (runValidationExamples: pairs, numbers and label sets included). The fp32 score it reports must be the run's own
 * best evaluation, which proves the rows are the run's validation split read the way training read them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runTrainingSession } from '../../../src/core/finetune/session';
import { runValidationExamples } from '../../../src/core/finetune/run-data';
import { loadPredictor } from '../../../src/core/infer/predictor';
import { compareQuantized, writeQuantizedModelDir } from '../../../src/core/infer/quantize';
import { readMetricsLog } from '../../../src/core/run/metrics-log';
import type { TrainOverrides } from '../../../src/core/train/presets';
import { ownValue } from '../../../src/core/util/records';
import { emojiKeywordRows } from '../../helpers/emoji-keywords';
import { sotuYears } from '../../helpers/sotu-years';
import { TINY_RUN_SETTINGS } from '../../helpers/tiny-run';
import { writeRelationPairs } from '../../helpers/wordnet';
import { tempDir } from './fixtures';

async function trainAndQuantize(dir: string, settings: Partial<TrainOverrides> & { data: string }) {
  const run = path.join(dir, 'run');
  await runTrainingSession(
    { ...TINY_RUN_SETTINGS, maxSteps: 40, evalSteps: 40, ...settings, out: run },
    { emit: () => {}, shouldStop: () => false },
  );
  const best = readMetricsLog(path.join(run, 'metrics.jsonl'))
    .filter((e) => e.event === 'eval' && e.is_best)
    .pop() as unknown as Record<string, number> | undefined;
  assert.ok(best, 'the run evaluated');
  const { dir: int8 } = await writeQuantizedModelDir(run);
  const examples = await runValidationExamples(path.join(run, 'run.json'));
  return {
    best,
    examples,
    run,
    int8Dir: int8,
    comparison: await compareQuantized(path.join(run, 'best'), int8, examples),
  };
}

test('int8 of a text-pair model: measured on both texts of the run’s validation pairs', async () => {
  const dir = tempDir('int8-pairs');
  const data = writeRelationPairs(dir, { perRelation: 80, validPerRelation: 20 });
  const { best, examples, comparison: c } = await trainAndQuantize(dir, { data: data.train, valid: data.valid });
  assert.equal(examples.length, 60);
  assert.ok(examples.every((e) => e.textPair !== undefined && e.textPair !== ''));
  assert.equal(c.metric, 'accuracy');
  assert.equal(c.labelled, 60);
  assert.equal(c.fp32Score, best.accuracy, 'the fp32 model scores what the run’s evaluation scored');
  assert.ok(c.maxLogitDiff > 0 && c.maxLogitDiff <= 0.05, `max |Δlogit| ${c.maxLogitDiff}`);
  assert.ok(c.agreement !== undefined && c.agreement >= 0.9, `agreement ${c.agreement}`);
});

test('int8 of a regression model: the mean squared error of both, no label agreement', async () => {
  const dir = tempDir('int8-regression');
  const data = sotuYears(dir);
  const { best, comparison: c } = await trainAndQuantize(dir, {
    data: data.train,
    valid: data.valid,
    problemType: 'regression',
    maxLength: 48,
  });
  assert.equal(c.metric, 'MSE');
  assert.equal(c.labelled, data.validTargets.length);
  assert.equal(c.agreement, undefined);
  assert.ok(Math.abs(c.fp32Score! - best.mse) <= 1e-4 * best.mse, `MSE ${c.fp32Score} vs the run's ${best.mse}`);
  assert.ok(Math.abs(c.int8Score! - c.fp32Score!) <= 0.05 * c.fp32Score!, `int8 MSE ${c.int8Score}`);
  assert.ok(c.maxLogitDiff > 0 && c.maxLogitDiff <= 0.05, `max |Δ| ${c.maxLogitDiff}`);
});

test('int8 of a multi-label model: subset accuracy with the stored thresholds; label sets differ only at a threshold', async () => {
  const dir = tempDir('int8-multi-label');
  const labels = ['animal', 'food', 'nature', 'vehicle'];
  const rows = emojiKeywordRows()
    .rows.slice(0, 160)
    .map((r) => ({ text: r.text, labels: r.labels.filter((l) => labels.includes(l)) }));
  const data = path.join(dir, 'emoji.jsonl');
  fs.writeFileSync(data, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const { best, examples, run, int8Dir, comparison: c } = await trainAndQuantize(dir, { data, maxLength: 16 });
  assert.equal(c.metric, 'subset accuracy');
  assert.equal(c.labelled, examples.length);
  assert.ok(examples.every((e) => Array.isArray(e.labels)));
  assert.equal(c.fp32Score, best.subset_accuracy, 'the fp32 model scores what the run’s evaluation scored');
  assert.ok(c.maxLogitDiff > 0 && c.maxLogitDiff <= 0.05, `max |Δlogit| ${c.maxLogitDiff}`);
  // This briefly trained model puts most probabilities close to their thresholds (0.08–0.12), so its label sets
  // differ often (agreement 0.35 on a CPU with VNNI, 0 with the 7-bit weights on one without); what must hold is that
  // each label that differs is one whose fp32 probability is within what the largest logit difference can move a
  // sigmoid (at most a quarter of it) of its threshold.
  const texts = examples.map((e) => e.text);
  const [fp32, int8] = await Promise.all([run, int8Dir].map((d) => loadPredictor(d, { device: 'cpu' })));
  try {
    const [a, b] = await Promise.all([fp32.predict(texts), int8.predict(texts)]);
    let differing = 0;
    let rowsAgreeing = 0;
    a.forEach((p, row) => {
      const before = differing;
      labels.forEach((label, k) => {
        const threshold = fp32.thresholds![k];
        const inA = ownValue(p.scores, label)! >= threshold;
        const inB = ownValue(b[row].scores, label)! >= threshold;
        if (inA === inB) return;
        differing++;
        const distance = Math.abs(ownValue(p.scores, label)! - threshold);
        assert.ok(distance <= c.maxLogitDiff / 4 + 1e-6, `row ${row}, ${label}: ${distance} from its threshold`);
      });
      if (differing === before) rowsAgreeing++;
    });
    assert.equal(c.agreement, rowsAgreeing / texts.length, 'agreement = the rows whose label sets are identical');
    assert.ok(differing > 0 === c.agreement < 1);
  } finally {
    await fp32.dispose();
    await int8.dispose();
  }
});
