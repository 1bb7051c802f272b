import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../../../src/cli/main';
import { tempDir } from '../runner/fixtures';

const DATA = path.join(__dirname, '..', '..', '..', '..', 'examples', 'spam-ham.csv');

async function cli(...argv: string[]) {
  const io = {
    out: '',
    err: '',
    stderrIsTTY: false,
    stdout: (t: string) => {
      io.out += t;
    },
    stderr: (t: string) => {
      io.err += t;
    },
  };
  const code = await runCli(argv, io);
  return { code, out: io.out, err: io.err };
}

test('bertft check --json: one report object; exit 0 for usable data', async () => {
  const r = await cli('check', '--json', '--data', DATA, '--max-length', '256');
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trim().split('\n');
  assert.equal(lines.length, 1);
  const report = JSON.parse(lines[0]) as {
    rows: number;
    fatal: boolean;
    labels: Record<string, number>;
    problems: unknown;
  };
  assert.equal(report.rows, 400);
  assert.equal(report.fatal, false);
  assert.deepEqual(Object.keys(report.labels), ['ham', 'spam']);
  assert.ok(Array.isArray(report.problems));
});

test('bertft check: fatal problems (one class only, missing file) exit 1 and say so', async () => {
  const dir = tempDir('check');
  const oneClass = path.join(dir, 'one.csv');
  fs.writeFileSync(oneClass, 'text,label\nhello,a\nworld,a\n');
  const r = await cli('check', '--data', oneClass);
  assert.equal(r.code, 1);
  assert.match(r.out, /NOT usable/);
  const missing = await cli('check', '--json', '--data', path.join(dir, 'missing.csv'));
  assert.equal(missing.code, 1);
  assert.equal((JSON.parse(missing.out) as { fatal: boolean }).fatal, true);
  const noData = await cli('check');
  assert.equal(noData.code, 1);
  assert.match(noData.err, /needs --data/);
});
