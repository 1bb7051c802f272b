import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { writeFileSync } from 'node:fs';
import { checkDataset, formatCheckReport } from '../../../src/core/data/check';
import { loadTokenizer } from '../../../src/core/tokenize/tokenizer';
import { csvField, spamAssassin, tempDir, writeFiles } from './helpers';

const codes = (r: { problems: Array<{ code?: string; severity: string }> }) =>
  r.problems.map((p) => `${p.severity}:${p.code}`);

test('check of SpamAssassin: counts, imbalance, duplicates, token lengths, usable with warnings', async () => {
  const mails = spamAssassin();
  const dir = tempDir();
  const file = path.join(dir, 'spam.csv');
  writeFileSync(file, 'text,label\n' + mails.map((m) => `${csvField(m.body)},${m.label}`).join('\n') + '\n');
  const report = await checkDataset(file, { maxLength: 128, tokenizer: null });
  assert.equal(report.rows, 6046);
  assert.deepEqual(report.labels, { ham: 4150, spam: 1896 });
  assert.ok(Math.abs((report.imbalanceRatio ?? 0) - 4150 / 1896) < 1e-9);
  assert.equal(report.duplicateRows, mails.length - new Set(mails.map((m) => m.body)).size);
  assert.equal(report.fatal, false);
  assert.equal(report.tokenLengths, undefined);
  const text = formatCheckReport(report);
  assert.match(text, /6046 rows/);
  assert.match(text, /ham\s+4150\s+68\.6%/);
  assert.deepEqual(
    Object.keys(JSON.parse(JSON.stringify(report)) as object)
      .filter((k) => ['rows', 'labels', 'problems', 'fatal'].includes(k))
      .sort(),
    ['fatal', 'labels', 'problems', 'rows'],
  );
});

test('check: token-length histogram and truncated share on 600 SpamAssassin mails', async () => {
  const mails = spamAssassin().filter((_, i) => i % 10 === 0);
  const file = path.join(tempDir(), 'spam.jsonl');
  writeFileSync(file, mails.map((m) => JSON.stringify({ text: m.body, label: m.label })).join('\n'));
  const tokenizer = await loadTokenizer();
  const report = await checkDataset(file, { maxLength: 128, tokenizer });
  const t = report.tokenLengths;
  assert.ok(t);
  assert.equal(
    t.histogram.reduce((sum, b) => sum + b.count, 0),
    mails.length,
  );
  const lengths = mails.map((m) => tokenizer.tokenIds(m.body).length + 2);
  const longer = lengths.filter((n) => n > 128).length / lengths.length;
  assert.ok(Math.abs(t.truncatedShare - longer) < 1e-12, `${t.truncatedShare} vs ${longer}`);
  assert.equal(t.histogram[0].count, lengths.filter((n) => n <= 16).length);
  assert.equal(t.histogram[t.histogram.length - 1].count, lengths.filter((n) => n > 1024).length);
  assert.ok(codes(report).includes('warning:DATA_TRUNCATION'));
  assert.equal(report.fatal, false);
  const text = formatCheckReport(report);
  assert.match(text, /Token lengths: median \d+, p90 \d+; \d+\.\d% longer than 128/);
  assert.match(text, /Result: usable, with warnings\./);
});

test("check: unreadable file is fatal with the reader's line", async () => {
  const dir = writeFiles({ 'd.csv': 'text,label\na,x\n"b,y\n' });
  const report = await checkDataset(path.join(dir, 'd.csv'), { tokenizer: null });
  assert.equal(report.fatal, true);
  assert.equal(report.rows, 0);
  assert.deepEqual(
    report.problems.map((p) => [p.severity, p.code, p.line]),
    [['error', 'DATA_CSV_SYNTAX', 3]],
  );
  assert.match(formatCheckReport(report), /NOT usable/);
});

test('check: missing file, and no rows, are fatal', async () => {
  const missing = await checkDataset('/nonexistent/d.csv', { tokenizer: null });
  assert.equal(missing.fatal, true);
  assert.deepEqual(codes(missing), ['error:DATA_MISSING_FILE']);
  const dir = writeFiles({ 'd.csv': 'text,label\n' });
  assert.deepEqual(codes(await checkDataset(path.join(dir, 'd.csv'), { tokenizer: null })), ['error:DATA_NO_ROWS']);
});

