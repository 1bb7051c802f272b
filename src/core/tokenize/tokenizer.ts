/**
 * Loading a tokenizer (tokenizer.json, or a BERT vocab.txt + tokenizer_config.json) and turning text into content
 * token ids. Tokenization itself is @huggingface/tokenizers (pure JS, no native code in the product); special tokens
 * are added by truncation.ts so that every strategy places them the same way.
 */
import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { ModelError } from '../errors';
import { writeFileAtomic } from '../util/files';
import { withoutBom } from '../util/text-file';
import { bertTokenizerJson, parseVocabTxt } from './bertTokenizerJson';
import { byteLevelBpeTokenizerJson, parseMergesTxt, parseVocabJson, type ByteLevelFamily } from './byteLevelBpe';
import { parseSentencePieceModel, sentencePieceTokenizerJson, type SentencePieceFamily } from './sentencePiece';
import { specialTokens } from './specialTokens';
import { makeWordPieceEncoder } from './wordpiece';

/**
 * Long texts are tokenized only as far as needed for the head (or tail): a cut at whitespace leaves every complete
 * word's tokens unchanged (BERT normalisation and pre-tokenisation are local to words). The first try takes this
 * many characters per wanted token (English averages 4–5), and each retry takes this many times more.
 */
const FIRST_CHARS_PER_TOKEN = 6;
const GROWTH = 4;

/**
 * CJK ideographs outside the BMP (Extensions B–F, compatibility supplement), which BertNormalizer surrounds with
 * spaces. @huggingface/tokenizers 0.2.0 tests UTF-16 code units and so misses them (ids then differ from HF's Rust
 * tokenizer, e.g. on mojibake in SpamAssassin); padding them here gives the same result as the Rust normalizer.
 */
const ASTRAL_CJK =
  /[\u{20000}-\u{2A6DF}\u{2A700}-\u{2B73F}\u{2B740}-\u{2B81F}\u{2B820}-\u{2CEAF}\u{2F800}-\u{2FA1F}]/gu;
const ASTRAL_PLANE_2 = /[\uD840-\uD87E]/;

/** The fields of @huggingface/tokenizers' WordPiece model that the faster encoder replaces and reads. */
interface WordPieceModel {
  encode: (words: string[]) => string[];
  tokens_to_ids: Map<string, number>;
  unk_token: string;
  max_input_chars_per_word: number;
  config: { continuing_subword_prefix?: string };
}

/**
 * How the tokenizer's post-processor lays out a pair: prefix, A, middle, B, suffix, with each part's token types
 * (BERT: [CLS] A [SEP] B [SEP], types 0 for [CLS] A [SEP] and 1 for B [SEP]; RoBERTa: <s> A </s></s> B </s>).
 */
export interface PairTemplate {
  prefix: number[];
  middle: number[];
  suffix: number[];
  prefixTypes: number[];
  middleTypes: number[];
  suffixTypes: number[];
  firstType: number;
  secondType: number;
}

export class TextTokenizer {
  private readonly tokenizer: Tokenizer;
  /** Ids the tokenizer puts before / after a single sequence (BERT: [CLS] / [SEP]). */
  readonly prefixIds: number[];
  readonly suffixIds: number[];
  readonly pairTemplate: PairTemplate;
  readonly padId: number;
  readonly vocabSize: number;
  /** WordPiece's continuing-subword prefix (##), or undefined for other models. */
  private readonly continuingPrefix: string | undefined;
  /** Whether CJK ideographs outside the BMP must be split off here (see ASTRAL_CJK). */
  private readonly padsAstralCjk: boolean;

