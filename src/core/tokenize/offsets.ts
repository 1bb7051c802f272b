/**
 * Where each token came from in its text. @huggingface/tokenizers (JS) gives no offsets, so they are found here: a
 * token's surface (WordPiece without its ##, byte-level BPE's bytes decoded, SentencePiece's ▁ as a space) is looked
 * for in the text normalised character by character as the tokenizer's normalizer does (NFKC, lowercase, accents
 * stripped), from where the previous token ended. A token whose surface is not found close after it ([UNK], a byte
 * piece of a character split across tokens) gets null, and the next token is looked for from the same place.
 */
import type { TextTokenizer } from './tokenizer';

/** [start, end) in UTF-16 code units of the text, as String.slice takes them. */
export interface TokenSpan {
  start: number;
  end: number;
}

/** How far past the previous token (in normalised characters, whitespace skipped) a token's surface may start. */
const LOOKAHEAD = 32;
/** What BertNormalizer's clean_text removes: NUL, U+FFFD, and control and format characters but tab and newlines. */
const CLEANED = /^(?![\t\n\r])[\0\uFFFD\p{Cc}\p{Cf}]$/u;
/** What BERT's pre-tokenizer splits off as a word of its own: Unicode punctuation and ASCII symbols. */
const PUNCTUATION = /[\p{P}!-/:-@[-`{-~]/u;

interface Normalization {
  /** BertNormalizer's clean_text: NUL, U+FFFD and control characters dropped. */
  clean: boolean;
  nfkc: boolean;
  lowercase: boolean;
  stripAccents: boolean;
}

/** A byte-level token holding the first bytes of a character that the next tokens complete. */
const PARTIAL = Symbol('partial character');
type Surface = (token: string) => string | null | typeof PARTIAL;

/** The character spans of `ids` (content tokens of `text`, in order, as tokenIds gives them). */
export function tokenOffsets(tokenizer: TextTokenizer, text: string, ids: readonly number[]): (TokenSpan | null)[] {
  const json = tokenizer.tokenizerJson;
  const norm = normalization(json.normalizer);
  const { surface, wordPiece } = surfaceOf(json);
  const { chars, startOf, endOf } = normalizeWithMap(text, norm);
  const unk = (json.model as { unk_token?: string } | undefined)?.unk_token;
  let cursor = 0;
  const spanOf = (id: number): TokenSpan | null | typeof PARTIAL => {
    const token = tokenizer.tokenText(id);
    let from = cursor;
    while (from < chars.length && /\s/.test(chars[from])) from++;
    if (wordPiece && token === unk) {
      // WordPiece makes a whole word [UNK]: the word (or the one punctuation mark) where the text goes on.
      if (from >= chars.length) return null;
      let end = from + 1;
      if (!PUNCTUATION.test(chars[from])) {
        while (end < chars.length && !/\s/.test(chars[end]) && !PUNCTUATION.test(chars[end])) end++;
      }
      cursor = end;
      return { start: startOf[from], end: endOf[end - 1] };
    }
    const raw = surface(token);
    if (raw === PARTIAL) return PARTIAL;
    const wanted = raw === null ? '' : normalizeWithMap(raw, norm).chars.trim();
    if (wanted === '') return null;
    const at = chars.startsWith(wanted, from) ? from : chars.indexOf(wanted, from);
    if (at < 0 || at - from > LOOKAHEAD) return null;
    cursor = at + wanted.length;
    return { start: startOf[at], end: endOf[cursor - 1] };
  };
  const spans: (TokenSpan | null)[] = [];
  let partial: number[] = [];
  for (const id of ids) {
    const span = spanOf(id);
    if (span === PARTIAL) {
      partial.push(spans.length);
      spans.push(null);
      continue;
    }
    // The pieces of a split character share the span of the text their bytes decode to together.
    for (const i of partial) spans[i] = span;
    partial = [];
    spans.push(span);
  }
  return spans;
}

/** The normalizer's per-character steps (a Sequence's members too); anything else is left as the text has it. */
function normalization(normalizer: unknown): Normalization {
  const out: Normalization = { clean: false, nfkc: false, lowercase: false, stripAccents: false };
  const visit = (n: unknown): void => {
    if (typeof n !== 'object' || n === null) return;
    const o = n as {
      type?: string;
      normalizers?: unknown[];
      clean_text?: boolean;
      lowercase?: boolean;
      strip_accents?: boolean | null;
    };
    if (o.type === 'Sequence') o.normalizers?.forEach(visit);
    else if (o.type === 'BertNormalizer') {
      const lower = o.lowercase !== false;
      out.clean ||= o.clean_text !== false;
      out.lowercase ||= lower;
      out.stripAccents ||= o.strip_accents ?? lower;
    } else if (o.type === 'Lowercase') out.lowercase = true;
    else if (o.type === 'StripAccents') out.stripAccents = true;
    else if (o.type === 'NFKC' || o.type === 'NFKD' || o.type === 'Precompiled') out.nfkc = true;
  };
  visit(normalizer);
  return out;
}

/** The text a vocabulary entry stands for, by the tokenizer's model and decoder (null when it is not text). */
function surfaceOf(json: Record<string, unknown>): { surface: Surface; wordPiece: boolean } {
  const model = json.model as { type?: string; continuing_subword_prefix?: string | null } | undefined;
  const kinds = JSON.stringify([json.pre_tokenizer ?? null, json.decoder ?? null]);
  if (model?.type === 'WordPiece') {
    const prefix = model.continuing_subword_prefix ?? '##';
    return { surface: (t) => (t.startsWith(prefix) ? t.slice(prefix.length) : t), wordPiece: true };
  }
  if (kinds.includes('"ByteLevel"')) {
    const decode = new TextDecoder('utf-8', { fatal: true });
    const byteOf = byteLevelDecoder();
    let pending: number[] = [];
    const surface: Surface = (t) => {
      const own = Array.from(t, (ch) => byteOf.get(ch));
      if (own.some((b) => b === undefined)) return null;
      const bytes = pending.concat(own as number[]);
      try {
        pending = [];
        return decode.decode(Uint8Array.from(bytes));
      } catch {
        // The first bytes of a character whose other bytes are in the next tokens (at most 4 bytes in all).
        if (bytes.length >= 4) return null;
        pending = bytes;
        return PARTIAL;
      }
    };
    return { surface, wordPiece: false };
  }
  if (kinds.includes('"Metaspace"')) {
    return { surface: (t) => (/^<0x[0-9A-F]{2}>$/.test(t) ? null : t.replace(/\u2581/g, ' ')), wordPiece: false };
  }
  return { surface: (t) => t, wordPiece: false };
}

/** GPT-2's bytes_to_unicode, inverted: the printable character standing for each byte → the byte. */
function byteLevelDecoder(): Map<string, number> {
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const map = new Map<string, number>();
  let extra = 0;
  for (let b = 0; b < 256; b++) map.set(String.fromCodePoint(printable(b) ? b : 256 + extra++), b);
  return map;
}

/** `text` normalised per code point, with each normalised UTF-16 unit's source span in `text`. */
function normalizeWithMap(text: string, norm: Normalization): { chars: string; startOf: number[]; endOf: number[] } {
  let chars = '';
  const startOf: number[] = [];
  const endOf: number[] = [];
  let i = 0;
  for (const cp of text) {
    let n = norm.clean && CLEANED.test(cp) ? '' : cp;
    if (norm.nfkc) n = n.normalize('NFKC');
    if (norm.lowercase) n = n.toLowerCase();
    if (norm.stripAccents) n = n.normalize('NFD').replace(/\p{Mn}/gu, '');
    chars += n;
    for (let k = 0; k < n.length; k++) {
      startOf.push(i);
      endOf.push(i + cp.length);
    }
    i += cp.length;
  }
  return { chars, startOf, endOf };
}