test('check: lists every row with a missing text or label, fatal', async () => {
  const dir = writeFiles({ 'd.csv': 'text,label\na,x\n,y\nb,\nc,y\nd,x\ne,y\n' });
  const report = await checkDataset(path.join(dir, 'd.csv'), { tokenizer: null });
  assert.equal(report.fatal, true);
  assert.equal(report.rows, 4);
  assert.deepEqual(
    report.problems.filter((p) => p.severity === 'error').map((p) => [p.code, p.line]),
    [
      ['DATA_MISSING_TEXT', 3],
      ['DATA_MISSING_LABEL', 4],
    ],
  );
});

test('check: one class is fatal; single-example label is an error without a validation file', async () => {
  const dir = writeFiles({
    'one.jsonl': '{"text":"a","label":"x"}\n{"text":"b","label":"x"}\n',
    'few.csv': 'text,label\na,x\nb,x\nc,y\nd,y\ne,z\n',
  });
  const one = await checkDataset(path.join(dir, 'one.jsonl'), { tokenizer: null });
  assert.equal(one.fatal, true);
  assert.ok(codes(one).includes('error:DATA_ONE_CLASS'));
  const few = await checkDataset(path.join(dir, 'few.csv'), { tokenizer: null });
  assert.equal(few.fatal, true);
  assert.deepEqual(
    few.problems.filter((p) => p.severity === 'error').map((p) => [p.code, p.line]),
    [['DATA_SINGLE_EXAMPLE_LABEL', 6]],
  );
});

test('check: blank texts, duplicates (conflicting labels too) and label spelling variants', async () => {
  const dir = writeFiles({
    'd.csv': 'text,label\nhello,spam\n"   ",ham\nhello,spam\nhello,ham\nbye,Spam\nbye2, spam\nok,ham\n',
  });
  const report = await checkDataset(path.join(dir, 'd.csv'), { tokenizer: null });
  assert.equal(report.blankTexts, 1);
  assert.equal(report.duplicateRows, 2);
  const byCode = (code: string) => report.problems.filter((p) => p.code === code);
  assert.deepEqual(
    byCode('DATA_BLANK_TEXT').map((p) => p.line),
    [3],
  );
  assert.deepEqual(
    byCode('DATA_DUPLICATE').map((p) => p.line),
    [4],
  );
  assert.deepEqual(
    byCode('DATA_CONFLICTING_DUPLICATE').map((p) => p.line),
    [5],
  );
  const variants = byCode('DATA_LABEL_VARIANTS');
  assert.equal(variants.length, 1);
  assert.match(variants[0].message, /" spam" \(1\), "Spam" \(1\), "spam" \(2\)/);
});

test('check: leakage between training and validation files, and labels only in validation', async () => {
  const dir = writeFiles({
    'train.jsonl': '{"text":"a","label":"x"}\n{"text":"b","label":"y"}\n{"text":"c","label":"y"}\n',
    'val.jsonl': '{"text":"b","label":"y"}\n{"text":"q","label":"z"}\n',
  });
  const report = await checkDataset(path.join(dir, 'train.jsonl'), {
    validationFile: path.join(dir, 'val.jsonl'),
    tokenizer: null,
  });
  assert.equal(report.validationRows, 2);
  assert.equal(report.leakedRows, 1);
  const leak = report.problems.find((p) => p.code === 'DATA_LEAKAGE');
  assert.ok(leak && leak.file.endsWith('val.jsonl') && leak.line === 1 && leak.message.includes('train.jsonl:2'));
  const only = report.problems.find((p) => p.code === 'DATA_LABEL_ONLY_IN_VALIDATION');
  assert.ok(only && only.line === 2 && only.message.includes('"z"'));
  assert.equal(report.fatal, true);
  assert.match(formatCheckReport(report), /In both train and validation: 1/);
});

test('check: imbalance over 10× is a warning', async () => {
  const lines = [
    'text,label',
    ...Array.from({ length: 44 }, (_, i) => `t${i},big`),
    'u1,small',
    'u2,small',
    'u3,small',
    'u4,small',
  ];
  const dir = writeFiles({ 'd.csv': lines.join('\n') });
  const report = await checkDataset(path.join(dir, 'd.csv'), { tokenizer: null });
  assert.equal(report.imbalanceRatio, 11);
  assert.ok(codes(report).includes('warning:DATA_IMBALANCE'));
  assert.equal(report.fatal, false);
});
