/** Tiny configs, batches and tokenizers of each encoder family, shared by the family tests (no tests in this file). */
import * as ort from 'onnxruntime-node';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BertConfig, ModelFamily, parseBertConfig } from '../../../src/core/model/config';
import { encoderFamily } from '../../../src/core/model/families';
import { encoderParamSpecs, initWeights, Weights } from '../../../src/core/model/params';
import { writeSafetensors } from '../../../src/core/model/safetensors';
import { maskBatch } from '../../../src/core/pretrain/masking';
import { mlmFamily, mlmHead, mlmHeadParamSpecs, wordEmbeddingsName } from '../../../src/core/model/mlm-head';
import { Batch } from '../../../src/core/tokenize/batch';
import { buildStepGraph } from '../../../src/core/train/step-graph';
import { worstStepGradientError } from '../../helpers/step-gradcheck';
import { HYPER, makeBatch } from '../engine/fixtures';

const CLI = path.join(__dirname, '..', '..', '..', '..', 'out', 'src', 'cli.js');

/** HF-style config.json objects of tiny models, in each family's own keys. */
export function tinyConfigJson(
  family: ModelFamily | 'xlm-roberta' | 'electra-projected',
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const bertKeys = {
    vocab_size: 50,
    hidden_size: 16,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    intermediate_size: 32,
    max_position_embeddings: 20,
    type_vocab_size: 2,
    hidden_dropout_prob: 0.1,
    attention_probs_dropout_prob: 0.1,
    layer_norm_eps: 1e-12,
    initializer_range: 0.02,
    pad_token_id: 0,
    hidden_act: 'gelu',
  };
  const base: Record<string, Record<string, unknown>> = {
    bert: { model_type: 'bert', architectures: ['BertForMaskedLM'], ...bertKeys },
    distilbert: {
      model_type: 'distilbert',
      architectures: ['DistilBertForMaskedLM'],
      vocab_size: 50,
      dim: 16,
      n_layers: 2,
      n_heads: 2,
      hidden_dim: 32,
      max_position_embeddings: 20,
      dropout: 0.1,
      attention_dropout: 0.1,
      seq_classif_dropout: 0.2,
      activation: 'gelu',
      initializer_range: 0.02,
      pad_token_id: 0,
      sinusoidal_pos_embds: false,
    },
    roberta: {
      model_type: 'roberta',
      architectures: ['RobertaForMaskedLM'],
      ...bertKeys,
      type_vocab_size: 1,
      pad_token_id: 1,
      bos_token_id: 0,
      eos_token_id: 2,
      max_position_embeddings: 22,
      layer_norm_eps: 1e-5,
    },
    'xlm-roberta': {
      model_type: 'xlm-roberta',
      architectures: ['XLMRobertaForMaskedLM'],
      ...bertKeys,
      type_vocab_size: 1,
      pad_token_id: 1,
      max_position_embeddings: 22,
    },
    electra: { model_type: 'electra', architectures: ['ElectraForPreTraining'], ...bertKeys, embedding_size: 16 },
    'electra-projected': {
      model_type: 'electra',
      architectures: ['ElectraForPreTraining'],
      ...bertKeys,
      embedding_size: 8,
    },
  };
  return { ...base[family], ...overrides };
}

export function tinyFamilyConfig(
  family: Parameters<typeof tinyConfigJson>[0],
  overrides: Record<string, unknown> = {},
): BertConfig {
  return parseBertConfig(tinyConfigJson(family, overrides));
}

/**
 * The engine tests' learnable batch (label 1 when token 7 appears; [CLS]-like id 1 first, padding id 0 after the
 * row's length), in the family's conventions: RoBERTa's <s> is 0 and <pad> 1, so those two ids swap; token types
 * are all 0 where the family has one type or none.
 */
export function familyBatch(cfg: BertConfig, seed: number, batchSize = 8, seqLen = 8): Batch {
  const b = makeBatch(seed, batchSize, seqLen, cfg.vocabSize);
  if (cfg.modelType === 'roberta') b.inputIds = b.inputIds.map((id) => (id === 0n ? 1n : id === 1n ? 0n : id));
  if (cfg.typeVocabSize === 1 || cfg.modelType === 'distilbert')
    b.tokenTypeIds = new BigInt64Array(b.tokenTypeIds.length);
  return b;
}

