/** Small labelled datasets written to temp folders for the runner tests. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempFolder } from '../../helpers/temp';
import { csvField } from '../../helpers/csv';

export function tempDir(prefix: string): string {
  return tempFolder(`bertft-${prefix}-`);
}

/** `rows` short reviews, half "pos" and half "neg", built from word lists (learnable in a few steps). */
export function writeSentimentCsv(dir: string, rows = 48): string {
  const good = ['great', 'wonderful', 'excellent', 'lovely', 'superb', 'enjoyable'];
  const bad = ['awful', 'terrible', 'boring', 'dreadful', 'poor', 'horrible'];
  const things = ['movie', 'film', 'story', 'acting', 'ending', 'music', 'plot', 'cast'];
  const lines = ['text,label'];
  for (let i = 0; i < rows; i++) {
    const pos = i % 2 === 0;
    const words = pos ? good : bad;
    const text = `the ${things[i % things.length]} was ${words[i % words.length]} and ${words[(i * 7 + 3) % words.length]}, truly ${words[(i * 5 + 1) % words.length]} ${i}`;
    lines.push(`${csvField(text)},${pos ? 'pos' : 'neg'}`);
  }
  const file = path.join(dir, 'reviews.csv');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/** A short from-scratch run's settings on `data`: random:tiny on the CPU, short inputs, a quarter held out. */
export function shortScratchRun(data: string, epochs: number) {
  return { data, model: 'random:tiny', epochs, batchSize: 8, maxLength: 16, validRatio: 0.25, device: 'cpu' as const };
}
