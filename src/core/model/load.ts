/**
 * Hugging Face model folders: `config.json` + `model.safetensors` in, the same (plus labels) out.
 *
 * Loading follows BertForSequenceClassification.from_pretrained: checkpoint names may carry the `bert.` prefix or
 * not (a bare BertModel), old TF-style `LayerNorm.gamma/beta` are renamed, other models' task heads (`cls.*`,
 * `qa_outputs.*`) and integer buffers (`position_ids`) are ignored, and the pooler / classifier are freshly initialised (normal, std =
 * initializer_range; zero bias) when the checkpoint has none or its label count differs. Anything else missing,
 * unexpected or of the wrong shape is a ModelError, because training on a silently half-loaded encoder wastes hours.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ModelError } from '../errors';
import { BertConfig, parseBertConfig } from './config';
import { bertClassifierParamSpecs, initWeights, ParamSpec, Tensor, Weights } from './params';
import { readSafetensors, readSafetensorsHeader, writeFileAtomic, writeSafetensors } from './safetensors';

export const CONFIG_FILE = 'config.json';
export const WEIGHTS_FILE = 'model.safetensors';

/** Parameters from_pretrained re-initialises instead of failing when the checkpoint lacks them. */
const FRESH_IF_MISSING = ['bert.pooler.', 'classifier.'];

/**
 * Checkpoint name → our (HF BertForSequenceClassification) name, or undefined for tensors a classifier ignores.
 * As in from_pretrained: in a checkpoint that uses the `bert.` prefix, other un-prefixed names are task heads of
 * another model class (qa_outputs, cls.*) and are ignored; in one that does not, every name is the encoder's.
 */
function canonicalName(name: string, prefixed: boolean): string | undefined {
  if (name.endsWith('position_ids') || name.startsWith('cls.')) return undefined;
  let n: string;
  if (name.startsWith('bert.') || name.startsWith('classifier.')) n = name;
  else if (prefixed) return undefined;
  else n = `bert.${name}`;
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
    return JSON.parse(text);
  } catch (e) {
    throw new ModelError(`${CONFIG_FILE} is not valid JSON: ${(e as Error).message}`, {
      file,
      code: 'MODEL_BAD_CONFIG',
      fix: 'Restore config.json from the original model download.',
      cause: e,
    });
  }
}

async function assertWeightsFileExists(dir: string, file: string): Promise<void> {
  try {
    await fs.access(file);
  } catch (e) {
    const hasBin = await fs.access(path.join(dir, 'pytorch_model.bin')).then(() => true, () => false);
    throw new ModelError(`The model folder has no ${WEIGHTS_FILE}.`, {
      file,
      code: 'MODEL_NO_WEIGHTS',
      fix: hasBin
        ? 'Only pytorch_model.bin is present: convert it once with transformers (model.save_pretrained(dir, safe_serialization=True)).'
        : 'Download the model with its model.safetensors file.',
      cause: e,
    });
  }
}

export async function loadModelDir(
  dir: string,
  numLabels: number,
  seed: number,
): Promise<{ config: BertConfig; weights: Weights; addedHead: boolean }> {
  const configFile = path.join(dir, CONFIG_FILE);
  const config = parseBertConfig(await readConfigJson(configFile), configFile);
  const weightsFile = path.join(dir, WEIGHTS_FILE);
  await assertWeightsFileExists(dir, weightsFile);
  const prefixed = (await readSafetensorsHeader(weightsFile)).entries.some((e) => e.name.startsWith('bert.'));
  const raw = await readSafetensors(weightsFile, { include: (n) => canonicalName(n, prefixed) !== undefined });

  const found = new Map<string, Tensor>();
  for (const [name, t] of raw) found.set(canonicalName(name, prefixed) as string, t);

  const specs = bertClassifierParamSpecs(config, numLabels);
  const expected = new Set(specs.map((s) => s.name));
  const unexpected = [...found.keys()].filter((n) => !expected.has(n));
  const fresh: ParamSpec[] = [];
  const missing: string[] = [];
  for (const prefix of FRESH_IF_MISSING) {
    const group = specs.filter((s) => s.name.startsWith(prefix));
    const present = group.filter((s) => found.has(s.name));
    const labelCountDiffers =
      prefix === 'classifier.' && present.some((s) => (found.get(s.name) as Tensor).shape[0] !== numLabels);
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
    throw new ModelError(`${WEIGHTS_FILE} does not match config.json for a BERT classifier: ${parts.join('; ')}.`, {
      file: weightsFile,
      code: 'MODEL_TENSOR_NAMES',
      fix: 'Use a BERT model (model_type "bert") whose config.json belongs to this checkpoint.',
    });
  }

  const freshWeights = fresh.length > 0 ? initWeights(fresh, seed, config.initializerRange) : new Map<string, Tensor>();
  const weights: Weights = new Map();
  for (const s of specs) {
    const t = freshNames.has(s.name) ? (freshWeights.get(s.name) as Tensor) : (found.get(s.name) as Tensor);
    if (!sameShape(t.shape, s.shape)) {
      throw new ModelError(
        `Tensor ${s.name} in ${WEIGHTS_FILE} has shape [${t.shape.join(', ')}], but config.json implies [${s.shape.join(', ')}].`,
        { file: weightsFile, code: 'MODEL_TENSOR_SHAPE', fix: 'Use the config.json that was saved with this checkpoint.' },
      );
    }
    weights.set(s.name, t);
  }
  return { config, weights, addedHead: freshNames.has('classifier.weight') };
}

/** The config.json keys BertConfig covers, under their HF names (they win over stale copies in `raw`). */
function hfConfigKeys(c: BertConfig): Record<string, unknown> {
  return {
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    num_hidden_layers: c.numHiddenLayers,
    num_attention_heads: c.numAttentionHeads,
    intermediate_size: c.intermediateSize,
    max_position_embeddings: c.maxPositionEmbeddings,
    type_vocab_size: c.typeVocabSize,
    hidden_dropout_prob: c.hiddenDropoutProb,
    attention_probs_dropout_prob: c.attentionProbsDropoutProb,
    layer_norm_eps: c.layerNormEps,
    initializer_range: c.initializerRange,
    pad_token_id: c.padTokenId,
  };
}

/** Builds the config.json object saveHfModel writes: original keys kept, label maps and architecture set. */
export function hfConfigJson(config: BertConfig, id2label: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config.raw, ...hfConfigKeys(config) };
  // transformers derives num_labels from id2label; a stale num_labels would contradict it.
  delete out.num_labels;
  out.architectures = ['BertForSequenceClassification'];
  out.model_type = 'bert';
  if (out.hidden_act === undefined) out.hidden_act = 'gelu';
  out.id2label = Object.fromEntries(id2label.map((label, i) => [String(i), label]));
  out.label2id = Object.fromEntries(id2label.map((label, i) => [label, i]));
  return out;
}

/** Writes a folder transformers can load with BertForSequenceClassification.from_pretrained (and we can reload). */
export async function saveHfModel(
  dir: string,
  opts: { config: BertConfig; weights: Weights; id2label: string[] },
): Promise<void> {
  const classifier = opts.weights.get('classifier.weight');
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
  const json = `${JSON.stringify(hfConfigJson(opts.config, opts.id2label), null, 2)}\n`;
  await writeFileAtomic(path.join(dir, CONFIG_FILE), async (fh) => {
    await fh.writeFile(json, 'utf8');
  });
}
