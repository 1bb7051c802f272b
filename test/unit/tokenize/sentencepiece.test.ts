import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ModelError } from '../../../src/core/errors';
import { int32, protoFields } from '../../../src/core/tokenize/protobuf';
import { parseSentencePieceModel } from '../../../src/core/tokenize/sentencePiece';
import { loadTokenizer, saveTokenizer, type TextTokenizer } from '../../../src/core/tokenize/tokenizer';
import { assertDataError, tempDir, writeFiles } from '../data/helpers';

const FIXTURES = path.resolve(__dirname, '../../../../test/fixtures/tokenizers');

/** Held-out texts and the ids python3-sentencepiece 0.1.97 gave (bench/reference/make_tokenizer_fixtures.py). */
const reference = JSON.parse(readFileSync(path.join(FIXTURES, 'reference.json'), 'utf8')) as {
  texts: string[];
  ids: Record<'deberta-v3' | 'xlm-roberta', number[][]>;
};

const FAMILIES = [
  { name: 'deberta-v3', file: 'deberta-v3/spm.model', toOurs: (id: number) => id, special: [1, 2], pad: 0 },
  // XLM-R's tokenizer keeps fairseq's ids: sentencepiece's <unk> (0) becomes 3, every other piece moves up by one.
  {
    name: 'xlm-roberta',
    file: 'xlm-roberta/sentencepiece.bpe.model',
    toOurs: (id: number) => (id === 0 ? 3 : id + 1),
    special: [0, 2],
    pad: 1,
  },
] as const;

function withSpecials(tok: TextTokenizer, text: string): number[] {
  return [...tok.prefixIds, ...tok.tokenIds(text), ...tok.suffixIds];
}

/** The sum of piece scores of a segmentation (what a unigram model maximises). */
function score(ids: number[], scores: number[]): number {
  return ids.reduce((sum, id) => sum + scores[id], 0);
}

for (const family of FAMILIES) {
  test(`${family.name}: ids of the converted ${path.basename(family.file)} equal sentencepiece's on held-out text`, async () => {
    const dir = path.join(FIXTURES, path.dirname(family.file));
    const tok = await loadTokenizer(dir);
    const model = parseSentencePieceModel(readFileSync(path.join(FIXTURES, family.file)));
    const scores = model.pieces.map((p) => p.score);
    const texts = reference.texts;
    assert.ok(texts.some((t) => /[\u3040-\u30ff]/.test(t)) && texts.some((t) => /\p{Extended_Pictographic}/u.test(t)));
    let exact = 0;
    texts.forEach((text, i) => {
      const expected = reference.ids[family.name][i];
      const ours = tok.tokenIds(text);
      if (JSON.stringify(ours) === JSON.stringify(expected.map(family.toOurs))) {
        exact++;
        return;
      }
      // Hugging Face's Viterbi breaks exact ties differently from sentencepiece's (e.g. "000" as 0+00 or 00+0);
      // any other difference is a conversion error.
      const back = new Map(model.pieces.map((_, id) => [family.toOurs(id), id]));
      const oursInSpm = ours.map((id) => back.get(id) as number);
      assert.ok(Math.abs(score(oursInSpm, scores) - score(expected, scores)) < 1e-3, `text ${i}: ${text.slice(0, 60)}`);
      assert.equal(ours.length, expected.length, `text ${i}`);
    });
    assert.ok(exact >= texts.length - 2, `${exact} of ${texts.length} exactly equal`);
  });

  test(`${family.name}: Hugging Face's Rust tokenizers reads the converted tokenizer.json and agrees, special tokens included`, async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the native reference tokenizer, loaded by this test only
    const { Tokenizer: RustTokenizer } = require('tokenizers') as typeof import('tokenizers');
    const tok = await loadTokenizer(path.join(FIXTURES, family.file));
    const file = path.join(tempDir(), 'tokenizer.json');
    writeFileSync(file, tok.files()['tokenizer.json']);
    const rust = RustTokenizer.fromFile(file);
    const expected = await rust.encodeBatch(reference.texts);
    reference.texts.forEach((text, i) => assert.deepEqual(withSpecials(tok, text), expected[i].getIds(), `text ${i}`));
    assert.deepEqual([tok.prefixIds[0], tok.suffixIds[0], tok.padId], [...family.special, family.pad]);
  });
}

