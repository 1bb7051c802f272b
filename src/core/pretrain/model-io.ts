/**
 * <Family>ForMaskedLM folders (BERT, DistilBERT, RoBERTa / XLM-R, ELECTRA). In: a checkpoint of the family with or
 * without its base prefix (`bert.`, `roberta.` …) and with or without the MLM head (any other head is ignored; a
 * missing MLM head is freshly initialised, as from_pretrained does, e.g. for an ELECTRA discriminator). Out:
 * config.json (architectures <Family>ForMaskedLM, tie_word_embeddings) + model.safetensors in HF names without the
 * tied decoder weight, which `train --model` accepts (its classifier head then starts fresh) and transformers'
 * <Family>ForMaskedLM.from_pretrained loads (decoder tied to the word embeddings).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ModelError } from '../errors';
import { writeJsonAtomic } from '../util/files';
import { withoutBom } from '../util/text-file';
import { BertConfig, hfClassifierIdentity, hfConfigValues, parseBertConfig } from '../model/config';
import { CONFIG_FILE, WEIGHTS_FILE } from '../model/load';
import { BASE_PREFIX, Tensor, Weights, initWeights } from '../model/params';
import { writeSafetensors } from '../model/safetensors';
import { findWeights, readWeightNames, readWeights } from '../model/weights-file';
import { mlmHead, mlmHeadParamSpecs, mlmParamSpecs } from '../model/mlm-head';

/**
 * Checkpoint name → ours, or undefined when the MLM model has no use for it. TF-style LayerNorm gamma/beta are
 * renamed; the head's names (and their aliases) stay at the top level; in a checkpoint that uses the base prefix any
 * other top-level name is another model's head (pooler-less classifiers, NSP, discriminator), in one that does not,
 * every other name is the encoder's.
 */
function canonicalName(
  name: string,
  cfg: BertConfig,
  prefixed: boolean,
  wanted: ReadonlySet<string>,
): string | undefined {
  if (name.endsWith('position_ids')) return undefined;
  const n = name.replace(/LayerNorm\.gamma$/, 'LayerNorm.weight').replace(/LayerNorm\.beta$/, 'LayerNorm.bias');
  const head = mlmHead(cfg);
  const base = `${BASE_PREFIX[cfg.modelType]}.`;
  const ours = head.aliases[n] ?? (n.startsWith(base) || wanted.has(n) ? n : prefixed ? undefined : `${base}${n}`);
  return ours !== undefined && wanted.has(ours) ? ours : undefined;
}

export async function loadMlmModelDir(
  dir: string,
  seed: number,
): Promise<{ config: BertConfig; weights: Weights; freshHead: boolean }> {
  const configFile = path.join(dir, CONFIG_FILE);
  let json: unknown;
  try {
    json = JSON.parse(withoutBom(await fs.readFile(configFile, 'utf8')));
  } catch (e) {
    throw new ModelError(`Cannot read ${CONFIG_FILE} of the model.`, {
      file: configFile,
      code: 'MODEL_NO_CONFIG',
      cause: e,
      fix: 'Point --model to a BERT, DistilBERT, RoBERTa / XLM-R or ELECTRA model folder (config.json + model.safetensors).',
    });
  }
  const config = parseBertConfig(json, configFile);
  const source = await findWeights(dir);
  const weightsFile = source.file;
  const specs = mlmParamSpecs(config);
  const wanted = new Set(specs.map((s) => s.name));
  const base = `${BASE_PREFIX[config.modelType]}.`;
  const prefixed = (await readWeightNames(source)).some((n) => n.startsWith(base));
  const found = new Map<string, Tensor>();
  for (const [name, t] of await readWeights(source, {
    include: (n) => canonicalName(n, config, prefixed, wanted) !== undefined,
  })) {
    const ours = canonicalName(name, config, prefixed, wanted) as string;
    // A tensor under its own name wins over an alias of it (lm_head.bias over lm_head.decoder.bias).
    if (ours === name || !found.has(ours)) found.set(ours, t);
  }
  const head = mlmHeadParamSpecs(config);
  const headNames = new Set(head.map((s) => s.name));
  const freshHead = head.some((s) => !found.has(s.name));
  const fresh = freshHead ? initWeights(head, seed, config.initializerRange) : new Map<string, Tensor>();
  const weights: Weights = new Map();
  const missing: string[] = [];
  for (const s of specs) {
    const t = freshHead && headNames.has(s.name) ? fresh.get(s.name) : found.get(s.name);
    if (!t) missing.push(s.name);
    else if (t.shape.join() !== s.shape.join()) {
      throw new ModelError(
        `Tensor ${s.name} has shape [${t.shape.join(', ')}]; config.json implies [${s.shape.join(', ')}].`,
        {
          file: weightsFile,
          code: 'MODEL_TENSOR_SHAPE',
          fix: 'Use the config.json that was saved with this checkpoint.',
        },
      );
    } else weights.set(s.name, t);
  }
  if (missing.length > 0) {
    const family = hfClassifierIdentity(config).modelType;
    throw new ModelError(
      `${path.basename(weightsFile)} lacks ${missing.length} ${family} encoder tensor(s), e.g. ${missing.slice(0, 3).join(', ')}.`,
      {
        file: weightsFile,
        code: 'MODEL_TENSOR_NAMES',
        fix: `Use a ${family} checkpoint whose config.json belongs to it (its model_type decides the tensor names; this one says "${family}").`,
      },
    );
  }
  return { config, weights, freshHead };
}

/** config.json of a <Family>ForMaskedLM: the original keys, sizes under HF names, no classifier labels. */
export function mlmConfigJson(config: BertConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config.raw, ...hfConfigValues(config) };
  for (const k of ['id2label', 'label2id', 'num_labels', 'problem_type']) delete out[k];
  const identity = hfClassifierIdentity(config);
  out.architectures = [mlmHead(config).architecture];
  out.model_type = identity.modelType;
  out[identity.activationKey] ??= 'gelu';
  out.tie_word_embeddings = true;
  return out;
}

/** Writes config.json + model.safetensors into `dir` (each through a temporary sibling, then renamed). */
export async function saveMlmModel(dir: string, config: BertConfig, weights: Weights): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  await writeSafetensors(path.join(dir, WEIGHTS_FILE), weights, { format: 'pt' });
  await writeJsonAtomic(path.join(dir, CONFIG_FILE), mlmConfigJson(config));
}
