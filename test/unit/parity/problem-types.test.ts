/**
 * A trained best/ of each task (single-label classification, regression, multi-label), trained from scratch through
 * `bertft train`, loaded as transformers' AutoModelForSequenceClassification loads it: its config's checks, the
 * BertForSequenceClassification chosen by model_type, every declared weight by name (bench/reference/
 * hf_sequence_classification.py, plain torch: transformers is not packaged for Debian 12). Its logits equal our
 * predictor's to 1e-4; config.json's problem_type is what transformers expects for the task, so that its forward pass
 * computes the loss we trained with (CrossEntropyLoss, MSELoss, BCEWithLogitsLoss), checked on the same rows.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadPredictor, openModelFolder } from '../../../src/core/infer/predictor';
import { meanBinaryCrossEntropy, meanCrossEntropy, meanSquaredError } from '../../../src/core/util/metrics';
import { emojiKeywordRows } from '../../helpers/emoji-keywords';
import { PYTHON, torchAvailable } from '../../helpers/parity';
import { tempDir, writeSentimentCsv } from '../runner/fixtures';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'out', 'src', 'cli.js');
const REFERENCE = path.join(ROOT, 'bench', 'reference', 'hf_sequence_classification.py');
const NO_TORCH = `${PYTHON} cannot import torch (apt-get install python3-torch libopenblas0-pthread)`;
// A short run (--max-steps also turns seed screening off): the weights are trained, not the initial ones.
const TRAIN_ARGS = [
  ...['--model', 'random:tiny', '--max-steps', '12', '--batch-size', '8', '--max-length', '24'],
  ...['--eval-steps', '6', '--seed', '5', '--device', 'cpu'],
];

interface Reference {
  modelClass: string;
  problemType: string | null;
  resolvedProblemType: string;
  numLabels: number;
  id2label: Record<string, string>;
  unexpected: string[];
  logits: number[];
  loss: number;
}

function train(data: string, out: string, ...extra: string[]): void {
  const r = spawnSync(process.execPath, [CLI, 'train', '--data', data, '--out', out, ...TRAIN_ARGS, ...extra], {
    env: { ...process.env, BERTFT_TRAINING_CHILD: '1' },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, `bertft train failed:\n${r.stderr}`);
}

/**
 * Our predictor's logits for `texts` and the reference's for the same token ids, with the loss of both for `targets`
 * (class ids, values, or 0/1 per label, row-major) under transformers' problem_type.
 */
async function compareWithTransformers(
  t: TestContext,
  out: string,
  texts: string[],
  targets: number[],
  labelDtype: 'long' | 'float',
): Promise<{ reference: Reference; ours: Float32Array; labels: string[] }> {
  const best = path.join(out, 'best');
  const predictor = await loadPredictor(best, { threads: 1 });
  let ours: Float32Array;
  try {
    ours = await predictor.logits(texts);
  } finally {
    await predictor.dispose();
  }
  const { pre, settings, labels } = await openModelFolder(best);
  const batches = pre.evalBatches(pre.encode(texts, settings), { ...settings, evalBatchSize: texts.length });
  assert.equal(batches.length, 1);
  const [batch] = batches;
  assert.equal(batch.batchSize, texts.length, 'one row per text (short texts)');
  const k = labels.length;
  const perRow = targets.length / texts.length;
  const rowTargets = Array.from(batch.docIndex).flatMap((d) => targets.slice(d * perRow, (d + 1) * perRow));
  const file = path.join(out, 'reference-batch.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      batchSize: batch.batchSize,
      seqLen: batch.seqLen,
      inputIds: Array.from(batch.inputIds, Number),
      attentionMask: Array.from(batch.attentionMask, Number),
      tokenTypeIds: Array.from(batch.tokenTypeIds, Number),
      labels: rowTargets,
      labelDtype,
    }),
  );
  const reference = JSON.parse(
    execFileSync(PYTHON, [REFERENCE, best, file], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } }),
  ) as Reference;
  assert.equal(reference.modelClass, 'BertForSequenceClassification');
  assert.deepEqual(reference.unexpected, [], 'transformers would ignore no tensor of the checkpoint');
  assert.equal(reference.numLabels, k);
  assert.deepEqual(
    reference.id2label,
    Object.fromEntries(labels.map((l, i) => [String(i), l])),
    'id2label in our label order',
  );
  let worst = 0;
  Array.from(batch.docIndex).forEach((d, r) => {
    for (let c = 0; c < k; c++) worst = Math.max(worst, Math.abs(reference.logits[r * k + c] - ours[d * k + c]));
  });
  t.diagnostic(
    `${path.basename(out)}: ${texts.length} texts × ${k} outputs, worst |logit difference| ${worst.toExponential(2)}; ` +
      `problem_type ${JSON.stringify(reference.problemType)} → ${reference.resolvedProblemType}, loss ${reference.loss}`,
  );
  assert.ok(worst <= 1e-4, `logits differ by ${worst}`);
  return { reference, ours, labels };
}