  constructor(
    /** The tokenizer.json object; saved with a run so that inference uses exactly the same tokenizer. */
    readonly tokenizerJson: Record<string, unknown>,
    readonly tokenizerConfig: Record<string, unknown>,
    /** Where it was loaded from, for messages. */
    readonly source: string,
  ) {
    this.tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
    const model = this.tokenizer.model as unknown as WordPieceModel | null;
    const isWordPiece = (tokenizerJson.model as { type?: string } | undefined)?.type === 'WordPiece';
    this.continuingPrefix = isWordPiece ? (model?.config.continuing_subword_prefix ?? '##') : undefined;
    if (isWordPiece && model) {
      model.encode = makeWordPieceEncoder({
        vocab: model.tokens_to_ids,
        unkToken: model.unk_token,
        continuingPrefix: model.config.continuing_subword_prefix ?? '##',
        maxInputCharsPerWord: model.max_input_chars_per_word,
      });
    }
    const probe = 'hello';
    const plain = this.tokenizer.encode(probe, { add_special_tokens: false }).ids;
    const full = this.tokenizer.encode(probe).ids;
    const at = indexOfSequence(full, plain);
    this.prefixIds = at < 0 ? [] : full.slice(0, at);
    this.suffixIds = at < 0 ? [] : full.slice(at + plain.length);
    this.pairTemplate = this.probePairTemplate(probe, plain);
    const padding = tokenizerJson.padding as { pad_id?: number } | null | undefined;
    // GPT-2's tokenizer has no padding token: it pads with its eos token (<|endoftext|>), as GPT-2 configs do.
    const named = specialTokens(tokenizerConfig, { eos_token: '<|endoftext|>' });
    const idOf = (content: string | undefined) =>
      content === undefined ? undefined : this.tokenizer.token_to_id(content);
    this.padId =
      padding?.pad_id ??
      idOf(named.get('pad_token')?.content) ??
      this.tokenizer.token_to_id('[PAD]') ??
      this.tokenizer.token_to_id('<pad>') ??
      idOf(named.get('eos_token')?.content) ??
      0;
    this.vocabSize = this.tokenizer.get_vocab(true).size;
    const normalizer = tokenizerJson.normalizer as { type?: string; handle_chinese_chars?: boolean } | null | undefined;
    this.padsAstralCjk = normalizer?.type === 'BertNormalizer' && normalizer.handle_chinese_chars !== false;
  }

  /** The pair layout, read off the post-processor's encoding of a probe pair. */
  private probePairTemplate(first: string, firstIds: number[]): PairTemplate {
    const second = 'world';
    const secondIds = this.tokenizer.encode(second, { add_special_tokens: false }).ids;
    const full = this.tokenizer.encode(first, { text_pair: second, return_token_type_ids: true });
    const types = full.token_type_ids ?? full.ids.map(() => 0);
    const a = indexOfSequence(full.ids, firstIds);
    const b = a < 0 ? -1 : indexOfSequence(full.ids.slice(a + firstIds.length), secondIds);
    if (b < 0) {
      // A tokenizer without a pair template: single-sequence specials around each part, as HF would do without one.
      const prefixTypes = this.prefixIds.map(() => 0);
      return {
        prefix: this.prefixIds,
        middle: this.suffixIds,
        suffix: this.suffixIds,
        prefixTypes,
        middleTypes: this.suffixIds.map(() => 0),
        suffixTypes: this.suffixIds.map(() => 1),
        firstType: 0,
        secondType: 1,
      };
    }
    const aEnd = a + firstIds.length;
    const bStart = aEnd + b;
    const bEnd = bStart + secondIds.length;
    return {
      prefix: full.ids.slice(0, a),
      middle: full.ids.slice(aEnd, bStart),
      suffix: full.ids.slice(bEnd),
      prefixTypes: types.slice(0, a),
      middleTypes: types.slice(aEnd, bStart),
      suffixTypes: types.slice(bEnd),
      firstType: types[a] ?? 0,
      secondType: types[bStart] ?? 1,
    };
  }

  /** Number of special tokens around a pair of sequences. */
  get pairSpecialCount(): number {
    const t = this.pairTemplate;
    return t.prefix.length + t.middle.length + t.suffix.length;
  }

  /**
   * Whether token `id` continues the word before it: a WordPiece `##` piece, or a byte-level / SentencePiece piece
   * without its word-start mark (Ġ, ▁). Pair truncation needs word ends (see pairs.ts).
   */
  continuesWord(id: number): boolean {
    const token = this.tokenizer.id_to_token(id) ?? '';
    if (this.continuingPrefix !== undefined) return token.startsWith(this.continuingPrefix);
    return !(token.startsWith('\u0120') || token.startsWith('\u2581'));
  }

  /** Number of special tokens around one sequence. */
  get specialCount(): number {
    return this.prefixIds.length + this.suffixIds.length;
  }