test('DeBERTa-v3: [MASK] is added after the pieces, do_lower_case and split_by_punct come from tokenizer_config.json', async () => {
  const spm = readFileSync(path.join(FIXTURES, 'deberta-v3/spm.model'));
  const plain = await loadTokenizer(writeFiles({ 'spm.model': spm }));
  const count = parseSentencePieceModel(spm).pieces.length;
  assert.equal(plain.vocabSize, count + 1);
  assert.deepEqual(
    plain.tokenIds('a [MASK] b').filter((id) => id === count),
    [count],
  );
  const config = JSON.stringify({ tokenizer_class: 'DebertaV2Tokenizer', do_lower_case: true, split_by_punct: true });
  const lower = await loadTokenizer(writeFiles({ 'spm.model': spm, 'tokenizer_config.json': config }));
  assert.deepEqual(lower.tokenIds('THE PEOPLE'), plain.tokenIds('the people'));
  assert.notDeepEqual(lower.tokenIds('(people)'), plain.tokenIds('(people)'));
});

test('the converted tokenizer is saved with a trained model, never into the model folder', async () => {
  const source = writeFiles({ 'spm.model': readFileSync(path.join(FIXTURES, 'deberta-v3/spm.model')) });
  const tok = await loadTokenizer(source);
  assert.deepEqual(readdirSync(source), ['spm.model']);
  const best = path.join(tempDir(), 'best');
  await saveTokenizer(tok, best);
  assert.deepEqual(readdirSync(best).sort(), ['tokenizer.json', 'tokenizer_config.json']);
  const back = await loadTokenizer(best);
  for (const text of reference.texts.slice(0, 20)) assert.deepEqual(back.tokenIds(text), tok.tokenIds(text));
});

test('a damaged or unknown SentencePiece model is a user error naming the file', async () => {
  const spm = readFileSync(path.join(FIXTURES, 'deberta-v3/spm.model'));
  await assertDataError(
    () => loadTokenizer(writeFiles({ 'spm.model': spm.subarray(0, 5000) })),
    { code: 'MODEL_TOKENIZER_INVALID', file: 'spm.model' },
    ModelError,
  );
  await assertDataError(
    () => loadTokenizer(writeFiles({ 'spm.model': Buffer.from('not a protobuf at all') })),
    { code: 'MODEL_TOKENIZER_INVALID', file: 'spm.model' },
    ModelError,
  );
  await assertDataError(
    () =>
      loadTokenizer(writeFiles({ 'spm.model': spm, 'tokenizer_config.json': '{"tokenizer_class": "T5Tokenizer"}' })),
    { code: 'MODEL_TOKENIZER_UNSUPPORTED', file: 'spm.model', message: ['T5Tokenizer'] },
    ModelError,
  );
});

test('protobuf reader: varints, negative int32, truncation', () => {
  // field 40 (varint) = -1 as protobuf writes an int32: ten bytes; field 1 (bytes) = "ab"
  const bytes = Uint8Array.from([0xc0, 0x02, ...new Array<number>(9).fill(0xff), 0x01, 0x0a, 0x02, 0x61, 0x62]);
  const fields = [...protoFields(bytes)];
  assert.deepEqual(
    fields.map((f) => [f.field, f.wire]),
    [
      [40, 0],
      [1, 2],
    ],
  );
  assert.equal(int32(fields[0].varint), -1);
  assert.deepEqual([...fields[1].bytes], [0x61, 0x62]);
  assert.throws(() => [...protoFields(bytes.subarray(0, bytes.length - 1))], /truncated/);
});
