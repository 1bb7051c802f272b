import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CheckFailedError, checkArgs, parseCheckOutput, runCheck } from '../../../src/extension/training/check';
import { tempFolder } from '../../helpers/temp';

const CLI = path.resolve(__dirname, '..', '..', '..', 'src', 'cli.js');

test('check arguments carry only what was chosen', () => {
  assert.deepEqual(checkArgs({ data: '/d.csv' }), ['check', '--data', '/d.csv', '--json']);
  assert.deepEqual(checkArgs({ data: '/d.csv', textColumn: 'body', labelColumn: 'y', maxLength: 64 }), [
    'check',
    '--data',
    '/d.csv',
    '--json',
    '--text-column',
    'body',
    '--label-column',
    'y',
    '--max-length',
    '64',
  ]);
});

test('the report is the last JSON line with problems', () => {
  assert.equal(parseCheckOutput(''), undefined);
  assert.equal(parseCheckOutput('{"x":1}\nnot json\n'), undefined);
  const report = parseCheckOutput('warming up\n{"problems":[],"fatal":false,"rows":3}\n');
  assert.equal(report?.rows, 3);
});

test('runCheck reports a fatal dataset through the real CLI, off this process', async () => {
  const dir = tempFolder('bert-check-');
  const file = path.join(dir, 'broken.csv');
  fs.writeFileSync(
    file,
    'text,label\n"a fine film",positive\n"a dull film",\n"a warm film",negative\n"a flat film",negative\n',
  );
  const report = await runCheck({ cli: CLI, data: file });
  assert.equal(report.fatal, true);
  const missing = report.problems.find((p) => p.code === 'DATA_MISSING_LABEL');
  assert.equal(missing?.line, 3);
  assert.equal(report.textColumn, 'text');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('runCheck fails with the output when there is no report', async () => {
  await assert.rejects(
    runCheck({ cli: path.join(os.tmpdir(), 'no-such-cli.js'), data: 'x' }),
    (e: unknown) => e instanceof CheckFailedError,
  );
});
