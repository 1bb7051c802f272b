import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';
import {
  defaultPredictionsFile,
  evaluatePredictions,
  predictDataset,
  readInputRows,
  type PredictFn,
} from '../../../src/core/infer/batch-predict';
import { loadPredictor } from '../../../src/core/infer/predictor';
import type { Prediction } from '../../../src/core/infer/predictor';
import { tempDir, trainedRun } from './fixtures';

/** A stand-in model: "pos" when the text contains "good", with a score that depends on the text length. */
function fakeModel(calls: string[][] = []): PredictFn {
  return {
    labels: ['neg', 'pos'],
    predict(texts: string[]): Promise<Prediction[]> {
      calls.push(texts);
      return Promise.resolve(
        texts.map((t) => {
          const p = t.includes('good') ? 0.9 : 0.2;
          return { label: p > 0.5 ? 'pos' : 'neg', score: Math.max(p, 1 - p), scores: { neg: 1 - p, pos: p } };
        }),
      );
    },
  };
}

function readCsv(file: string): Record<string, string>[] {
  return parse<Record<string, string>>(fs.readFileSync(file, 'utf8'), { columns: true });
}

test('evaluatePredictions: accuracy and confusion, unknown true labels as extra rows, unlabelled rows skipped', () => {
  const e = evaluatePredictions(['a', 'b'], ['a', 'b', 'b', undefined, 'c'], ['a', 'a', 'b', 'b', 'b']);
  assert.equal(e.evaluated, 4);
  assert.equal(e.correct, 2);
  assert.equal(e.accuracy, 0.5);
  assert.deepEqual(e.unknownLabels, ['c']);
  assert.deepEqual(e.confusion.trueLabels, ['a', 'b', 'c']);
  assert.deepEqual(e.confusion.counts, [
    [1, 0],
    [1, 1],
    [0, 1],
  ]);
});