  /** All content token ids of `text` (no special tokens). */
  tokenIds(text: string): number[] {
    if (this.padsAstralCjk && ASTRAL_PLANE_2.test(text)) text = text.replace(ASTRAL_CJK, ' $& ');
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  /** The first `n` content ids of `text`, without tokenizing all of a very long text. */
  headIds(text: string, n: number): number[] {
    for (let chars = n * FIRST_CHARS_PER_TOKEN; chars < text.length; chars *= GROWTH) {
      const cut = lastWhitespace(text, chars);
      if (cut <= 0) break;
      const ids = this.tokenIds(text.slice(0, cut));
      if (ids.length >= n) return ids.slice(0, n);
    }
    return this.tokenIds(text).slice(0, n);
  }

  /** The last `n` content ids of `text`, without tokenizing all of a very long text. */
  tailIds(text: string, n: number): number[] {
    if (n <= 0) return [];
    for (let chars = n * FIRST_CHARS_PER_TOKEN; chars < text.length; chars *= GROWTH) {
      const cut = firstWhitespace(text, text.length - chars);
      if (cut <= 0) break;
      const ids = this.tokenIds(text.slice(cut));
      if (ids.length >= n) return ids.slice(ids.length - n);
    }
    const ids = this.tokenIds(text);
    return ids.slice(Math.max(0, ids.length - n));
  }

  /** The vocabulary entry of `id` (with WordPiece's ## or byte-level BPE's Ġ as stored), '' for an unknown id. */
  tokenText(id: number): string {
    return this.tokenizer.id_to_token(id) ?? '';
  }

  /** Token strings, for display and debugging. */
  tokens(text: string): string[] {
    return this.tokenizer.encode(text).tokens;
  }

  /** tokenizer.json and tokenizer_config.json contents, for saving with a trained model. */
  files(): Record<'tokenizer.json' | 'tokenizer_config.json', string> {
    return {
      'tokenizer.json': JSON.stringify(this.tokenizerJson),
      'tokenizer_config.json': JSON.stringify(this.tokenizerConfig, null, 2),
    };
  }
}

/** Write tokenizer.json and tokenizer_config.json into `dir` (each through a temporary sibling and a rename). */
export async function saveTokenizer(tokenizer: TextTokenizer, dir: string): Promise<void> {
  await fsp.mkdir(dir, { recursive: true });
  for (const [name, content] of Object.entries(tokenizer.files())) await writeFileAtomic(path.join(dir, name), content);
}

function indexOfSequence(haystack: number[], needle: number[]): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let k = 0; k < needle.length; k++) if (haystack[i + k] !== needle[k]) continue outer;
    return i;
  }
  return -1;
}

const WHITESPACE = /\s/;
function lastWhitespace(text: string, before: number): number {
  for (let i = Math.min(before, text.length - 1); i > 0; i--) if (WHITESPACE.test(text[i])) return i;
  return -1;
}
function firstWhitespace(text: string, from: number): number {
  const re = /\s/g;
  re.lastIndex = from;
  return re.exec(text)?.index ?? -1;
}

/** The folder holding the shipped bert-base-uncased vocab.txt and tokenizer.json (found from compiled or bundled code). */
export function assetsDir(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'assets');
    if (existsSync(path.join(candidate, 'tokenizer.json'))) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`assets/tokenizer.json not found above ${__dirname}`);
  }
}

async function readJson(file: string): Promise<Record<string, unknown>> {
  const text = (await readBytes(file)).toString('utf8');
  try {
    const value: unknown = JSON.parse(withoutBom(text));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
    return value as Record<string, unknown>;
  } catch (e) {
    throw new ModelError(`${path.basename(file)} is not a valid JSON object.`, {
      file,
      code: 'MODEL_TOKENIZER_INVALID',
      cause: e,
      fix: 'Download the model files again; the file may be truncated.',
    });
  }
}

/** Where a model folder's tokenizer comes from, in the order they are looked for. */
type TokenizerFiles =
  | { kind: 'tokenizer.json'; file: string }
  | { kind: 'vocab.txt'; file: string }
  | { kind: 'byte-level-bpe'; file: string; merges: string }
  | { kind: 'sentencepiece'; file: string };

/** SentencePiece model names, as DeBERTa-v2/v3 (spm.model) and XLM-R (sentencepiece.bpe.model) publish them. */
const SENTENCEPIECE_FILES = ['spm.model', 'sentencepiece.bpe.model'];