/** Largest relative error between the analytic gradient and central finite differences (two entries per tensor). */
export async function worstGradientError(
  cfg: BertConfig,
  weights: Weights,
  batch: Batch,
): Promise<{ worst: number; at: string }> {
  const family = encoderFamily(cfg);
  const built = buildStepGraph({ family, numLabels: 2, mode: 'grads', dropout: false, adam: HYPER, maxGradNorm: 1 });
  return worstStepGradientError(built, weights, batch, {
    class_weights: new ort.Tensor('float32', Float32Array.of(1, 1), [2]),
  });
}

/**
 * familyBatch corrupted for masked-LM training (40% of the real tokens chosen, id 4 playing the mask token); labels
 * per token. Both ids the family's batches use for the first token and padding (0 and 1) are special.
 */
export function familyMlmBatch(cfg: BertConfig, seed: number, batchSize = 4, seqLen = 6): Batch {
  return maskBatch(
    familyBatch(cfg, seed, batchSize, seqLen),
    { maskTokenId: 4, vocabSize: cfg.vocabSize, specialIds: new Set([0, 1]), probability: 0.4 },
    seed,
  );
}

/** The same finite-difference check for the family's masked-LM step graph. */
export async function worstMlmGradientError(
  cfg: BertConfig,
  weights: Weights,
  batch: Batch,
): Promise<{ worst: number; at: string }> {
  const built = buildStepGraph({
    family: mlmFamily(cfg),
    numLabels: 0,
    task: 'mlm',
    mode: 'grads',
    dropout: false,
    adam: HYPER,
    maxGradNorm: 1,
  });
  return worstStepGradientError(built, weights, batch);
}

/** GPT-2's byte → printable character map, which byte-level BPE vocabularies are written in. */
export function bytesToUnicode(): string[] {
  const printable = new Set<number>();
  for (let b = 33; b <= 126; b++) printable.add(b);
  for (let b = 161; b <= 172; b++) printable.add(b);
  for (let b = 174; b <= 255; b++) printable.add(b);
  const out: string[] = [];
  let n = 0;
  for (let b = 0; b < 256; b++) out.push(String.fromCodePoint(printable.has(b) ? b : 256 + n++));
  return out;
}

/**
 * A RoBERTa-style byte-level BPE tokenizer.json: <s>=0 <pad>=1 </s>=2 <unk>=3 <mask>=4, all 256 byte symbols, and
 * merges that build the given words, then each word after the leading-space symbol Ġ.
 */
export function byteLevelBpeTokenizerJson(words: string[]): Record<string, unknown> {
  const specials = ['<s>', '<pad>', '</s>', '<unk>', '<mask>'];
  const vocab = new Map<string, number>();
  for (const t of [...specials, ...bytesToUnicode()]) if (!vocab.has(t)) vocab.set(t, vocab.size);
  const merges: string[] = [];
  const merge = (a: string, b: string): void => {
    if (vocab.has(a + b)) return;
    merges.push(`${a} ${b}`);
    vocab.set(a + b, vocab.size);
  };
  for (const word of words) {
    let acc = word[0];
    for (const ch of word.slice(1)) {
      merge(acc, ch);
      acc += ch;
    }
    merge('Ġ', word);
  }
  const added = specials.map((content, id) => ({
    id,
    content,
    single_word: false,
    lstrip: content === '<mask>',
    rstrip: false,
    normalized: false,
    special: true,
  }));
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: {
      type: 'RobertaProcessing',
      sep: ['</s>', 2],
      cls: ['<s>', 0],
      trim_offsets: true,
      add_prefix_space: false,
    },
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
      vocab: Object.fromEntries(vocab),
      merges,
    },
  };
}

/** The words of the tiny tokenizers' vocabularies (and of test/unit/runner/fixtures.ts's writeSentimentCsv reviews). */
export const WORDS = [
  'the',
  'movie',
  'film',
  'story',
  'acting',
  'ending',
  'music',
  'plot',
  'cast',
  'was',
  'and',
  'truly',
  'great',
  'wonderful',
  'excellent',
  'lovely',
  'superb',
  'enjoyable',
  'awful',
  'terrible',
  'boring',
  'dreadful',
  'poor',
  'horrible',
];

