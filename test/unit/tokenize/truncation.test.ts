import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { loadTokenizer, type TextTokenizer } from '../../../src/core/tokenize/tokenizer';
import {
  contentBudget,
  encodeDocuments,
  encodeText,
  tokenLength,
  windowStarts,
} from '../../../src/core/tokenize/truncation';
import { poolLogits } from '../../../src/core/tokenize/pool';
import { spamAssassin } from '../data/helpers';

let tok: TextTokenizer;
before(async () => {
  tok = await loadTokenizer();
});

const words = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `w${from + i}`).join(' ');

test('head: first maxLength-2 content tokens between [CLS] and [SEP]; short texts unchanged', () => {
  const text = 'I love transformers! '.repeat(100);
  const all = tok.tokenIds(text);
  const [row] = encodeText(tok, text, { maxLength: 16 });
  assert.deepEqual([...row], [101, ...all.slice(0, 14), 102]);
  assert.deepEqual(
    encodeText(tok, 'I love transformers!', { maxLength: 512 }).map((r) => [...r]),
    [[101, 1045, 2293, 19081, 999, 102]],
  );
  assert.deepEqual(
    encodeText(tok, '', { maxLength: 8 }).map((r) => [...r]),
    [[101, 102]],
  );
});

test('head and tail of long SpamAssassin mails equal slices of the full tokenization', () => {
  const long = spamAssassin()
    .map((m) => m.body)
    .filter((b) => b.length > 20_000)
    .slice(0, 8);
  assert.ok(long.length >= 4);
  for (const text of long) {
    const all = tok.tokenIds(text);
    assert.deepEqual(tok.headIds(text, 126), all.slice(0, 126));
    assert.deepEqual(tok.tailIds(text, 100), all.slice(all.length - 100));
    assert.equal(tokenLength(tok, text), all.length + 2);
    assert.equal(tokenLength(tok, text, 129), 130);
  }
});

test('head+tail: a quarter of the budget from the start, the rest from the end', () => {
  const text = words(1000);
  const all = tok.tokenIds(text);
  const [row] = encodeText(tok, text, { maxLength: 66, strategy: 'head+tail' });
  assert.equal(row.length, 66);
  assert.deepEqual([...row], [101, ...all.slice(0, 16), ...all.slice(all.length - 48), 102]);
  const [custom] = encodeText(tok, text, { maxLength: 12, strategy: 'head+tail', headShare: 0.5 });
  assert.deepEqual([...custom], [101, ...all.slice(0, 5), ...all.slice(all.length - 5), 102]);
  const short = 'a short text';
  assert.deepEqual(
    encodeText(tok, short, { maxLength: 66, strategy: 'head+tail' }),
    encodeText(tok, short, { maxLength: 66 }),
  );
});

test('window: overlapping chunks cover every token, stride tokens shared', () => {
  const text = words(300);
  const all = tok.tokenIds(text);
  const rows = encodeText(tok, text, { maxLength: 66, strategy: 'window', stride: 16 });
  const budget = contentBudget(tok, 66);
  const starts = windowStarts(all.length, budget, 16);
  assert.equal(rows.length, starts.length);
  rows.forEach((r, i) => {
    assert.deepEqual([...r], [101, ...all.slice(starts[i], starts[i] + budget), 102]);
    if (i > 0)
      assert.deepEqual([...r.slice(1, 17)], [...rows[i - 1].slice(rows[i - 1].length - 17, rows[i - 1].length - 1)]);
  });
  assert.equal(starts[starts.length - 1] + budget >= all.length, true);
  assert.equal(encodeText(tok, text, { maxLength: 66, strategy: 'window', maxChunks: 2 }).length, 2);
  assert.equal(encodeText(tok, 'short', { maxLength: 66, strategy: 'window' }).length, 1);
  assert.throws(() => windowStarts(100, 10, 10), /stride/);
  assert.throws(() => encodeText(tok, 'x', { maxLength: 2 }), /maxLength/);
});

test('encodeDocuments: rows in document order with docIndex and label; windows share them', () => {
  const rows = encodeDocuments(
    tok,
    [words(5), words(200), ''],
    { maxLength: 34, strategy: 'window', stride: 8 },
    [1, 0, 1],
  );
  const docs = rows.map((r) => r.docIndex);
  assert.deepEqual(
    docs,
    [...docs].sort((a, b) => a - b),
  );
  assert.ok(docs.filter((d) => d === 1).length > 1);
  assert.deepEqual([...new Set(docs)], [0, 1, 2]);
  assert.ok(rows.every((r) => r.label === [1, 0, 1][r.docIndex]));
  assert.ok(encodeDocuments(tok, ['a'], { maxLength: 8 }).every((r) => r.label === -1));
  assert.throws(() => encodeDocuments(tok, ['a', 'b'], { maxLength: 8 }, [0]), RangeError);
});

test("poolLogits: mean of each document's rows", () => {
  const logits = new Float32Array([1, 2, 3, 4, 10, 20, 5, 7]);
  const pooled = poolLogits(logits, new Int32Array([0, 0, 1, 0]), 2, 2);
  assert.deepEqual([...pooled], [(1 + 3 + 5) / 3, (2 + 4 + 7) / 3, 10, 20].map(Math.fround));
  assert.throws(() => poolLogits(logits, new Int32Array([0, 0, 0, 0]), 2, 2), /document 1 has no rows/);
  assert.throws(() => poolLogits(logits, new Int32Array([0, 5, 1, 1]), 2, 2), /docIndex 5/);
  assert.throws(() => poolLogits(logits, new Int32Array([0, 1]), 2, 2), /expected 2 rows/);
});
