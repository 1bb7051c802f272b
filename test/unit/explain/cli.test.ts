/** `bertft predict --explain`: the text lines and the --json record, run as a user runs the CLI. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { trainedRun } from './trained';

const CLI = path.join(__dirname, '..', '..', '..', 'src', 'cli.js');

function bertft(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env } });
}

const TEXT = 'The acting was wonderful, the ending superb and dreadful.';

interface Line {
  label: string;
  score: number;
  explanation: {
    label: string;
    method: string;
    steps: number;
    baseline: string;
    logit: number;
    baselineLogit: number;
    truncated: boolean;
    tokens: { token: string; start: number | null; end: number | null; score: number }[];
  };
}

test('predict --explain --json: the prediction with every token, its span and score', async () => {
  const run = await trainedRun();
  const r = bertft(
    'predict',
    '--model',
    run,
    '--text',
    TEXT,
    '--text',
    'superb',
    '--explain',
    '--explain-steps',
    '20',
    '--json',
  );
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Line);
  assert.equal(lines.length, 2);
  const [first] = lines;
  assert.equal(first.explanation.label, first.label);
  assert.equal(first.explanation.method, 'integrated-gradients');
  assert.equal(first.explanation.steps, 20);
  assert.equal(first.explanation.baseline, 'pad');
  assert.equal(first.explanation.tokens.length, 11);
  for (const t of first.explanation.tokens) {
    assert.equal(TEXT.slice(t.start!, t.end!).toLowerCase(), t.token);
    assert.equal(typeof t.score, 'number');
  }
  const sum = first.explanation.tokens.reduce((s, t) => s + t.score, 0);
  const delta = first.explanation.logit - first.explanation.baselineLogit;
  assert.ok(Math.abs(sum - delta) < 0.01 * Math.abs(delta), `${sum} vs ${delta}`);
  assert.deepEqual(
    lines[1].explanation.tokens.map((t) => [t.token, t.start, t.end]),
    [['superb', 0, 6]],
  );
});

test('predict --explain: the tokens toward and against the label, largest first', async () => {
  const run = await trainedRun();
  const r = bertft('predict', '--model', run, '--text', TEXT, '--explain', '--top', '2');
  assert.equal(r.status, 0, r.stderr);
  const [head, toward, against] = r.stdout.trimEnd().split('\n');
  const label = head.split('\t')[0];
  assert.match(head, new RegExp(`^${label}\\t\\d\\.\\d{4}\\tThe acting was wonderful`));
  const json = JSON.parse(bertft('predict', '--model', run, '--text', TEXT, '--explain', '--json').stdout) as Line;
  const ranked = [...json.explanation.tokens].sort((a, b) => b.score - a.score);
  const shown = (t: Line['explanation']['tokens'][number]) =>
    `"${TEXT.slice(t.start!, t.end!)}" ${t.score >= 0 ? '+' : ''}${t.score.toFixed(3)}`;
  assert.equal(toward, `  toward ${label}: ${ranked.slice(0, 2).map(shown).join(', ')}`);
  assert.equal(against, `  against ${label}: ${ranked.reverse().slice(0, 2).map(shown).join(', ')}`);
});

test('predict: --explain-steps without --explain is a usage error', async () => {
  const run = await trainedRun();
  const r1 = bertft('predict', '--model', run, '--text', 'x', '--explain-steps', '8');
  assert.equal(r1.status, 1);
  assert.match(r1.stderr, /--explain-steps and --top go with --explain/);
});
