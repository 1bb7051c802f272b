/**
 * Task detection (core/data/detect-task.ts) and the dataset check's `task`: one label, label lists, separated cells,
 * 0/1 columns, numbers with fractions (regression, then no class checks), and a text pair by its column names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { checkDataset } from '../../../src/core/data/check';
import { detectLabelColumns, looksLikeRegression } from '../../../src/core/data/detect-task';
import { writeFiles } from './helpers';

const codes = (r: { problems: Array<{ code?: string; severity: string }> }) =>
  r.problems.map((p) => `${p.severity}:${p.code}`);

test('looksLikeRegression: numbers with a fraction somewhere; whole numbers and words stay classes', () => {
  assert.equal(looksLikeRegression(['1', '2.5', '-0.25', '3e-2', ' 4 ']), true);
  assert.equal(looksLikeRegression(['1', '2', '5']), false, 'star ratings are classes');
  assert.equal(looksLikeRegression(['0.5', 'spam']), false);
  assert.equal(looksLikeRegression(['0x1F', '1.5']), false);
  assert.equal(looksLikeRegression(['Infinity', '1.5']), false);
  assert.equal(looksLikeRegression([]), false);
});

test('detectLabelColumns: two or more 0/1 columns and no label column; otherwise none', async () => {
  const dir = writeFiles({
    'cols.csv': 'text,billing,urgent,id\nrefund now,1,1,7\nhello,0,0,8\nlate invoice,true,0,9\n',
    'one.csv': 'text,urgent\nrefund now,1\nhello,0\n',
    'labelled.csv': 'text,label,urgent,billing\nrefund now,a,1,0\nhello,b,0,1\n',
    'bad.csv': 'text,billing,urgent\nrefund now,1,1\nhello,0,maybe\n',
    'cols.jsonl': '{"text":"a","p":1,"q":0}\n{"text":"b","p":0,"q":1}\n',
  });
  assert.deepEqual(await detectLabelColumns(path.join(dir, 'cols.csv')), ['billing', 'urgent']);
  assert.deepEqual(await detectLabelColumns(path.join(dir, 'cols.jsonl')), ['p', 'q']);
  assert.equal(await detectLabelColumns(path.join(dir, 'one.csv')), undefined, 'one column is one binary label');
  assert.equal(await detectLabelColumns(path.join(dir, 'labelled.csv')), undefined, 'a label column wins');
  assert.equal(await detectLabelColumns(path.join(dir, 'bad.csv')), undefined, 'a value other than 0/1');
  assert.equal(await detectLabelColumns(path.join(dir, 'missing.csv')), undefined);
});

test('the check says which task the data asks for, and how its labels or pair are written', async () => {
  const rows = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join('\n') + '\n';
  const dir = writeFiles({
    'single.csv': 'text,label\n' + rows(40, (i) => `text ${i},${i % 2 ? 'pos' : 'neg'}`),
    'lists.jsonl': rows(40, (i) => JSON.stringify({ text: `t ${i}`, labels: i % 3 ? ['a', 'b'] : ['c'] })),
    'separated.csv': 'text,labels\n' + rows(40, (i) => `t ${i},${i % 3 ? 'a|b' : 'c'}`),
    'columns.csv': 'text,billing,urgent\n' + rows(40, (i) => `t ${i},${i % 2},${i % 3 ? 1 : 0}`),
    'scores.csv': 'text,label\n' + rows(40, (i) => `t ${i},${(i / 8).toFixed(3)}`),
    'pairs.csv': 'sentence1,sentence2,label\n' + rows(40, (i) => `a ${i},b ${i},${i % 2}`),
  });
  const check = (name: string) => checkDataset(path.join(dir, name), { tokenizer: null });

  const single = await check('single.csv');
  assert.equal(single.task, 'single-label');
  assert.equal(single.multiLabel, undefined);

  const lists = await check('lists.jsonl');
  assert.equal(lists.task, 'multi-label');
  assert.equal(lists.multiLabel?.format.source, 'list');

  const separated = await check('separated.csv');
  assert.equal(separated.task, 'multi-label');
  assert.deepEqual(separated.multiLabel?.format, { source: 'separator', separator: '|' });
  assert.ok(codes(separated).includes('info:DATA_LABEL_SEPARATOR_DETECTED'));
  assert.deepEqual(separated.labels, { a: 26, b: 26, c: 14 });

  const columns = await check('columns.csv');
  assert.equal(columns.task, 'multi-label');
  assert.deepEqual(columns.multiLabel?.format.labelColumns, ['billing', 'urgent']);
  assert.ok(codes(columns).includes('info:DATA_LABEL_COLUMNS_DETECTED'));
  assert.equal(columns.fatal, false);

  const scores = await check('scores.csv');
  assert.equal(scores.task, 'regression');
  assert.equal(scores.fatal, false, '40 distinct numbers are no 40 single-example classes');
  assert.deepEqual(codes(scores), ['info:DATA_REGRESSION_DETECTED']);
  assert.equal(scores.imbalanceRatio, null);

  const pairs = await check('pairs.csv');
  assert.equal(pairs.task, 'single-label');
  assert.deepEqual([pairs.textColumn, pairs.textPairColumn], ['sentence1', 'sentence2']);
});
