/**
 * npm run bench:tokenize — our tokenization (@huggingface/tokenizers, pure JS, through src/core/tokenize) against the
 * Rust `tokenizers` npm package on the same SpamAssassin bodies with the same tokenizer.json and settings; ids are
 * asserted identical. Settings: `head512` (head truncation at 512, what training uses) and `full` (no truncation).
 * Rust is timed with encodeBatch (its fastest, multi-threaded path) and also one text at a time.
 * Last stdout line: one JSON object; `ratio` = our time / the faster Rust path's time, for head512.
 * Usage: node out/bench/tokenize.js [texts=6046]
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { Tokenizer as RustTokenizer } from 'tokenizers';
import { assetsDir, loadTokenizer, type TextTokenizer } from '../src/core/tokenize/tokenizer';
import { encodeText } from '../src/core/tokenize/truncation';
import { spamAssassin } from '../test/unit/data/helpers';

const MAX_LENGTH = 512;

function ours(tok: TextTokenizer, texts: string[], truncate: boolean): number[][] {
  return texts.map((t) =>
    truncate
      ? [...encodeText(tok, t, { maxLength: MAX_LENGTH })[0]]
      : [...tok.prefixIds, ...tok.tokenIds(t), ...tok.suffixIds],
  );
}

async function rustBatch(rust: RustTokenizer, texts: string[]): Promise<number[][]> {
  return (await rust.encodeBatch(texts)).map((e) => e.getIds());
}

async function rustOneByOne(rust: RustTokenizer, texts: string[]): Promise<number[][]> {
  const out: number[][] = [];
  for (const t of texts) out.push((await rust.encode(t)).getIds());
  return out;
}

async function time<T>(run: () => T | Promise<T>): Promise<{ ms: number; result: T }> {
  const start = process.hrtime.bigint();
  const result = await run();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, result };
}

function assertSame(a: number[][], b: number[][], what: string): void {
  if (a.length !== b.length) throw new Error(`${what}: ${a.length} vs ${b.length} texts`);
  a.forEach((ids, i) => {
    if (ids.length !== b[i].length || ids.some((x, k) => x !== b[i][k]))
      throw new Error(`${what}: ids differ for text ${i}`);
  });
}

async function main(): Promise<void> {
  const limit = Number(process.argv[2] ?? Infinity);
  const texts = spamAssassin()
    .map((m) => m.body)
    .slice(0, limit);
  const chars = texts.reduce((s, t) => s + t.length, 0);
  const tok = await loadTokenizer();
  const rust = RustTokenizer.fromFile(path.join(assetsDir(), 'tokenizer.json'));
  const warm = texts.slice(0, 300);
  ours(tok, warm, true);
  await rustBatch(rust, warm);
  await rustOneByOne(rust, warm);

  const results: Record<string, unknown> = {};
  let headRatio = 0;
  for (const [setting, truncate] of [
    ['head512', true],
    ['full', false],
  ] as const) {
    if (truncate) rust.setTruncation(MAX_LENGTH);
    else rust.disableTruncation();
    const mine = await time(() => ours(tok, texts, truncate));
    const batch = await time(() => rustBatch(rust, texts));
    const single = await time(() => rustOneByOne(rust, texts));
    assertSame(mine.result, batch.result, `${setting} ours vs rust encodeBatch`);
    assertSame(mine.result, single.result, `${setting} ours vs rust encode`);
    const tokens = mine.result.reduce((s, ids) => s + ids.length, 0);
    const perSec = (ms: number) => Math.round((texts.length / ms) * 1000);
    const tokPerSec = (ms: number) => Math.round((tokens / ms) * 1000);
    console.log(`${setting}: ${texts.length} texts, ${tokens} tokens (ids identical)`);
    console.log(
      `  ours (@huggingface/tokenizers JS) ${mine.ms.toFixed(0).padStart(7)} ms  ${perSec(mine.ms)} texts/s  ${tokPerSec(mine.ms)} tokens/s`,
    );
    console.log(
      `  rust tokenizers encodeBatch       ${batch.ms.toFixed(0).padStart(7)} ms  ${perSec(batch.ms)} texts/s  ${tokPerSec(batch.ms)} tokens/s`,
    );
    console.log(
      `  rust tokenizers encode one by one ${single.ms.toFixed(0).padStart(7)} ms  ${perSec(single.ms)} texts/s  ${tokPerSec(single.ms)} tokens/s`,
    );
    results[setting] = {
      tokens,
      oursMs: Math.round(mine.ms),
      rustBatchMs: Math.round(batch.ms),
      rustSingleMs: Math.round(single.ms),
      oursTextsPerSec: perSec(mine.ms),
      rustBatchTextsPerSec: perSec(batch.ms),
      rustSingleTextsPerSec: perSec(single.ms),
      oursTokensPerSec: tokPerSec(mine.ms),
      rustBatchTokensPerSec: tokPerSec(batch.ms),
      ratio: Number((mine.ms / Math.min(batch.ms, single.ms)).toFixed(3)),
      ratioVsBatch: Number((mine.ms / batch.ms).toFixed(3)),
      ratioVsSingle: Number((mine.ms / single.ms).toFixed(3)),
    };
    if (truncate) headRatio = mine.ms / Math.min(batch.ms, single.ms);
  }
  console.log(
    JSON.stringify({
      bench: 'tokenize',
      texts: texts.length,
      chars,
      maxLength: MAX_LENGTH,
      cpus: os.cpus().length,
      loadavg1: Number(os.loadavg()[0].toFixed(2)),
      ratio: Number(headRatio.toFixed(3)),
      ...results,
    }),
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
