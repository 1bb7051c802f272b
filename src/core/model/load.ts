/**
 * Hugging Face model folders: `config.json` + weights in (model.safetensors, sharded safetensors, pytorch_model.bin:
 * ./weights-file.ts), `config.json` + `model.safetensors` (plus labels) out.
 *
 * Loading follows <Family>ForSequenceClassification.from_pretrained (family from config.json): checkpoint names may
 * carry the base prefix (`bert.`, `distilbert.`, `roberta.`, `electra.`) or not (a bare base model), old TF-style
 * `LayerNorm.gamma/beta` are renamed, other models' task heads (`cls.*`, `lm_head.*`, `qa_outputs.*`) and integer
 * buffers (`position_ids`) are ignored, and the task head (BERT's pooler too) is freshly initialised (normal, std =
 * initializer_range; zero bias) when the checkpoint has none or its label count differs. Anything else missing,
 * unexpected or of the wrong shape is a ModelError, because training on a silently half-loaded encoder wastes hours.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ModelError } from '../errors';
import {
  BertConfig,
  ModelFamily,
  hfClassifierIdentity,
  hfConfigValues,
  maxSequenceLength,
  parseBertConfig,
} from './config';
import {
  BASE_PREFIX,
  CLASSIFIER_OUTPUT,
  classifierParamSpecs,
  initWeights,
  ParamSpec,
  Tensor,
  Weights,
} from './params';
import { writeFileAtomicWith } from '../util/files';
import { memberModelDirs } from '../run/paths';
import { withoutBom } from '../util/text-file';
import { writeSafetensors } from './safetensors';
import { SAFETENSORS_FILE, findWeights, readWeightNames, readWeights } from './weights-file';

export const CONFIG_FILE = 'config.json';
/** The file the weights we write go to. */
export const WEIGHTS_FILE = SAFETENSORS_FILE;

/** Parameters from_pretrained re-initialises instead of failing when the checkpoint lacks them: the task head. */
const FRESH_IF_MISSING: Record<ModelFamily, string[]> = {
  bert: ['bert.pooler.', 'classifier.'],
  distilbert: ['pre_classifier.', 'classifier.'],
  roberta: ['classifier.'],
  electra: ['classifier.'],
  gpt2: ['score.'],
  // A ModernBertForMaskedLM checkpoint's head (dense, norm) is the classifier's head too; decoder.* is ignored.
  modernbert: ['head.', 'classifier.'],
  'deberta-v2': ['pooler.', 'classifier.'],
};

/** Head tensors of this family's classifier, which sit outside the base prefix. */
function isClassifierHead(name: string, family: ModelFamily): boolean {
  if (family === 'gpt2') return name.startsWith('score.');
  if (family === 'modernbert') return name.startsWith('head.') || name.startsWith('classifier.');
  if (family === 'deberta-v2') return name.startsWith('pooler.') || name.startsWith('classifier.');
  return name.startsWith('classifier.') || name.startsWith('pre_classifier.');
}

/** GPT-2 checkpoints of older transformers carry each block's causal-mask buffers (h.N.attn.bias, attn.masked_bias). */
function isGpt2MaskBuffer(name: string): boolean {
  return /(^|\.)h\.\d+\.attn\.(masked_)?bias$/.test(name);
}

/**
 * Checkpoint name → our (HF *ForSequenceClassification) name, or undefined for tensors a classifier ignores.
 * As in from_pretrained: in a checkpoint that uses the base prefix (`bert.`, `roberta.` …), other un-prefixed names
 * are task heads of another model class (qa_outputs, cls.*, lm_head.*) and are ignored; in one that does not, every
 * name is the encoder's. A RoBERTa / ELECTRA base model's pooler is not part of their classifiers and is ignored too.
 */
