import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { readDataset } from '../../../src/core/data/read';
import { detectColumns } from '../../../src/core/data/columns';
import { checkDataset, formatCheckReport } from '../../../src/core/data/check';
import { assertDataError, writeFiles } from './helpers';

test('pair columns are detected by common names only when no single text column is there', () => {
  assert.deepEqual(detectColumns(['sentence1', 'sentence2', 'label']), {
    text: 'sentence1',
    textPair: 'sentence2',
    label: 'label',
  });
  assert.deepEqual(detectColumns(['Question', 'answer', 'label']), {
    text: 'Question',
    textPair: 'answer',
    label: 'label',
  });
  assert.deepEqual(detectColumns(['premise', 'hypothesis', 'label']).textPair, 'hypothesis');
  assert.deepEqual(detectColumns(['text_a', 'text_b', 'label']).textPair, 'text_b');
  // A plain text column wins: such a file stays a single-text task unless the pair column is named.
  assert.deepEqual(detectColumns(['text', 'question', 'answer', 'label']), { text: 'text', label: 'label' });
  assert.deepEqual(detectColumns(['text', 'context', 'label'], { textPairColumn: 'context' }), {
    text: 'text',
    textPair: 'context',
    label: 'label',
  });
  // Naming the text column turns detection off.
  assert.deepEqual(detectColumns(['sentence1', 'sentence2', 'label'], { textColumn: 'sentence2' }), {
    text: 'sentence2',
    label: 'label',
  });
  assert.throws(
    () => detectColumns(['text', 'label'], { textPairColumn: 'nope' }),
    /no second text column named "nope"/,
  );
  assert.throws(() => detectColumns(['text', 'label'], { textPairColumn: 'label' }), /already holds the label/);
});

test('an empty second text is a DataError naming the file, the line and the fix; check lists every such row', async () => {
  const dir = writeFiles({
    'nli.csv': 'premise,hypothesis,label\nA man plays.,Someone plays.,entailment\nA dog sleeps.,,contradiction\n',
    'nli.jsonl':
      '{"sentence1": "a", "sentence2": "b", "label": 1}\n{"sentence1": "c", "sentence2": null, "label": 0}\n',
  });
  await assertDataError(() => readDataset(path.join(dir, 'nli.csv')), {
    code: 'DATA_MISSING_TEXT_PAIR',
    file: 'nli.csv',
    line: 3,
    message: ['"hypothesis"'],
  });
  await assertDataError(() => readDataset(path.join(dir, 'nli.jsonl')), {
    code: 'DATA_MISSING_TEXT_PAIR',
    file: 'nli.jsonl',
    line: 2,
  });
  const report = await checkDataset(path.join(dir, 'nli.csv'), { tokenizer: null });
  assert.equal(report.fatal, true);
  assert.equal(report.textPairColumn, 'hypothesis');
  assert.deepEqual(
    report.problems.filter((p) => p.code === 'DATA_MISSING_TEXT_PAIR').map((p) => p.line),
    [3],
  );
});

test('the check says which pair it detected and counts pair lengths (both texts and the specials)', async () => {
  const rows = ['sentence1\tsentence2\tlabel'];
  for (let i = 0; i < 20; i++) rows.push(`the cat sat on the mat ${i}\ta dog ${'ran far '.repeat(i)}\t${i % 2}`);
  const file = path.join(writeFiles({ 'pairs.tsv': rows.join('\n') + '\n' }), 'pairs.tsv');
  const data = await readDataset(file);
  assert.equal(data.textPairColumn, 'sentence2');
  assert.equal(data.examples[3].textPair, 'a dog ran far ran far ran far ');
  const report = await checkDataset(file, { maxLength: 16 });
  const text = formatCheckReport(report);
  assert.match(text, /text: "sentence1", second text: "sentence2", label: "label"/);
  assert.match(text, /Text pairs: each row is "sentence1" with "sentence2"/);
  // [CLS] 7 tokens [SEP] 2 + 2i tokens [SEP]: the median pair (i = 10) has 3 + 7 + 22 = 32 tokens.
  assert.equal(report.tokenLengths?.median, 32);
  assert.ok(report.problems.some((p) => p.code === 'DATA_TRUNCATION' && /of pairs are longer than 16/.test(p.message)));
});