/** The tokenizer files of `dir`, or of the file `source` names (a tokenizer.json, vocab.txt, vocab.json, .model). */
function findTokenizerFiles(source: string): { dir: string; files: TokenizerFiles } {
  const name = path.basename(source).toLowerCase();
  const dir = path.dirname(source);
  if (name.endsWith('.txt')) return { dir, files: { kind: 'vocab.txt', file: source } };
  if (name === 'vocab.json') {
    return { dir, files: { kind: 'byte-level-bpe', file: source, merges: path.join(dir, 'merges.txt') } };
  }
  if (name.endsWith('.json')) return { dir, files: { kind: 'tokenizer.json', file: source } };
  if (name.endsWith('.model')) return { dir, files: { kind: 'sentencepiece', file: source } };
  const at = (n: string) => path.join(source, n);
  if (existsSync(at('tokenizer.json')))
    return { dir: source, files: { kind: 'tokenizer.json', file: at('tokenizer.json') } };
  if (existsSync(at('vocab.txt'))) return { dir: source, files: { kind: 'vocab.txt', file: at('vocab.txt') } };
  if (existsSync(at('vocab.json')) && existsSync(at('merges.txt'))) {
    return { dir: source, files: { kind: 'byte-level-bpe', file: at('vocab.json'), merges: at('merges.txt') } };
  }
  const spm = SENTENCEPIECE_FILES.find((n) => existsSync(at(n)));
  if (spm !== undefined) return { dir: source, files: { kind: 'sentencepiece', file: at(spm) } };
  throw new ModelError('No tokenizer in the model folder.', {
    file: source,
    code: 'MODEL_NO_TOKENIZER',
    fix:
      'Use a model folder that includes its tokenizer: tokenizer.json, vocab.txt (BERT), vocab.json + merges.txt ' +
      '(GPT-2, RoBERTa) or spm.model / sentencepiece.bpe.model (DeBERTa-v3, XLM-R); or download the model again.',
  });
}

async function readBytes(file: string): Promise<Buffer> {
  try {
    return await fsp.readFile(file);
  } catch (e) {
    throw new ModelError(`Cannot read ${path.basename(file)}.`, {
      file,
      code: 'MODEL_TOKENIZER_UNREADABLE',
      cause: e,
      fix: 'Check that the model folder is complete (download it again if needed).',
    });
  }
}

/** tokenizer_config.json's `tokenizer_class`, else config.json's `model_type`, else ''. */
async function tokenizerKind(dir: string, config: Record<string, unknown>): Promise<string> {
  if (typeof config.tokenizer_class === 'string') return config.tokenizer_class;
  const modelConfig = path.join(dir, 'config.json');
  if (!existsSync(modelConfig)) return '';
  const modelType = (await readJson(modelConfig)).model_type;
  return typeof modelType === 'string' ? modelType : '';
}

/** A tokenizer.json for vocab.json + merges.txt: RoBERTa's (<s> … </s>) or GPT-2's, by the folder's tokenizer class. */
async function byteLevelBpeJson(
  files: { file: string; merges: string },
  dir: string,
  config: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const vocabText = (await readBytes(files.file)).toString('utf8');
  const mergesText = (await readBytes(files.merges)).toString('utf8');
  const kind = await tokenizerKind(dir, config);
  try {
    const vocab = parseVocabJson(vocabText);
    const family: ByteLevelFamily = /^(roberta|longformer)/i.test(kind)
      ? 'roberta'
      : /^gpt2/i.test(kind)
        ? 'gpt2'
        : '<s>' in vocab && '</s>' in vocab
          ? 'roberta'
          : 'gpt2';
    return byteLevelBpeTokenizerJson(vocab, parseMergesTxt(mergesText), family, config);
  } catch (e) {
    throw new ModelError(`vocab.json and merges.txt cannot be used: ${e instanceof Error ? e.message : String(e)}.`, {
      file: files.file,
      code: 'MODEL_TOKENIZER_INVALID',
      cause: e,
      fix: 'Download the model files again; vocab.json and merges.txt must be those of a GPT-2 or RoBERTa tokenizer.',
    });
  }
}

