/**
 * The editor's prediction for multi-label and regression models: the inference worker tells the host what the model
 * predicts (a label set with its thresholds, or a number), its predictions equal the in-process predictor's, and the
 * hover, Classify Selection's line and Predict Dataset's CSV show every label at or above its threshold with its
 * sigmoid probability (regression: the number). Real models: random:tiny trained on small learnable data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';
import { runTrainingSession } from '../../../src/core/finetune/session';
import { predictDataset, PREDICTED_LABEL_SEPARATOR } from '../../../src/core/infer/batch-predict';
import { loadPredictor, type Prediction } from '../../../src/core/infer/predictor';
import { readThresholds } from '../../../src/core/infer/thresholds';
import { sigmoid } from '../../../src/core/util/metrics';
import { asMarkdown, asPlain } from '../../../src/extension/display/text';
import { InferenceClient } from '../../../src/extension/inference/client';
import { describePrediction, describePredictions, hoverMarkdown } from '../../../src/extension/inference/text';
import { TINY_RUN_SETTINGS } from '../../helpers/tiny-run';
import { tempDir } from './fixtures';

const TOPICS = new Map([
  ['animal', ['cat', 'dog', 'horse', 'mouse']],
  ['food', ['bread', 'cheese', 'apple', 'soup']],
  ['weather', ['rain', 'snow', 'wind', 'sun']],
]);

/** Rows naming words of one to three topics; the labels are those topics (so the sets are learnable). */
function writeTopics(dir: string, rows = 96): string {
  const lines: string[] = [];
  const topics = [...TOPICS.keys()];
  for (let i = 0; i < rows; i++) {
    const labels = topics.filter((_, t) => ((i + 1) >> t) & 1);
    const words = labels.map((l, j) => TOPICS.get(l)![(i + j) % 4]);
    lines.push(JSON.stringify({ text: `the ${words.join(' and the ')} ${i}`, labels }));
  }
  const file = path.join(dir, 'topics.jsonl');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/** Rows whose score is how many "good" words they have (0 to 3). */
function writeScores(dir: string, rows = 64): string {
  const lines = ['text,label'];
  for (let i = 0; i < rows; i++) {
    const good = i % 4;
    lines.push(`"${['fine', 'nice', 'great'].slice(0, good).join(' ')} item ${i}",${good}.5`);
  }
  const file = path.join(dir, 'scores.csv');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

async function train(data: string, out: string, extra: Record<string, unknown> = {}): Promise<void> {
  await runTrainingSession({ data, out, ...TINY_RUN_SETTINGS, ...extra }, { emit: () => {}, shouldStop: () => false });
}

const TEXTS = ['the cat and the bread', 'the snow', 'the dog and the soup and the wind', 'nothing here'];

test('multi-label: the worker carries the label set and thresholds; hover, line and CSV list every label at or above its threshold', async () => {
  const dir = tempDir('ml-editor');
  const client = new InferenceClient();
  try {
    const data = writeTopics(dir);
    const run = path.join(dir, 'run');
    await train(data, run);
    const best = path.join(run, 'best');
    const thresholds = readThresholds(best, [...TOPICS.keys()].sort());

    const info = await client.load(run);
    assert.equal(info.task, 'multi-label');
    assert.deepEqual(info.labels, ['animal', 'food', 'weather']);
    assert.deepEqual(info.thresholds, Array.from(thresholds));

    const viaWorker = await client.predict(TEXTS);
    const logits = await client.logits(TEXTS);
    const probs = sigmoid(logits);
    const predictor = await loadPredictor(run, { device: 'cpu' });
    assert.deepEqual(viaWorker, await predictor.predict(TEXTS));
    await predictor.dispose();
    viaWorker.forEach((p, d) => {
      // Exactly the labels whose sigmoid probability reaches their threshold, most probable first.
      const expected = info.labels
        .map((label, c) => ({ label, score: probs[d * 3 + c], threshold: thresholds[c] }))
        .filter((l) => l.score >= l.threshold)
        .sort((a, b) => b.score - a.score);
      assert.deepEqual(p.predicted, expected);
      const line = asPlain(describePrediction(p));
      if (expected.length === 0) assert.equal(line, 'no label at or above its threshold');
      else assert.equal(line, expected.map((l) => `${l.label} ${(l.score * 100).toFixed(1)}%`).join(' · '));
    });
    const several = viaWorker.find((p) => (p.predicted?.length ?? 0) >= 2);
    assert.ok(several, `some text should get two labels or more: ${JSON.stringify(viaWorker.map((p) => p.label))}`);

    // Predict Dataset through the worker, as the extension calls it.
    const out = path.join(dir, 'preds.csv');
    const report = await predictDataset(
      { labels: info.labels, thresholds: info.thresholds, predict: (t) => client.predict(t) },
      data,
      { out },
    );
    assert.equal(report.evaluation, undefined, 'a multi-label file is not scored as single labels');
    const csv = parse<Record<string, string>>(fs.readFileSync(out, 'utf8'), { columns: true });
    assert.deepEqual(Object.keys(csv[0]), ['line', 'text', 'predicted', 'p_animal', 'p_food', 'p_weather']);
    const direct = await client.predict(csv.map((r) => r.text));
    csv.forEach((r, i) => {
      const names = r.predicted === '' ? [] : r.predicted.split(PREDICTED_LABEL_SEPARATOR);
      assert.deepEqual(
        names,
        direct[i].predicted!.map((l) => l.label),
      );
      for (const label of info.labels) assert.ok(Math.abs(Number(r[`p_${label}`]) - direct[i].scores[label]) < 1e-6);
    });
    // The training rows are learnable: most predicted sets equal the given ones.
    const given = fs
      .readFileSync(data, 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { labels: string[] }).labels.join(PREDICTED_LABEL_SEPARATOR));
    const same = csv.filter((r, i) => r.predicted === given[i]).length;
    assert.ok(same / csv.length > 0.5, `predicted sets equal to the given ones: ${same}/${csv.length}`);
  } finally {
    await client.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('regression: the worker says so, and the editor shows the predicted number; the CSV has it alone', async () => {
  const dir = tempDir('reg-editor');
  const client = new InferenceClient();
  try {
    const data = writeScores(dir);
    const run = path.join(dir, 'run');
    await train(data, run, { problemType: 'regression' });
    const info = await client.load(run);
    assert.equal(info.task, 'regression');
    assert.equal(info.thresholds, undefined);
    const [p] = await client.predict(['great nice fine item']);
    assert.equal(typeof p.value, 'number');
    assert.equal(asPlain(describePredictions([p])), p.value!.toFixed(3));
    const md = asMarkdown(hoverMarkdown(p, 'run', undefined));
    assert.ok(md.startsWith(`**${p.value!.toFixed(3).replace(/[.-]/g, (c) => `\\${c}`)}** predicted value`), md);
    assert.ok(!md.includes('█'), 'no probability bars for a number');

    const out = path.join(dir, 'preds.csv');
    const report = await predictDataset(
      { labels: info.labels, regression: true, predict: (t) => client.predict(t) },
      data,
      { out },
    );
    assert.equal(report.evaluation, undefined);
    const csv = parse<Record<string, string>>(fs.readFileSync(out, 'utf8'), { columns: true });
    assert.deepEqual(Object.keys(csv[0]), ['line', 'text', 'label', 'predicted']);
    const values = await client.predict(csv.map((r) => r.text));
    csv.forEach((r, i) => assert.ok(Math.abs(Number(r.predicted) - values[i].value!) < 1e-6));
  } finally {
    await client.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

const SET: Prediction = {
  label: 'animal, [x](command:evil)',
  score: 0.91,
  scores: { animal: 0.91, '[x](command:evil)': 0.64, food: 0.3, weather: 0.05 },
  predicted: [
    { label: 'animal', score: 0.91, threshold: 0.4 },
    { label: '[x](command:evil)', score: 0.64, threshold: 0.55 },
  ],
};

test('multi-label hover: every predicted label in bold with its probability, ✓ and threshold on its bar; data escaped', () => {
  const md = asMarkdown(hoverMarkdown(SET, 'run_1', undefined, 3));
  const lines = md.split('\n');
  assert.equal(lines[0], '**animal** 91\\.0\\% · **\\[x\\]\\(command\\:evil\\)** 64\\.0\\%');
  assert.ok(lines.includes(`\`${'█'.repeat(18)}${'░'.repeat(2)}\` 91\\.0\\% ✓ animal (threshold 40\\.0\\%)  `), md);
  assert.ok(lines.some((l) => l.includes('✓ \\[x\\]\\(command\\:evil\\) (threshold 55\\.0\\%)')));
  assert.ok(lines.some((l) => l.endsWith('30\\.0\\% food  ') && !l.includes('✓')));
  assert.ok(!lines.some((l) => l.includes('weather')), 'k = 3 bars');
  assert.ok(!md.includes('](command:evil)'), 'a label cannot become a link');
  assert.equal(asPlain(describePredictions([SET])), 'animal 91.0% · [x] (command:evil) 64.0%');
  const none: Prediction = { ...SET, label: '', predicted: [] };
  assert.equal(asMarkdown(hoverMarkdown(none, 'm', undefined)).split('\n')[0], '*No label at or above its threshold*');
  assert.equal(
    asPlain(describePredictions([SET, none])),
    '2 selections: animal 91.0% · [x] (command:evil) 64.0%, no label at or above its threshold',
  );
});

test('multi-label hover: a predicted label less probable than an unpredicted one still gets its ✓ bar', () => {
  const p: Prediction = {
    label: 'rare, common',
    score: 0.9,
    scores: { common: 0.9, loud: 0.8, rare: 0.2, quiet: 0.1 },
    predicted: [
      { label: 'common', score: 0.9, threshold: 0.5 },
      { label: 'rare', score: 0.2, threshold: 0.15 },
    ],
  };
  const lines = asPlain(hoverMarkdown(p, 'm', undefined, 2)).split('\n');
  assert.ok(lines.some((l) => l.includes('✓ rare (threshold 15.0%)')));
  assert.ok(lines.some((l) => l.includes('✓ common (threshold 50.0%)')));
  assert.ok(!lines.some((l) => l.includes('loud')), 'k = 2 bars: the two predicted ones');
  const wider = asPlain(hoverMarkdown(p, 'm', undefined, 3)).split('\n');
  assert.ok(wider.some((l) => l.endsWith('80.0% loud  ')));
});
