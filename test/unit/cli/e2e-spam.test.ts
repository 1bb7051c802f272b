import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../runner/fixtures';

const ROOT = path.join(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'out', 'src', 'cli.js');
const DATA = path.join(ROOT, 'examples', 'spam-ham.csv');

/** bertft's --json output: one object a line, typed by the caller as the fields it reads. */
function bertft<T>(...args: string[]): T[] {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `bertft ${args[0]} failed:\n${r.stderr}`);
  return r.stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as T);
}

/** The fields of `bertft train --json` events read below: `dataset` on started, `best_step` on done, the rest on eval. */
interface TrainEvent {
  event: string;
  dataset: { label_counts: Record<string, number> };
  is_best: boolean;
  step: number;
  accuracy: number;
  macro_f1: number;
  best_step: number;
}
interface EvalReport {
  labels: string[];
  confusion: number[][];
  per_class: Record<string, { support: number }>;
  accuracy: number;
}
interface Prediction {
  label: string;
  scores: Record<string, number>;
}

test('end to end on real SpamAssassin mail: train → eval → predict, well above the majority-class rate', () => {
  const out = path.join(tempDir('e2e'), 'run');
  const events = bertft<TrainEvent>(
    'train',
    '--json',
    '--data',
    DATA,
    '--out',
    out,
    '--model',
    'random:tiny',
    '--epochs',
    '5',
    '--batch-size',
    '16',
    '--lr',
    '2e-3',
    '--max-length',
    '128',
    '--metric',
    'macro_f1',
    '--no-dropout',
    '--valid-ratio',
    '0.25',
    '--seed',
    '42',
    '--device',
    'cpu',
  );
  assert.ok(events.every((e) => typeof e.event === 'string'));
  const started = events.find((e) => e.event === 'started')!;
  const counts = Object.values(started.dataset.label_counts);
  const majority = Math.max(...counts) / counts.reduce((a, b) => a + b, 0);
  const done = events[events.length - 1];
  assert.equal(done.event, 'done');
  const best = events.filter((e) => e.event === 'eval' && e.is_best).pop()!;
  assert.equal(best.step, done.best_step);
  // Held-out validation rows (a quarter of the file, never trained on).
  assert.ok(best.accuracy >= majority + 0.12, `validation accuracy ${best.accuracy} vs majority ${majority}`);
  assert.ok(best.macro_f1 >= 0.8, `macro-F1 ${best.macro_f1}`);

  const [report] = bertft<EvalReport>('eval', '--json', '--model', out, '--data', DATA);
  assert.deepEqual(Object.keys(report).sort(), ['accuracy', 'confusion', 'labels', 'loss', 'macro_f1', 'per_class']);
  assert.deepEqual(report.labels, ['ham', 'spam']);
  assert.equal(
    report.confusion.flat().reduce((a, b) => a + b, 0),
    400,
  );
  assert.equal(report.per_class.ham.support + report.per_class.spam.support, 400);
  assert.ok(report.accuracy > majority + 0.12);

  const textsFile = path.join(path.dirname(out), 'texts.txt');
  fs.writeFileSync(
    textsFile,
    'Dear friend, claim your FREE prize now, click here to order viagra at the lowest price!!!\n' +
      'Thanks for the patch, I merged it into CVS; the build on the RedHat box passes now.\n',
  );
  const predictions = bertft<Prediction>('predict', '--json', '--model', out, '--file', textsFile);
  assert.equal(predictions.length, 2);
  for (const p of predictions) {
    assert.deepEqual(Object.keys(p).sort(), ['label', 'score', 'scores']);
    assert.ok(Math.abs(p.scores.ham + p.scores.spam - 1) < 1e-5);
  }
  assert.deepEqual(
    predictions.map((p) => p.label),
    ['spam', 'ham'],
  );
});