function canonicalName(name: string, prefixed: boolean, family: ModelFamily): string | undefined {
  const base = BASE_PREFIX[family];
  if (name.endsWith('position_ids') || name.startsWith('cls.')) return undefined;
  if (family === 'gpt2' && isGpt2MaskBuffer(name)) return undefined;
  // DeBERTa-v3 does not use absolute positions (position_biased_input false); from_pretrained ignores such a table.
  if (family === 'deberta-v2' && name.endsWith('embeddings.position_embeddings.weight')) return undefined;
  let n: string;
  if (name.startsWith(`${base}.`) || isClassifierHead(name, family)) n = name;
  else if (prefixed) return undefined;
  else n = `${base}.${name}`;
  if (family !== 'bert' && n.startsWith(`${base}.pooler.`)) return undefined;
  return n.replace(/LayerNorm\.gamma$/, 'LayerNorm.weight').replace(/LayerNorm\.beta$/, 'LayerNorm.bias');
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function listForMessage(names: string[]): string {
  const shown = names.slice(0, 8).join(', ');
  return names.length > 8 ? `${shown} and ${names.length - 8} more` : shown;
}

async function readConfigJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw new ModelError(`The model folder has no readable ${CONFIG_FILE}.`, {
      file,
      code: 'MODEL_NO_CONFIG',
      fix: 'Point to a Hugging Face BERT model folder (config.json + model.safetensors), e.g. one saved by save_pretrained.',
      cause: e,
    });
  }
  try {
    return JSON.parse(withoutBom(text));
  } catch (e) {
    throw new ModelError(`${CONFIG_FILE} is not valid JSON: ${(e as Error).message}`, {
      file,
      code: 'MODEL_BAD_CONFIG',
      fix: 'Restore config.json from the original model download.',
      cause: e,
    });
  }
}

/**
 * Checks that `dir` is a model folder we can train from (a config.json of a supported family and its weights, every
 * shard of a sharded one), without reading the weights: what a UI does before starting a run with it.
 */
export async function checkModelDir(dir: string): Promise<BertConfig> {
  const configFile = path.join(dir, CONFIG_FILE);
  const config = parseBertConfig(await readConfigJson(configFile), configFile);
  await findWeights(dir);
  return config;
}

/**
 * The positions (the longest input) of the model in `dir`, read from its config.json without its weights; undefined
 * when `dir` is not a model folder we can train from.
 */
export async function modelDirContext(dir: string): Promise<number | undefined> {
  try {
    return maxSequenceLength(await checkModelDir(dir));
  } catch {
    return undefined;
  }
}

export async function loadModelDir(
  dir: string,
  numLabels: number,
  seed: number,
): Promise<{ config: BertConfig; weights: Weights; addedHead: boolean }> {
  const configFile = path.join(dir, CONFIG_FILE);
  const config = parseBertConfig(await readConfigJson(configFile), configFile);
  const source = await findWeights(dir);
  const weightsFile = source.file;
  const weightsName = path.basename(weightsFile);
  const family = config.modelType;
  const base = `${BASE_PREFIX[family]}.`;
  const prefixed = (await readWeightNames(source)).some((n) => n.startsWith(base));
  const raw = await readWeights(source, { include: (n) => canonicalName(n, prefixed, family) !== undefined });

  const found = new Map<string, Tensor>();
  for (const [name, t] of raw) found.set(canonicalName(name, prefixed, family) as string, t);

  const specs = classifierParamSpecs(config, numLabels);
  const outputWeight = `${CLASSIFIER_OUTPUT[family]}.weight`;
  const expected = new Set(specs.map((s) => s.name));
  const unexpected = [...found.keys()].filter((n) => !expected.has(n));
  const fresh: ParamSpec[] = [];
  const missing: string[] = [];
  for (const prefix of FRESH_IF_MISSING[family]) {
    const group = specs.filter((s) => s.name.startsWith(prefix));
    const present = group.filter((s) => found.has(s.name));
    const output = found.get(outputWeight);
    const labelCountDiffers = outputWeight.startsWith(prefix) && output !== undefined && output.shape[0] !== numLabels;
    if (present.length === 0 || labelCountDiffers) {
      fresh.push(...group);
      for (const s of group) found.delete(s.name);
    }
  }
  const freshNames = new Set(fresh.map((s) => s.name));
  for (const s of specs) if (!freshNames.has(s.name) && !found.has(s.name)) missing.push(s.name);

  if (missing.length > 0 || unexpected.length > 0) {
    const parts: string[] = [];
    if (missing.length > 0) parts.push(`missing ${missing.length} tensor(s): ${listForMessage(missing)}`);
    if (unexpected.length > 0) parts.push(`unexpected ${unexpected.length} tensor(s): ${listForMessage(unexpected)}`);
    throw new ModelError(`${weightsName} does not match config.json for a ${family} classifier: ${parts.join('; ')}.`, {
      file: weightsFile,
      code: 'MODEL_TENSOR_NAMES',
      fix: `Use the config.json that belongs to this checkpoint (its model_type decides the tensor names; this one says "${family}").`,
    });
  }

  const freshWeights = fresh.length > 0 ? initWeights(fresh, seed, config.initializerRange) : new Map<string, Tensor>();
  const weights: Weights = new Map();
  for (const s of specs) {
    const t = freshNames.has(s.name) ? (freshWeights.get(s.name) as Tensor) : (found.get(s.name) as Tensor);
    if (!sameShape(t.shape, s.shape)) {
      throw new ModelError(
        `Tensor ${s.name} in ${weightsName} has shape [${t.shape.join(', ')}], but config.json implies [${s.shape.join(', ')}].`,
        {
          file: weightsFile,
          code: 'MODEL_TENSOR_SHAPE',
          fix: 'Use the config.json that was saved with this checkpoint.',
        },
      );
    }
    weights.set(s.name, t);
  }
  return { config, weights, addedHead: freshNames.has(outputWeight) };
}

