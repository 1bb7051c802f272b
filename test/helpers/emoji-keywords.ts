/**
 * Real multi-label data a package ships: emojilib's keyword annotations (npm emojilib 4.0.3, MIT, a devDependency).
 * Each emoji's name ("grinning_face") is the text, and the keywords given to at least `minEmoji` emoji, other than
 * words of the names in most of them ("face", "flag", "woman" are), are its labels: animal, nature, food, vehicle,
 * weather, country, …
 */
import { createRng, shuffleInPlace } from '../../src/core/util/random';

export interface EmojiRow {
  text: string;
  labels: string[];
}

/** The labels (in the order first met) and every emoji's row, shuffled by a fixed seed. */
export function emojiKeywordRows(minEmoji = 40): { labels: string[]; rows: EmojiRow[] } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a devDependency, loaded here only
  const table = require('emojilib/dist/emoji-en-US.json') as Record<string, string[]>;
  const entries = [...new Map(Object.entries(table)).values()];
  const count = new Map<string, number>();
  const inName = new Map<string, number>();
  for (const [name, ...keywords] of entries) {
    const words = name.split('_');
    for (const k of new Set(keywords)) {
      count.set(k, (count.get(k) ?? 0) + 1);
      if (words.includes(k)) inName.set(k, (inName.get(k) ?? 0) + 1);
    }
  }
  const labels = [...count].filter(([k, n]) => n >= minEmoji && (inName.get(k) ?? 0) < n / 2).map(([k]) => k);
  const rows = entries.map(([name, ...keywords]) => ({
    text: name.replace(/_/g, ' '),
    labels: labels.filter((l) => keywords.includes(l)),
  }));
  shuffleInPlace(rows, createRng(0, 5));
  return { labels, rows };
}
