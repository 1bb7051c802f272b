/**
 * GPT-2 / RoBERTa vocab.json + merges.txt converted to the tokenizer.json that Hugging Face's
 * `GPT2TokenizerFast` / `RobertaTokenizerFast` build from them (transformers' GPT2Converter / RobertaConverter):
 * the ByteLevel pre-tokenizer and decoder, a BPE model with the merges in file order, and for RoBERTa the
 * `<s> … </s>` post-processor.
 */
import { addedTokens, specialTokens, type SpecialTokenRole } from './specialTokens';

export type ByteLevelFamily = 'gpt2' | 'roberta';

const DEFAULT_SPECIALS: Record<ByteLevelFamily, Partial<Record<SpecialTokenRole, string>>> = {
  gpt2: { bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', unk_token: '<|endoftext|>' },
  roberta: {
    bos_token: '<s>',
    eos_token: '</s>',
    unk_token: '<unk>',
    sep_token: '</s>',
    pad_token: '<pad>',
    cls_token: '<s>',
    mask_token: '<mask>',
  },
};

/** vocab.json text → token → id; throws unless it is an object of integer ids. */
export function parseVocabJson(text: string): Record<string, number> {
  const value: unknown = JSON.parse(text.replace(/^\uFEFF/, ''));
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
  for (const [token, id] of Object.entries(value)) {
    if (!Number.isInteger(id) || (id as number) < 0)
      throw new Error(`token ${JSON.stringify(token)} has no integer id`);
  }
  return value as Record<string, number>;
}

/** merges.txt text → merges ("left right", rank order): the "#version" header and blank lines are skipped. */
export function parseMergesTxt(text: string): string[] {
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  const merges: string[] = [];
  lines.forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line === '' || (i === 0 && line.startsWith('#version'))) return;
    const parts = line.split(' ');
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
      throw new Error(`line ${i + 1} is not two tokens separated by one space`);
    }
    merges.push(line);
  });
  return merges;
}

/**
 * The tokenizer.json for a byte-level BPE vocabulary, with tokenizer_config.json's `add_prefix_space` (default
 * false), `add_bos_token` (GPT-2) and special tokens.
 */
export function byteLevelBpeTokenizerJson(
  vocab: Record<string, number>,
  merges: string[],
  family: ByteLevelFamily,
  config: Record<string, unknown>,
): Record<string, unknown> {
  const addPrefixSpace = config.add_prefix_space === true;
  const specials = specialTokens(config, DEFAULT_SPECIALS[family]);
  let next = Math.max(-1, ...Object.values(vocab)) + 1;
  const added = addedTokens(
    [...specials.values()].map((s) => ({ ...s, special: true })),
    (content) => (Object.prototype.hasOwnProperty.call(vocab, content) ? vocab[content] : undefined),
    () => next++,
  );
  const idOf = (role: SpecialTokenRole): [string, number] => {
    const content = specials.get(role)?.content;
    const id = added.find((t) => t.content === content)?.id;
    if (content === undefined || id === undefined) throw new Error(`no ${role} for the ${family} post-processor`);
    return [content, id];
  };

  let postProcessor: Record<string, unknown>;
  if (family === 'roberta') {
    postProcessor = {
      type: 'RobertaProcessing',
      sep: idOf('sep_token'),
      cls: idOf('cls_token'),
      trim_offsets: true,
      add_prefix_space: addPrefixSpace,
    };
  } else if (config.add_bos_token === true) {
    const [bos, bosId] = idOf('bos_token');
    const special = { SpecialToken: { id: bos, type_id: 0 } };
    postProcessor = {
      type: 'TemplateProcessing',
      single: [special, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [special, { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { [bos]: { id: bos, ids: [bosId], tokens: [bos] } },
    };
  } else {
    postProcessor = { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true };
  }

  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: addPrefixSpace, trim_offsets: true, use_regex: true },
    post_processor: postProcessor,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}
