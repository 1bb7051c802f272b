import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../runner/fixtures';
import { bertft, run } from '../../helpers/bertft-cli';
import { writeRelationPairs } from '../../helpers/wordnet';
import { csvField } from '../../helpers/csv';

interface TrainEvent {
  event: string;
  is_best: boolean;
  step: number;
  accuracy: number;
  best_step: number;
}

test('text pairs through bertft on WordNet word pairs (the label is their relation): check → train to well above the majority rate → eval → predict; run.json keeps the pair column and --resume holds it', (t) => {
  const dir = tempDir('e2e-pairs');
  // Both texts carry the task: on 3,000 pairs the same model reached 0.51 macro-F1 from the second word alone (seed 1,
  // 12 epochs), predicted one class from the first alone, and 0.60 from the pair (README "Text pairs": 10 seeds).
  const data = writeRelationPairs(dir, { perRelation: 600, validPerRelation: 150 });
  const check = run('check', '--data', data.train, '--max-length', '24');
  assert.equal(check.status, 0, check.stderr);
  assert.match(check.stdout, /text: "sentence1", second text: "sentence2", label: "label"/);
  assert.match(check.stdout, /Pair token lengths: median \d+/);

  const out = path.join(dir, 'run');
  const events = bertft<TrainEvent>(
    'train',
    '--json',
    '--data',
    data.train,
    '--valid',
    data.valid,
    '--out',
    out,
    '--model',
    'random:tiny',
    '--max-length',
    '24',
    '--epochs',
    '6',
    '--seed',
    '1',
    '--device',
    'cpu',
  );
  const best = events.filter((e) => e.event === 'eval' && e.is_best).pop()!;
  assert.equal(events[events.length - 1].event, 'done');
  t.diagnostic(
    `validation accuracy ${best.accuracy.toFixed(3)}; majority rate (the trivial baseline) ${data.majority.toFixed(3)}`,
  );
  // 0.53 with this seed (seeds 2 and 3: 0.55, 0.58) against 1/3.
  assert.ok(
    best.accuracy >= data.majority + 0.15,
    `accuracy ${best.accuracy} against a majority rate of ${data.majority}`,
  );
  const runJson = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')) as {
    config: { textPairColumn?: string };
  };
  assert.equal(runJson.config.textPairColumn, 'sentence2');
  const [report] = bertft<{ accuracy: number }>('eval', '--json', '--model', out, '--data', data.valid);
  assert.ok(Math.abs(report.accuracy - best.accuracy) < 1e-9, `eval ${report.accuracy} vs the run's ${best.accuracy}`);

  // One pair given on the command line, and the same pair read from a file with both columns, predict the same.
  const [a, b] = [
    'The Government of the United States has been administered with economy.',
    'We must create jobs for every American family.',
  ];
  const [fromFlags] = bertft<{ label: string; score: number }>(
    'predict',
    '--json',
    '--model',
    out,
    '--text',
    a,
    '--text-pair',
    b,
  );
  const file = path.join(dir, 'one.csv');
  fs.writeFileSync(file, `sentence1,sentence2\n${csvField(a)},${csvField(b)}\n`);
  const [fromFile] = bertft<{ label: string; score: number }>('predict', '--json', '--model', out, '--file', file);
  assert.deepEqual(fromFile, fromFlags);
  const [single] = bertft<{ score: number }>('predict', '--json', '--model', out, '--text', a);
  assert.notEqual(single.score, fromFlags.score);

  // A resumed run continues with its own pair column: another is refused, not ignored.
  const resumed = run('train', '--resume', '--out', out, '--text-pair-column', 'sentence1');
  assert.equal(resumed.status, 1, resumed.stderr);
  assert.match(resumed.stderr, /textPairColumn \(run: "sentence2", given: "sentence1"\)/);
});

test('pairs: an empty second text stops training with the file, the line and the fix; --text-pair needs a --text each', () => {
  const dir = tempDir('pairs-bad');
  const file = path.join(dir, 'nli.csv');
  fs.writeFileSync(
    file,
    'premise,hypothesis,label\nA man plays.,Someone plays.,yes\nA dog sleeps.,,no\nCats.,Dogs.,no\n',
  );
  const r = run('train', '--data', file, '--out', path.join(dir, 'run'), '--device', 'cpu');
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /nli\.csv:3/);
  assert.match(r.stderr, /Row has no second text \(column "hypothesis" is empty or missing\)/);
  assert.ok(!fs.existsSync(path.join(dir, 'run', 'best')));
  const p = run('predict', '--model', path.join(dir, 'run'), '--text', 'a', '--text', 'b', '--text-pair', 'c');
  assert.equal(p.status, 1, p.stderr);
  assert.match(p.stderr, /2 --text but 1 --text-pair/);
});