/**
 * Builds the config.json object saveHfModel writes: original keys kept, label maps and architecture set;
 * `problemType` "regression" marks a one-output head that transformers trains with MSELoss.
 */
export function hfConfigJson(
  config: BertConfig,
  id2label: string[],
  problemType?: 'regression' | 'multi_label_classification',
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config.raw, ...hfConfigValues(config) };
  // transformers derives num_labels from id2label; a stale num_labels would contradict it.
  delete out.num_labels;
  const identity = hfClassifierIdentity(config);
  out.architectures = [identity.architecture];
  out.model_type = identity.modelType;
  if (out[identity.activationKey] === undefined) out[identity.activationKey] = identity.activation;
  out.id2label = Object.fromEntries(id2label.map((label, i) => [String(i), label]));
  out.label2id = Object.fromEntries(id2label.map((label, i) => [label, i]));
  if (problemType !== undefined) out.problem_type = problemType;
  else if (out.problem_type === 'regression' || out.problem_type === 'multi_label_classification')
    delete out.problem_type;
  return out;
}

/** Writes a folder transformers can load with the family's *ForSequenceClassification.from_pretrained (and we can reload). */
export async function saveHfModel(
  dir: string,
  opts: {
    config: BertConfig;
    weights: Weights;
    id2label: string[];
    problemType?: 'regression' | 'multi_label_classification';
  },
): Promise<void> {
  const classifier = opts.weights.get(`${CLASSIFIER_OUTPUT[opts.config.modelType]}.weight`);
  if (classifier && classifier.shape[0] !== opts.id2label.length) {
    throw new ModelError(
      `Cannot save: the classifier has ${classifier.shape[0]} outputs but ${opts.id2label.length} labels were given.`,
      { file: path.join(dir, CONFIG_FILE), code: 'MODEL_LABEL_COUNT' },
    );
  }
  if (new Set(opts.id2label).size !== opts.id2label.length) {
    throw new ModelError('Cannot save: the label names are not unique.', {
      file: path.join(dir, CONFIG_FILE),
      code: 'MODEL_LABEL_NAMES',
    });
  }
  await fs.mkdir(dir, { recursive: true });
  await writeSafetensors(path.join(dir, WEIGHTS_FILE), opts.weights, { format: 'pt' });
  const json = `${JSON.stringify(hfConfigJson(opts.config, opts.id2label, opts.problemType), null, 2)}\n`;
  await writeFileAtomicWith(path.join(dir, CONFIG_FILE), async (fh) => {
    await fh.writeFile(json, 'utf8');
  });
}

/** A seed ensemble's other members' weights (`<modelDir>/members/N/`, in member order); none for a single model. */
export async function loadMemberWeights(modelDir: string, numLabels: number): Promise<Weights[]> {
  const members: Weights[] = [];
  for (const dir of memberModelDirs(modelDir)) members.push((await loadModelDir(dir, numLabels, 0)).weights);
  return members;
}
