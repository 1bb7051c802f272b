import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { readDataset } from '../../../src/core/data/read';
import { assertDataError, writeFiles } from './helpers';

const labelsOf = (d: { examples: { labels?: string[] }[] }) => d.examples.map((e) => e.labels);

test('JSON Lines with label lists are read as multi-label without being told (integers canonical, [] for none)', async () => {
  const dir = writeFiles({
    'a.jsonl': [
      '{"text": "refund please, now", "labels": ["billing", "urgent", "billing"]}',
      '{"text": "hello", "labels": []}',
      '{"text": "odd label names", "labels": ["__proto__", "constructor"]}',
    ].join('\n'),
    'n.json': '[{"text": "a", "label": [3, "007"]}, {"text": "b", "label": [1]}]',
  });
  const data = await readDataset(path.join(dir, 'a.jsonl'));
  assert.deepEqual(data.multiLabel, { source: 'list' });
  assert.deepEqual(labelsOf(data), [['billing', 'urgent'], [], ['__proto__', 'constructor']]);
  // Equal sets have equal keys, whatever their order.
  assert.equal(data.examples[0].label, JSON.stringify(['billing', 'urgent']));
  const numbers = await readDataset(path.join(dir, 'n.json'));
  assert.equal(numbers.labelKind, 'integer');
  assert.deepEqual(labelsOf(numbers), [['3', '7'], ['1']]);
});

test('a label that is not a list in multi-label JSON stops with file, line and fix', async () => {
  const dir = writeFiles({
    'mixed.jsonl': '{"text": "a", "labels": ["x"]}\n{"text": "b", "labels": "x"}\n',
    'forced.jsonl': '{"text": "a", "label": "x"}\n',
    'late.jsonl': '{"text": "a", "label": "x"}\n{"text": "b", "label": ["x", "y"]}\n',
    'item.jsonl': '{"text": "a", "labels": ["x", {"y": 1}]}\n',
  });
  await assertDataError(() => readDataset(path.join(dir, 'mixed.jsonl')), {
    code: 'DATA_LABEL_NOT_A_LIST',
    file: 'mixed.jsonl',
    line: 2,
    message: ['must be a list', '"x"'],
  });
  await assertDataError(() => readDataset(path.join(dir, 'forced.jsonl'), { multiLabel: true }), {
    code: 'DATA_LABEL_NOT_A_LIST',
    line: 1,
  });
  await assertDataError(() => readDataset(path.join(dir, 'late.jsonl')), {
    code: 'DATA_MIXED_LABEL_TYPES',
    line: 2,
    message: ['line 1'],
  });
  await assertDataError(() => readDataset(path.join(dir, 'item.jsonl')), {
    code: 'DATA_BAD_LABEL',
    line: 1,
    message: ['Item 2', 'an object'],
  });
  // A given separator splits JSON strings too.
  const split = await readDataset(path.join(dir, 'forced.jsonl'), { labelSeparator: ',' });
  assert.deepEqual(labelsOf(split), [['x']]);
});

test('CSV label cells: the separator is detected when one of | and ; is used, given otherwise', async () => {
  const dir = writeFiles({
    'pipe.csv': 'text,labels\nrefund now,billing|urgent\nhi,greeting\nnothing here,\n"both, quoted",a | b | a\n',
    'semi.tsv': 'text\tlabels\nx\ta;b\ny\tc\n',
    'one.csv': 'text,labels\nx,a\ny,b\n',
    'both.csv': 'text,labels\nx,a|b\ny,c;d\nz,e\n',
  });
  const pipe = await readDataset(path.join(dir, 'pipe.csv'), { multiLabel: true });
  assert.deepEqual(pipe.multiLabel, { source: 'separator', separator: '|' });
  assert.deepEqual(labelsOf(pipe), [['billing', 'urgent'], ['greeting'], [], ['a', 'b']]);
  const semi = await readDataset(path.join(dir, 'semi.tsv'), { multiLabel: true });
  assert.deepEqual(labelsOf(semi), [['a', 'b'], ['c']]);
  const one = await readDataset(path.join(dir, 'one.csv'), { multiLabel: true });
  assert.deepEqual(labelsOf(one), [['a'], ['b']]);
  await assertDataError(() => readDataset(path.join(dir, 'both.csv'), { multiLabel: true }), {
    code: 'DATA_AMBIGUOUS_LABEL_SEPARATOR',
    file: 'both.csv',
    line: 3,
    message: ['"|" (first on line 2)', '";" (first on line 3)'],
  });
  // Told which, the other character is part of a label; and a separator alone makes the data multi-label.
  const given = await readDataset(path.join(dir, 'both.csv'), { labelSeparator: '|' });
  assert.deepEqual(labelsOf(given), [['a', 'b'], ['c;d'], ['e']]);
  // Without --task multi-label a CSV stays single-label: "a|b" is one class.
  const single = await readDataset(path.join(dir, 'pipe.csv'), { labelColumn: 'labels', lenient: true });
  assert.equal(single.multiLabel, undefined);
  assert.equal(single.examples[0].label, 'billing|urgent');
});

test('one 0/1 column per label (--label-columns): labels in the order given; another value stops with file, line and fix', async () => {
  const dir = writeFiles({
    'cols.csv': 'text,toxic,obscene,insult\nyou fool,1,0,1\nnice day,0,0,0\nawful,true,1,false\n',
    'bad.csv': 'text,toxic,insult\nok,0,0\nhm,0,maybe\n',
    'bad.jsonl': '{"text": "a", "toxic": 1, "insult": 0.5}\n',
  });
  const data = await readDataset(path.join(dir, 'cols.csv'), { labelColumns: ['insult', 'toxic', 'obscene'] });
  assert.deepEqual(data.multiLabel, { source: 'columns', labelColumns: ['insult', 'toxic', 'obscene'] });
  assert.deepEqual(labelsOf(data), [['insult', 'toxic'], [], ['toxic', 'obscene']]);
  await assertDataError(() => readDataset(path.join(dir, 'bad.csv'), { labelColumns: ['toxic', 'insult'] }), {
    code: 'DATA_BAD_LABEL_COLUMN_VALUE',
    file: 'bad.csv',
    line: 3,
    message: ['"insult"', '"maybe"', 'not 0 or 1'],
  });
  await assertDataError(() => readDataset(path.join(dir, 'bad.jsonl'), { labelColumns: ['toxic', 'insult'] }), {
    code: 'DATA_BAD_LABEL_COLUMN_VALUE',
    line: 1,
    message: ['0.5'],
  });
  await assertDataError(() => readDataset(path.join(dir, 'cols.csv'), { labelColumns: ['toxic', 'rude'] }), {
    code: 'DATA_UNKNOWN_COLUMN',
    line: 1,
    message: ['"rude"'],
  });
  await assertDataError(() => readDataset(path.join(dir, 'cols.csv'), { labelColumns: ['toxic', 'text'] }), {
    code: 'DATA_SAME_COLUMN',
  });
});

test('a folder per class cannot be multi-label', async () => {
  const dir = writeFiles({ 'd/a/1.txt': 'x', 'd/b/2.txt': 'y' });
  await assertDataError(() => readDataset(path.join(dir, 'd'), { multiLabel: true }), {
    code: 'DATA_MULTI_LABEL_FOLDER',
  });
});