/** The RoBERTa-layout tiny tokenizer with ModernBERT's special tokens and post-processor ([CLS] $A [SEP]). */
export function modernbertTokenizerJson(): Record<string, unknown> {
  const names = new Map([
    ['<s>', '[CLS]'],
    ['<pad>', '[PAD]'],
    ['</s>', '[SEP]'],
    ['<unk>', '[UNK]'],
    ['<mask>', '[MASK]'],
  ]);
  const json = byteLevelBpeTokenizerJson(WORDS) as {
    added_tokens: { id: number; content: string }[];
    model: { vocab: Record<string, number> };
  } & Record<string, unknown>;
  for (const t of json.added_tokens) t.content = names.get(t.content) ?? t.content;
  json.model.vocab = Object.fromEntries(Object.entries(json.model.vocab).map(([k, v]) => [names.get(k) ?? k, v]));
  const special = (id: string) => ({ SpecialToken: { id, type_id: 0 } });
  const sequence = (id: 'A' | 'B') => ({ Sequence: { id, type_id: 0 } });
  json.post_processor = {
    type: 'TemplateProcessing',
    single: [special('[CLS]'), sequence('A'), special('[SEP]')],
    pair: [special('[CLS]'), sequence('A'), special('[SEP]'), sequence('B'), special('[SEP]')],
    special_tokens: {
      '[CLS]': { id: '[CLS]', ids: [0], tokens: ['[CLS]'] },
      '[SEP]': { id: '[SEP]', ids: [2], tokens: ['[SEP]'] },
    },
  };
  return json;
}

export type HubFamily = 'distilbert' | 'roberta' | 'electra';

/**
 * Publishes a tiny random pre-trained checkpoint of `family` as Hub repo root/org/tiny-<family>, as real ones look:
 * encoder + a pre-training head, no classifier. Without `mlmHead` the head is a one-tensor stand-in
 * (lm_head.bias / vocab_projector.bias / discriminator_predictions.dense_prediction.bias, shape [1]); with it
 * (RoBERTa, DistilBERT) the whole MLM head, including the tied decoder's copy of the word embeddings that real
 * checkpoints carry (and RoBERTa's lm_head.decoder.bias). An ELECTRA checkpoint is always a discriminator.
 */
export async function publishTinyCheckpoint(
  root: string,
  family: HubFamily,
  options: { mlmHead?: boolean } = {},
): Promise<string> {
  const repo = path.join(root, 'org', `tiny-${family}`);
  fs.mkdirSync(repo, { recursive: true });
  let vocabSize: number;
  if (family === 'roberta') {
    const tokenizer = byteLevelBpeTokenizerJson(WORDS);
    vocabSize = Object.keys((tokenizer.model as { vocab: object }).vocab).length;
    fs.writeFileSync(path.join(repo, 'tokenizer.json'), JSON.stringify(tokenizer));
  } else {
    const digits = [...'0123456789'];
    const vocab = [
      '[PAD]',
      '[UNK]',
      '[CLS]',
      '[SEP]',
      '[MASK]',
      ',',
      ...digits,
      ...digits.map((d) => `##${d}`),
      ...WORDS,
    ];
    vocabSize = vocab.length;
    fs.writeFileSync(path.join(repo, 'vocab.txt'), vocab.join('\n') + '\n');
    fs.writeFileSync(path.join(repo, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: true }));
  }
  const json = tinyConfigJson(family, { vocab_size: vocabSize, max_position_embeddings: 40 });
  fs.writeFileSync(path.join(repo, 'config.json'), JSON.stringify(json));
  const cfg = parseBertConfig(json);
  const weights: Weights = initWeights(encoderParamSpecs(cfg), 3, 0.02);
  if (options.mlmHead && family !== 'electra') {
    for (const [name, t] of initWeights(mlmHeadParamSpecs(cfg), 4, 0.02)) weights.set(name, t);
    const head = mlmHead(cfg);
    weights.set(head.tiedDecoder, weights.get(wordEmbeddingsName(cfg))!);
    for (const [alias, name] of Object.entries(head.aliases)) weights.set(alias, weights.get(name)!);
  } else {
    const headName = {
      distilbert: 'vocab_projector.bias',
      roberta: 'lm_head.bias',
      electra: 'discriminator_predictions.dense_prediction.bias',
    }[family];
    weights.set(headName, { shape: [1], data: new Float32Array(1) });
  }
  await writeSafetensors(path.join(repo, 'model.safetensors'), weights, { format: 'pt' });
  return `org/tiny-${family}`;
}

/** The environment that points the CLI at a loopback Hub server, with its caches in `dir` and online. */
export function hubEnv(serverUrl: string, dir: string): NodeJS.ProcessEnv {
  return {
    HF_ENDPOINT: serverUrl,
    HF_HUB_CACHE: path.join(dir, 'cache'),
    HF_HOME: path.join(dir, 'home'),
    HF_HUB_OFFLINE: '',
  };
}

/** Runs the bertft CLI (out/src/cli.js) without blocking this process (a loopback Hub server may live in it). */
export function bertftAsync(
  env: NodeJS.ProcessEnv,
  ...args: string[]
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
