/**
 * A faster drop-in for @huggingface/tokenizers' WordPiece `encode`, with the same output: greedy longest-match-first
 * pieces, '##' continuations, [UNK] for a word with an unmatchable part or more than max_input_chars_per_word
 * characters. The library tries every length down from the whole word and joins a character array per try, which
 * made long words (base64, URLs, HTML in mail) dominate tokenization time. Here the longest match is found by one
 * walk down a character trie of the vocabulary, and each word's pieces are cached.
 */

/** Words remembered before the cache is emptied (bounds memory on endless streams of unique words). */
const CACHE_LIMIT = 200_000;

interface TrieNode {
  children: Map<number, TrieNode>;
  /** The vocabulary token ending here, if any. */
  token?: string;
}

function buildTrie(entries: Iterable<[string, string]>): TrieNode {
  const root: TrieNode = { children: new Map() };
  for (const [key, token] of entries) {
    let node = root;
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i);
      let next = node.children.get(c);
      if (next === undefined) {
        next = { children: new Map() };
        node.children.set(c, next);
      }
      node = next;
    }
    node.token = token;
  }
  return root;
}

export interface WordPieceConfig {
  vocab: Map<string, number>;
  unkToken: string;
  continuingPrefix: string;
  maxInputCharsPerWord: number;
}

export function makeWordPieceEncoder(config: WordPieceConfig): (words: string[]) => string[] {
  const { vocab, unkToken, continuingPrefix, maxInputCharsPerWord } = config;
  const tokens = [...vocab.keys()];
  const wordStarts = buildTrie(tokens.map((t) => [t, t]));
  const continuations = buildTrie(
    tokens.filter((t) => t.startsWith(continuingPrefix)).map((t) => [t.slice(continuingPrefix.length), t]),
  );
  const cache = new Map<string, string[]>();

  function piecesOf(word: string): string[] {
    let codePoints = 0;
    for (const _ of word) codePoints++;
    if (codePoints > maxInputCharsPerWord) return [unkToken];
    const pieces: string[] = [];
    let start = 0;
    while (start < word.length) {
      let node: TrieNode | undefined = start === 0 ? wordStarts : continuations;
      let found: string | undefined;
      let foundEnd = start;
      for (let i = start; i < word.length && node !== undefined; i++) {
        node = node.children.get(word.charCodeAt(i));
        if (node?.token !== undefined) {
          found = node.token;
          foundEnd = i + 1;
        }
      }
      if (found === undefined) return [unkToken];
      pieces.push(found);
      start = foundEnd;
    }
    return pieces;
  }

  return (words: string[]) => {
    const out: string[] = [];
    for (const word of words) {
      let pieces = cache.get(word);
      if (pieces === undefined) {
        pieces = piecesOf(word);
        if (cache.size >= CACHE_LIMIT) cache.clear();
        cache.set(word, pieces);
      }
      for (const p of pieces) out.push(p);
    }
    return out;
  };
}