/** A tokenizer.json for a SentencePiece model: DeBERTa-v2/v3's or XLM-R's, by the folder's tokenizer class. */
async function sentencePieceJson(
  file: string,
  dir: string,
  config: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const bytes = await readBytes(file);
  const kind = await tokenizerKind(dir, config);
  const name = path.basename(file).toLowerCase();
  const family: SentencePieceFamily | undefined = /^deberta-?v2/i.test(kind)
    ? 'deberta-v2'
    : /^xlm-?roberta/i.test(kind)
      ? 'xlm-roberta'
      : kind === '' && name === 'spm.model'
        ? 'deberta-v2'
        : kind === '' && name === 'sentencepiece.bpe.model'
          ? 'xlm-roberta'
          : undefined;
  if (family === undefined) {
    throw new ModelError(`A SentencePiece model of tokenizer class "${kind}" cannot be converted here.`, {
      file,
      code: 'MODEL_TOKENIZER_UNSUPPORTED',
      fix: 'SentencePiece models are read for DeBERTa-v2/v3 and XLM-RoBERTa; for another model, use a folder with its tokenizer.json.',
    });
  }
  try {
    return sentencePieceTokenizerJson(parseSentencePieceModel(bytes), family, config);
  } catch (e) {
    throw new ModelError(`${path.basename(file)} cannot be used: ${e instanceof Error ? e.message : String(e)}.`, {
      file,
      code: 'MODEL_TOKENIZER_INVALID',
      cause: e,
      fix: 'Download the model files again; the file must be a SentencePiece model (ModelProto).',
    });
  }
}

/**
 * A tokenizer from `source`: undefined or 'default' → the shipped bert-base-uncased tokenizer; a folder with
 * tokenizer.json (preferred), vocab.txt (+ tokenizer_config.json `do_lower_case`, default true), vocab.json +
 * merges.txt, or a SentencePiece model; or the path of one of those files itself. A tokenizer built from other
 * files than tokenizer.json lives in memory only (saved with a trained model, never into the model folder).
 */
export async function loadTokenizer(source?: string): Promise<TextTokenizer> {
  const { dir, files } =
    source === undefined || source === 'default'
      ? { dir: assetsDir(), files: { kind: 'tokenizer.json', file: path.join(assetsDir(), 'tokenizer.json') } as const }
      : findTokenizerFiles(source);
  const configFile = path.join(dir, 'tokenizer_config.json');
  const config = existsSync(configFile) ? await readJson(configFile) : {};
  if (files.kind === 'vocab.txt') return bertFromVocabTxt(files.file, config);
  const json =
    files.kind === 'tokenizer.json'
      ? await readJson(files.file)
      : files.kind === 'byte-level-bpe'
        ? await byteLevelBpeJson(files, dir, config)
        : await sentencePieceJson(files.file, dir, config);
  try {
    return new TextTokenizer(json, config, files.file);
  } catch (e) {
    throw new ModelError(
      `This tokenizer (${path.basename(files.file)}) cannot be used: ${e instanceof Error ? e.message : String(e)}.`,
      {
        file: files.file,
        code: 'MODEL_TOKENIZER_INVALID',
        cause: e,
        fix: 'Use a tokenizer.json written by Hugging Face tokenizers, or a vocab.txt for a BERT model.',
      },
    );
  }
}

async function bertFromVocabTxt(file: string, config: Record<string, unknown>): Promise<TextTokenizer> {
  let vocab: string[];
  try {
    vocab = parseVocabTxt(await fsp.readFile(file, 'utf8'));
  } catch (e) {
    throw new ModelError('Cannot read vocab.txt.', {
      file,
      code: 'MODEL_TOKENIZER_UNREADABLE',
      cause: e,
      fix: 'Check that the model folder is complete (download it again if needed).',
    });
  }
  const lowercase = config.do_lower_case === undefined ? true : config.do_lower_case === true;
  try {
    return new TextTokenizer(bertTokenizerJson(vocab, { lowercase }), { do_lower_case: lowercase, ...config }, file);
  } catch (e) {
    throw new ModelError(`This vocab.txt cannot be used: ${e instanceof Error ? e.message : String(e)}.`, {
      file,
      code: 'MODEL_TOKENIZER_INVALID',
      cause: e,
      fix: 'A BERT vocab.txt has one token per line and includes [PAD], [UNK], [CLS], [SEP] and [MASK].',
    });
  }
}
