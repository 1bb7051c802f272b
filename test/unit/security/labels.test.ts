/**
 * Labels are data, never keys of plain objects: `__proto__`, `constructor`, `toString` and `hasOwnProperty` work as
 * labels through the whole path — bertft check (counted as four classes), train (events, run.json, best/config.json),
 * eval (per-class rows), predict (scores), the HF config.json round trip (id2label, label2id), and the dashboard's
 * per-class lookup — in CSV (column names too) and JSONL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkDataset } from '../../../src/core/data/check';
import { readDataset } from '../../../src/core/data/read';
import { buildLabelMap, labelId, labelsFromId2Label } from '../../../src/core/data/labels';
import { loadPredictor } from '../../../src/core/infer/predictor';
import { mapOfRecord, ownValue } from '../../../src/core/util/records';
import { tempDir } from '../runner/fixtures';

const ROOT = path.join(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'out', 'src', 'cli.js');
const LABELS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];

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

/** The fields of `bertft train --json` events read below (`dataset` on started, `per_class` on eval). */
interface TrainEvent {
  event: string;
  dataset: { label_counts: Record<string, number> };
  per_class: Record<string, { f1: number }>;
}

/** 12 rows per label; each label's texts share a word, so a tiny model can learn them. */
function writeData(dir: string): string {
  const words = ['alpha', 'bravo', 'charlie', 'delta'];
  const lines = ['text,__proto__'];
  LABELS.forEach((label, i) => {
    for (let k = 0; k < 12; k++) lines.push(`"${words[i]} ${words[i]} item ${k}",${label}`);
  });
  const file = path.join(dir, 'protos.csv');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

test('label maps and records treat prototype names as plain labels', async () => {
  const map = buildLabelMap([...LABELS, 'x']);
  assert.deepEqual(map.labels, ['__proto__', 'constructor', 'hasOwnProperty', 'toString', 'x']);
  for (const l of map.labels) assert.equal(labelId(map, l), map.labels.indexOf(l));
  assert.throws(() => labelId(map, 'valueOf'), /not one of the 5 labels/);
  assert.deepEqual(labelsFromId2Label(JSON.parse('{"0":"__proto__","1":"constructor"}')), ['__proto__', 'constructor']);
  assert.throws(() => labelsFromId2Label(JSON.parse('{"0":"a","__proto__":"b"}')), /no entry for id 1/);
  assert.throws(() => labelsFromId2Label(['a', 'b']), /not an object/);
  assert.equal(ownValue({}, 'constructor'), undefined);

  const dir = tempDir('protos');
  const jsonl = path.join(dir, 'data.jsonl');
  fs.writeFileSync(
    jsonl,
    LABELS.flatMap((l) => [0, 1].map((k) => JSON.stringify({ text: `t ${k}`, label: l }))).join('\n') + '\n',
  );
  assert.deepEqual([...new Set((await readDataset(jsonl)).examples.map((e) => e.label))].sort(), [...LABELS].sort());
  // A CSV column named __proto__ is a column like any other.
  const csv = writeData(dir);
  const data = await readDataset(csv, { labelColumn: '__proto__' });
  assert.equal(data.examples.length, 48);
  assert.deepEqual(data.columns, ['text', '__proto__']);
});

test('bertft check, train, eval and predict with labels named like Object.prototype properties', async () => {
  const dir = tempDir('protos-cli');
  const data = writeData(dir);
  const report = await checkDataset(data, { labelColumn: '__proto__', tokenizer: null });
  assert.deepEqual(
    mapOfRecord(report.labels),
    new Map(
      LABELS.slice()
        .sort()
        .map((l) => [l, 12]),
    ),
    'four classes of 12',
  );
  assert.equal(report.fatal, false);
  const [checked] = bertft<{ labels: Record<string, number> }>(
    'check',
    '--json',
    '--data',
    data,
    '--label-column',
    '__proto__',
  );
  assert.deepEqual(Object.keys(checked.labels).sort(), [...LABELS].sort());

  const out = path.join(dir, 'run');
  const events = bertft<TrainEvent>(
    'train',
    '--json',
    '--data',
    data,
    '--label-column',
    '__proto__',
    '--out',
    out,
    '--model',
    'random:tiny',
    '--epochs',
    '6',
    '--batch-size',
    '8',
    '--lr',
    '3e-3',
    '--max-length',
    '16',
    '--no-dropout',
    '--seed',
    '1',
    '--device',
    'cpu',
  );
  const started = events.find((e) => e.event === 'started')!;
  assert.deepEqual(Object.keys(started.dataset.label_counts).sort(), [...LABELS].sort());
  const lastEval = events.filter((e) => e.event === 'eval').pop()!;
  assert.deepEqual(Object.keys(lastEval.per_class).sort(), [...LABELS].sort());
  for (const l of LABELS) assert.equal(typeof lastEval.per_class[l].f1, 'number', l);

  // The HF config.json: id2label and label2id name every label, as own keys.
  const config = JSON.parse(fs.readFileSync(path.join(out, 'best', 'config.json'), 'utf8')) as {
    id2label: Record<string, string>;
    label2id: Record<string, number>;
  };
  const sorted = [...LABELS].sort();
  assert.deepEqual(labelsFromId2Label(config.id2label), sorted);
  assert.deepEqual(
    sorted.map((l) => ownValue(config.label2id, l)),
    [0, 1, 2, 3],
  );
  const predictor = await loadPredictor(out);
  assert.deepEqual(predictor.labels, sorted);
  await predictor.dispose();

  const [evaluation] = bertft<{ per_class: Record<string, { support: number }>; accuracy: number }>(
    'eval',
    '--json',
    '--model',
    out,
    '--data',
    data,
    '--label-column',
    '__proto__',
  );
  assert.equal(
    LABELS.reduce((n, l) => n + evaluation.per_class[l].support, 0),
    48,
  );
  assert.ok(evaluation.accuracy > 0.5, `a learnable task: accuracy ${evaluation.accuracy}`);
  const textFile = path.join(dir, 'texts.txt');
  fs.writeFileSync(textFile, 'alpha alpha item 99\ndelta delta item 99\n');
  const predictions = bertft<{ label: string; scores: Record<string, number> }>(
    'predict',
    '--json',
    '--model',
    out,
    '--file',
    textFile,
  );
  for (const p of predictions) {
    assert.deepEqual(Object.keys(p.scores).sort(), sorted);
    assert.ok(Math.abs(Object.values(p.scores).reduce((a, b) => a + b, 0) - 1) < 1e-5);
    assert.ok(LABELS.includes(p.label));
  }
});