const SHORT_TEXTS = [
  'the plot was wonderful',
  'an awful, boring film',
  'the music was excellent and the cast superb, truly lovely',
  'terrible',
  'the ending was dreadful and the acting poor',
  'a movie',
];

test('single-label best/: transformers loads it (no problem_type: integer labels make it single_label_classification) with our logits and cross-entropy', async (t) => {
  if (!torchAvailable()) return t.skip(NO_TORCH);
  const dir = tempDir('hf-single');
  const out = path.join(dir, 'single');
  train(writeSentimentCsv(dir, 48), out);
  const classes = [1, 0, 1, 0, 0, 1];
  const { reference, ours, labels } = await compareWithTransformers(t, out, SHORT_TEXTS, classes, 'long');
  assert.deepEqual(labels, ['neg', 'pos']);
  // HF's default for a classifier; written explicitly, single_label_classification would mean the same.
  assert.ok(reference.problemType === null || reference.problemType === 'single_label_classification');
  assert.equal(reference.resolvedProblemType, 'single_label_classification');
  const loss = meanCrossEntropy(ours, classes, labels.length);
  assert.ok(Math.abs(reference.loss - loss) <= 1e-4, `cross-entropy ${reference.loss} vs ours ${loss}`);
});

test('regression best/: transformers loads it as problem_type regression with one output, our values and MSE', async (t) => {
  if (!torchAvailable()) return t.skip(NO_TORCH);
  const dir = tempDir('hf-regression');
  const good = ['great', 'wonderful', 'excellent', 'lovely'];
  const bad = ['awful', 'terrible', 'boring', 'dreadful'];
  const lines = ['text,target'];
  for (let i = 0; i < 48; i++) {
    const g = i % 4;
    const words = [...good.slice(0, g), ...bad.slice(0, 3 - g)];
    lines.push(`"the film ${i} was ${words.join(' and ')}",${(g - 1.5).toFixed(1)}`);
  }
  const data = path.join(dir, 'scores.csv');
  fs.writeFileSync(data, lines.join('\n') + '\n');
  const out = path.join(dir, 'regression');
  train(data, out, '--task', 'regression');
  const values = [1.5, -1.5, 1.5, -1.5, -0.5, 0];
  const { reference, ours, labels } = await compareWithTransformers(t, out, SHORT_TEXTS, values, 'float');
  assert.deepEqual(labels, ['LABEL_0']);
  assert.equal(reference.problemType, 'regression');
  assert.equal(reference.resolvedProblemType, 'regression');
  const loss = meanSquaredError(ours, values);
  assert.ok(Math.abs(reference.loss - loss) <= 1e-4, `MSE ${reference.loss} vs ours ${loss}`);
});

test('multi-label best/: transformers loads it as problem_type multi_label_classification, our logits and BCE', async (t) => {
  if (!torchAvailable()) return t.skip(NO_TORCH);
  const dir = tempDir('hf-multi-label');
  const { labels: all, rows } = emojiKeywordRows();
  const chosen = ['animal', 'food', 'nature', 'vehicle'];
  assert.ok(
    chosen.every((l) => all.includes(l)),
    `emojilib's labels: ${all.join(', ')}`,
  );
  const data = path.join(dir, 'emoji.jsonl');
  const sample = rows.slice(0, 160).map((r) => ({ text: r.text, labels: r.labels.filter((l) => chosen.includes(l)) }));
  fs.writeFileSync(data, sample.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const out = path.join(dir, 'multi-label');
  train(data, out);
  const probe = rows.slice(160, 166);
  const { labels } = await openModelFolder(path.join(out, 'best'));
  const targets = probe.flatMap((r) => labels.map((l) => (r.labels.includes(l) ? 1 : 0)));
  const { reference, ours } = await compareWithTransformers(
    t,
    out,
    probe.map((r) => r.text),
    targets,
    'float',
  );
  assert.deepEqual([...labels].sort(), [...chosen].sort());
  // Explicit: without it, transformers would take integer labels for single-label classification.
  assert.equal(reference.problemType, 'multi_label_classification');
  assert.equal(reference.resolvedProblemType, 'multi_label_classification');
  const thresholds = JSON.parse(fs.readFileSync(path.join(out, 'best', 'thresholds.json'), 'utf8')) as {
    thresholds: Record<string, number>;
  };
  assert.deepEqual(Object.keys(thresholds.thresholds).sort(), [...chosen].sort(), 'a threshold per id2label label');
  const loss = meanBinaryCrossEntropy(ours, targets);
  assert.ok(Math.abs(reference.loss - loss) <= 1e-4, `BCE ${reference.loss} vs ours ${loss}`);
});