test('labelled CSV: predictions CSV next to it (quoted texts kept), accuracy and confusion', async () => {
  const dir = tempDir('bp-csv');
  const input = path.join(dir, 'reviews.csv');
  fs.writeFileSync(input, 'text,label\n"good, really ""good""",pos\nbad,neg\n"multi\nline good",neg\nmeh,pos\n');
  const progress: number[] = [];
  const report = await predictDataset(fakeModel(), input, { chunkSize: 2, onProgress: (done) => progress.push(done) });
  assert.equal(report.output, path.join(dir, 'reviews.predictions.csv'));
  assert.deepEqual(progress, [0, 2, 4]);
  const rows = readCsv(report.output);
  assert.deepEqual(Object.keys(rows[0]), ['line', 'text', 'label', 'predicted', 'score', 'p_neg', 'p_pos']);
  assert.deepEqual(
    rows.map((r) => [r.line, r.text, r.label, r.predicted]),
    [
      ['2', 'good, really "good"', 'pos', 'pos'],
      ['3', 'bad', 'neg', 'neg'],
      ['4', 'multi\nline good', 'neg', 'pos'],
      ['6', 'meh', 'pos', 'neg'],
    ],
  );
  assert.equal(Number(rows[0].p_pos), 0.9);
  assert.equal(report.evaluation?.accuracy, 0.5);
  assert.deepEqual(report.evaluation?.confusion.counts, [
    [1, 1],
    [1, 1],
  ]);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('unlabelled JSONL: predicted, no evaluation, no label column', async () => {
  const dir = tempDir('bp-jsonl');
  const input = path.join(dir, 'texts.jsonl');
  fs.writeFileSync(input, '{"content": "good day"}\n\n{"content": "rain"}\n');
  const report = await predictDataset(fakeModel(), input);
  assert.equal(report.labelled, false);
  assert.equal(report.evaluation, undefined);
  const rows = readCsv(report.output);
  assert.deepEqual(
    rows.map((r) => [r.line, r.text, r.predicted, r.label]),
    [
      ['1', 'good day', 'pos', undefined],
      ['3', 'rain', 'neg', undefined],
    ],
  );
  fs.rmSync(dir, { recursive: true, force: true });
});

test('class folder: labelled by folder name, file column relative to the folder', async () => {
  const dir = tempDir('bp-folder');
  const root = path.join(dir, 'docs');
  for (const [label, name, text] of [
    ['pos', 'a.txt', 'good stuff'],
    ['neg', 'b.txt', 'good grief'],
    ['neg', 'c.txt', 'no'],
  ]) {
    fs.mkdirSync(path.join(root, label), { recursive: true });
    fs.writeFileSync(path.join(root, label, name), text);
  }
  const report = await predictDataset(fakeModel(), root);
  assert.equal(report.output, path.join(dir, 'docs.predictions.csv'));
  const rows = readCsv(report.output).sort((x, y) => x.file.localeCompare(y.file));
  assert.deepEqual(
    rows.map((r) => [r.file, r.label, r.predicted]),
    [
      [path.join('neg', 'b.txt'), 'neg', 'pos'],
      [path.join('neg', 'c.txt'), 'neg', 'neg'],
      [path.join('pos', 'a.txt'), 'pos', 'pos'],
    ],
  );
  assert.equal(report.evaluation?.correct, 2);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('cancellation between chunks: CANCELLED error, nothing written, no further predict calls', async () => {
  const dir = tempDir('bp-cancel');
  const input = path.join(dir, 'many.csv');
  fs.writeFileSync(input, 'text\n' + Array.from({ length: 10 }, (_, i) => `t${i}`).join('\n') + '\n');
  const controller = new AbortController();
  const calls: string[][] = [];
  await assert.rejects(
    predictDataset(fakeModel(calls), input, {
      chunkSize: 3,
      signal: controller.signal,
      onProgress: (done) => {
        if (done === 3) controller.abort();
      },
    }),
    (e: Error & { code?: string }) => e.code === 'CANCELLED',
  );
  assert.equal(calls.length, 1);
  assert.ok(!fs.existsSync(defaultPredictionsFile(input)));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('input errors name the file and line: no text column, unknown label column, empty text', async () => {
  const dir = tempDir('bp-bad');
  const noText = path.join(dir, 'a.csv');
  fs.writeFileSync(noText, 'foo,label\nx,y\n');
  await assert.rejects(
    readInputRows(noText),
    (e: Error & { file?: string; line?: number; code?: string }) =>
      e.code === 'DATA_NO_TEXT_COLUMN' && e.file === noText && e.line === 1 && /"foo"/.test(e.message),
  );
  await assert.rejects(
    readInputRows(noText, { textColumn: 'foo', labelColumn: 'cls' }),
    (e: Error & { code?: string }) => e.code === 'DATA_UNKNOWN_COLUMN',
  );
  const jsonl = path.join(dir, 'b.jsonl');
  fs.writeFileSync(jsonl, '{"text": "ok"}\n{"text": null}\n');
  await assert.rejects(
    readInputRows(jsonl),
    (e: Error & { line?: number; code?: string }) => e.code === 'DATA_MISSING_TEXT' && e.line === 2,
  );
  fs.rmSync(dir, { recursive: true, force: true });
});

test("with a trained model: the report and CSV equal the predictor's own predictions", async () => {
  const { data } = await trainedRun();
  const { run } = await trainedRun();
  const dir = tempDir('bp-real');
  const out = path.join(dir, 'preds.csv');
  const predictor = await loadPredictor(run, { device: 'cpu' });
  try {
    const report = await predictDataset(predictor, data, { out, chunkSize: 40 });
    const { rows } = await readInputRows(data);
    const direct = await predictor.predict(rows.map((r) => r.text));
    const csv = readCsv(out);
    assert.equal(csv.length, rows.length);
    csv.forEach((r, i) => {
      assert.equal(r.predicted, direct[i].label);
      assert.ok(Math.abs(Number(r.p_pos) - direct[i].scores.pos) < 1e-6);
    });
    const correct = rows.filter((r, i) => r.label === direct[i].label).length;
    assert.equal(report.evaluation?.correct, correct);
    assert.ok(
      correct / rows.length > 0.9,
      `a trained model should get most of its training data right (${correct}/${rows.length})`,
    );
  } finally {
    await predictor.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
