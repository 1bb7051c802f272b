import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readDataset } from '../../../src/core/data/read';
import type { SuspectsReport } from '../../../src/core/finetune/suspects';
import { formatSuspects } from '../../../src/cli/suspects';
import { tempDir } from '../runner/fixtures';

const ROOT = path.join(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'out', 'src', 'cli.js');
const SPAM = path.join(ROOT, 'examples', 'spam-ham.csv');
const ENV = { ...process.env, BERTFT_TRAINING_CHILD: '1', HF_HUB_OFFLINE: '1' };

function bertft(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: ENV, maxBuffer: 64 << 20 });
}

/** The bundled SpamAssassin sample as JSON Lines (row i on line i + 1) with every 20th label flipped. */
async function flippedSpam(dir: string): Promise<{ file: string; flipped: Map<number, string> }> {
  const { examples } = await readDataset(SPAM);
  const flipped = new Map<number, string>();
  const lines = examples.map((e, i) => {
    if (i % 20 !== 7) return JSON.stringify({ text: e.text, label: e.label });
    flipped.set(i + 1, e.label);
    return JSON.stringify({ text: e.text, label: e.label === 'spam' ? 'ham' : 'spam' });
  });
  const file = path.join(dir, 'spam-flipped.jsonl');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return { file, flipped };
}

test('check --suspects on real mail with 5% of labels flipped: the flipped rows are found far above chance', async () => {
  const dir = tempDir('suspects-cli');
  const { file, flipped } = await flippedSpam(dir);
  const before = fs.readFileSync(file);
  const out = path.join(dir, 'folds');
  const r = bertft('check', '--suspects', '--data', file, '--folds', '3', '--max-length', '64', '--out', out, '--json');
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as SuspectsReport;
  assert.equal(report.rows, 400);
  assert.equal(report.folds, 3);
  const found = report.suspects.filter((s) => flipped.has(s.line));
  const flipRate = flipped.size / report.rows;
  const precision = found.length / report.suspects.length;
  const recall = found.length / flipped.size;
  // Chance (suspects drawn at random) finds flipped rows at the flip rate, 5%: ask for three times that, and half of them.
  assert.ok(precision >= 3 * flipRate, `precision ${precision} (${found.length}/${report.suspects.length})`);
  assert.ok(recall >= 0.5, `recall ${recall} (${found.length}/${flipped.size})`);
  // A found row's suggestion is its label before the flip; every suspect points at its own line of the file.
  for (const s of found) assert.equal(s.suggested, flipped.get(s.line));
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  for (const s of report.suspects) {
    assert.equal(s.file, file);
    assert.equal((JSON.parse(lines[s.line - 1]) as { label: string }).label, s.given);
  }
  // Ranked: self-confidence ascending.
  const confidences = report.suspects.map((s) => s.selfConfidence);
  assert.deepEqual(
    confidences,
    [...confidences].sort((a, b) => a - b),
  );
  // The data is only read; the folds' runs and the report stay in --out.
  assert.deepEqual(fs.readFileSync(file), before);
  assert.deepEqual(fs.readdirSync(out).sort(), ['fold-1', 'fold-2', 'fold-3', 'suspects.json']);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(out, 'suspects.json'), 'utf8')), report);

  // The text form: one line a suspect with file:line, given → suggested.
  const text = formatSuspects(report, dir);
  const first = report.suspects[0];
  assert.match(text, new RegExp(`^  spam-flipped\\.jsonl:${first.line}  ${first.given} → ${first.suggested} `, 'm'));
  assert.equal(text.trim().split('\n').length, 1 + report.suspects.length + 1);
});

test('check --suspects refuses a folder it did not create, a class too small for the folds, and stray flags', () => {
  const dir = tempDir('suspects-refuse');
  const data = path.join(dir, 'tiny.csv');
  fs.writeFileSync(
    data,
    'text,label\n' + Array.from({ length: 12 }, (_, i) => `text ${i},${i < 10 ? 'a' : 'b'}`).join('\n'),
  );
  const notEmpty = path.join(dir, 'mine');
  fs.mkdirSync(notEmpty);
  fs.writeFileSync(path.join(notEmpty, 'notes.txt'), 'mine');

  const small = bertft('check', '--suspects', '--data', data);
  assert.equal(small.status, 1, small.stderr);
  assert.match(small.stderr, /tiny\.csv:12: The label "b" has 2 rows/);
  assert.match(small.stderr, /Fix: .*--folds/);

  const big = path.join(dir, 'big.csv');
  fs.writeFileSync(
    big,
    'text,label\n' + Array.from({ length: 20 }, (_, i) => `text ${i},${i % 2 ? 'a' : 'b'}`).join('\n'),
  );
  const taken = bertft('check', '--suspects', '--data', big, '--out', notEmpty);
  assert.equal(taken.status, 1, taken.stderr);
  assert.match(taken.stderr, /is not empty/);
  assert.deepEqual(fs.readdirSync(notEmpty), ['notes.txt']);

  const stray = bertft('check', '--data', big, '--folds', '3');
  assert.equal(stray.status, 1);
  assert.match(stray.stderr, /--folds is used only with --suspects/);
});
