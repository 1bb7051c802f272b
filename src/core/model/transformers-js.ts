/**
 * What transformers.js (@huggingface/transformers) needs to load a model folder as it is, beside the HF layout:
 *  - the ONNX model under onnx/: model.onnx for dtype 'fp32' (its default in Node), model_quantized.onnx for 'q8'.
 *    Our inference graph already has the names its sequence-classification models feed and read (input_ids,
 *    attention_mask, token_type_ids → logits; it feeds only the inputs a session declares, zeros for a missing
 *    token_type_ids). The file is a hard link to the folder's own model.onnx, which our predictor and other tools
 *    read, so it costs no disk space (a copy where the file system has no hard links).
 *  - tokenizer_config.json naming the tokenizer class and the special tokens: transformers.js takes them from there
 *    (no class defaults as Python's tokenizers have), and pads with `undefined` when pad_token is missing.
 * Only missing keys are added: a base model's own tokenizer_config.json values stay as they are.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TextTokenizer } from '../tokenize/tokenizer';
import { linkOrCopyAtomic, writeJsonAtomic } from '../util/files';
import { withoutBom } from '../util/text-file';

/** The folder transformers.js loads ONNX models from, and its file names per dtype. */
export const TRANSFORMERS_JS_DIR = 'onnx';
export const TRANSFORMERS_JS_FP32 = 'model.onnx';
export const TRANSFORMERS_JS_Q8 = 'model_quantized.onnx';

const TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';

/** config.json model_type → the tokenizer class transformers.js (and Python's AutoTokenizer) picks by name. */
const TOKENIZER_CLASSES: ReadonlyMap<string, string> = new Map([
  ['bert', 'BertTokenizer'],
  ['distilbert', 'DistilBertTokenizer'],
  ['roberta', 'RobertaTokenizer'],
  ['xlm-roberta', 'XLMRobertaTokenizer'],
  ['electra', 'ElectraTokenizer'],
  ['gpt2', 'GPT2Tokenizer'],
]);

const MASK_TOKENS = ['[MASK]', '<mask>'];

interface AddedToken {
  id?: unknown;
  content?: unknown;
  special?: unknown;
}

/** The token string of `id` in a tokenizer.json: an added token, else the model's vocabulary. */
function tokenOfId(json: Record<string, unknown>, id: number | undefined): string | undefined {
  if (id === undefined) return undefined;
  const added = (Array.isArray(json.added_tokens) ? (json.added_tokens as AddedToken[]) : []).find((t) => t.id === id);
  if (typeof added?.content === 'string') return added.content;
  const vocab = (json.model as { vocab?: unknown } | undefined)?.vocab;
  // Unigram: [[piece, score], …] indexed by id; WordPiece and BPE: { token: id }.
  if (Array.isArray(vocab)) {
    const entry: unknown = vocab[id];
    return Array.isArray(entry) && typeof entry[0] === 'string' ? entry[0] : undefined;
  }
  if (vocab && typeof vocab === 'object') {
    for (const [token, value] of Object.entries(vocab)) if (value === id) return token;
  }
  return undefined;
}

/** The tokenizer's unknown token: WordPiece and BPE name it, Unigram gives its id. */
function unkToken(json: Record<string, unknown>): string | undefined {
  const model = json.model as { unk_token?: unknown; unk_id?: unknown } | undefined;
  if (typeof model?.unk_token === 'string') return model.unk_token;
  return typeof model?.unk_id === 'number' ? tokenOfId(json, model.unk_id) : undefined;
}

function maskToken(json: Record<string, unknown>): string | undefined {
  const added = Array.isArray(json.added_tokens) ? (json.added_tokens as AddedToken[]) : [];
  const mask = added.find(
    (t) => t.special === true && typeof t.content === 'string' && MASK_TOKENS.includes(t.content),
  );
  return mask?.content as string | undefined;
}

/**
 * `tokenizer`'s tokenizer_config.json with what transformers.js reads added where missing: tokenizer_class (from
 * `modelType`, config.json's model_type) and the pad, unknown, classifier, separator and mask tokens, the ones our
 * own tokenizer uses (its padding id, the tokens it puts around a sequence).
 */
export function transformersJsTokenizerConfig(
  tokenizer: TextTokenizer,
  modelType: string | undefined,
): Record<string, unknown> {
  const json = tokenizer.tokenizerJson;
  const found: [string, string | undefined][] = [
    ['tokenizer_class', modelType === undefined ? undefined : TOKENIZER_CLASSES.get(modelType)],
    ['pad_token', tokenOfId(json, tokenizer.padId)],
    ['unk_token', unkToken(json)],
    ['cls_token', tokenOfId(json, tokenizer.prefixIds[0])],
    ['sep_token', tokenOfId(json, tokenizer.suffixIds[tokenizer.suffixIds.length - 1])],
    ['mask_token', maskToken(json)],
  ];
  const config: Record<string, unknown> = { ...tokenizer.tokenizerConfig };
  for (const [key, value] of found) if (value !== undefined && !Object.hasOwn(config, key)) config[key] = value;
  return config;
}

function modelTypeOf(dir: string): string | undefined {
  const config = JSON.parse(withoutBom(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'))) as unknown;
  const type = (config as { model_type?: unknown } | null)?.model_type;
  return typeof type === 'string' ? type : undefined;
}

/**
 * Make the model folder `dir` (being written: config.json, tokenizer files and `onnxFile` already there) loadable by
 * transformers.js: onnx/`name` as a second name of `onnxFile` (TRANSFORMERS_JS_FP32 or TRANSFORMERS_JS_Q8), and
 * tokenizer_config.json completed for `tokenizer`, the folder's own.
 */
export async function writeTransformersJsFiles(
  dir: string,
  tokenizer: TextTokenizer,
  onnxFile: string,
  name: string,
): Promise<void> {
  const config = transformersJsTokenizerConfig(tokenizer, modelTypeOf(dir));
  await writeJsonAtomic(path.join(dir, TOKENIZER_CONFIG_FILE), config);
  await fs.promises.mkdir(path.join(dir, TRANSFORMERS_JS_DIR), { recursive: true });
  await linkOrCopyAtomic(onnxFile, path.join(dir, TRANSFORMERS_JS_DIR, name));
}
