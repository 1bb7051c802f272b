/**
 * BertForMaskedLM folders: a BERT checkpoint (any head) in, with the MLM head freshly initialised when it has none;
 * out, config.json (architectures BertForMaskedLM) + model.safetensors in HF names, which `train --model` accepts
 * (its classifier head then starts fresh) and transformers' BertForMaskedLM.from_pretrained loads (decoder tied).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ModelError } from '../errors';
import { BertConfig, hfConfigValues, parseBertConfig } from '../model/config';
import { CONFIG_FILE, WEIGHTS_FILE } from '../model/load';
import { Tensor, Weights, initWeights } from '../model/params';
import { readSafetensors, writeSafetensors } from '../model/safetensors';
import { mlmParamSpecs } from './mlm-model';

/** Checkpoint names → ours: the `bert.` prefix added to a bare BertModel's names, TF-style gamma/beta renamed. */
function canonical(name: string): string {
  const n = name.startsWith('bert.') || name.startsWith('cls.') ? name : `bert.${name}`;
  return n.replace(/LayerNorm\.gamma$/, 'LayerNorm.weight').replace(/LayerNorm\.beta$/, 'LayerNorm.bias');
}

export async function loadMlmModelDir(dir: string, seed: number): Promise<{ config: BertConfig; weights: Weights; freshHead: boolean }> {
  const configFile = path.join(dir, CONFIG_FILE);
  let json: unknown;
  try {
    json = JSON.parse(await fs.readFile(configFile, 'utf8'));
  } catch (e) {
    throw new ModelError(`Cannot read ${CONFIG_FILE} of the model.`, { file: configFile, code: 'MODEL_NO_CONFIG', cause: e, fix: 'Point --model to a BERT model folder (config.json + model.safetensors).' });
  }
  const config = parseBertConfig(json, configFile);
  const specs = mlmParamSpecs(config);
  const found = new Map<string, Tensor>();
  for (const [name, t] of await readSafetensors(path.join(dir, WEIGHTS_FILE))) found.set(canonical(name), t);
  const head = specs.filter((s) => s.name.startsWith('cls.'));
  const freshHead = head.some((s) => !found.has(s.name));
  const fresh = freshHead ? initWeights(head, seed, config.initializerRange) : new Map<string, Tensor>();
  const weights: Weights = new Map();
  const missing: string[] = [];
  for (const s of specs) {
    const t = (freshHead && s.name.startsWith('cls.') ? fresh.get(s.name) : found.get(s.name)) as Tensor | undefined;
    if (!t) missing.push(s.name);
    else if (t.shape.join() !== s.shape.join()) {
      throw new ModelError(`Tensor ${s.name} has shape [${t.shape.join(', ')}]; config.json implies [${s.shape.join(', ')}].`, {
        file: path.join(dir, WEIGHTS_FILE), code: 'MODEL_TENSOR_SHAPE', fix: 'Use the config.json that was saved with this checkpoint.' });
    } else weights.set(s.name, t);
  }
  if (missing.length > 0) {
    throw new ModelError(`${WEIGHTS_FILE} lacks ${missing.length} BERT encoder tensor(s), e.g. ${missing.slice(0, 3).join(', ')}.`, {
      file: path.join(dir, WEIGHTS_FILE), code: 'MODEL_TENSOR_NAMES', fix: 'Use a BERT checkpoint whose config.json belongs to it.' });
  }
  return { config, weights, freshHead };
}

/** config.json of a BertForMaskedLM: the original keys, sizes under HF names, no classifier labels. */
export function mlmConfigJson(config: BertConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config.raw, ...hfConfigValues(config) };
  for (const k of ['id2label', 'label2id', 'num_labels', 'problem_type']) delete out[k];
  out.architectures = ['BertForMaskedLM'];
  out.model_type = 'bert';
  out.hidden_act ??= 'gelu';
  out.tie_word_embeddings = true;
  return out;
}

/** Writes config.json + model.safetensors into `dir` (each to a temp name, then renamed). */
export async function saveMlmModel(dir: string, config: BertConfig, weights: Weights): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  await writeSafetensors(path.join(dir, WEIGHTS_FILE), weights, { format: 'pt' });
  const tmp = path.join(dir, `${CONFIG_FILE}.tmp-${process.pid}`);
  await fs.writeFile(tmp, `${JSON.stringify(mlmConfigJson(config), null, 2)}\n`);
  await fs.rename(tmp, path.join(dir, CONFIG_FILE));
}
