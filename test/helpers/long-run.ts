/**
 * The inputs of the long-run parity test (test/unit/parity/long-run.test.ts), made the way `bertft train` makes them
 * (src/core/finetune/task.ts): the rows of examples/spam-ham.csv split 90/10 by the seed, tokenized by our bundled
 * bert-base-uncased tokenizer (the real 30,522-token vocabulary), head-truncated, shuffled per epoch, grouped by
 * length and dynamically padded; a random:tiny model (2 layers, hidden 64) with that vocabulary, initialised by our
 * initializer from the seed; the session's AdamW, clipping and linear warmup/decay settings over the run's steps.
 *
 * The PyTorch side (bench/reference/make_long_parity_fixture.py) gets exactly these inputs from
 *   node out/test/helpers/long-run.js --seed N --out DIR
 * which writes DIR/config.json + DIR/model.safetensors (HF names), DIR/batches.json and DIR/inputs.json (hyper-parameters,
 * settings, sha256 of the weights and of the batches). The test regenerates them from the seed, so the committed
 * fixture only holds PyTorch's per-step figures and those checksums.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { readDataset } from '../../src/core/data/read';
import { splitDataset } from '../../src/core/data/split';
import { loadPreprocessor } from '../../src/core/infer/preprocess';
import { presetConfig, type BertConfig } from '../../src/core/model/config';
import { saveHfModel } from '../../src/core/model/load';
import { bertClassifierParamSpecs, initWeights, type Weights } from '../../src/core/model/params';
import type { Hyper } from '../../src/core/train/engine';
import { resolveTrainConfig, totalSteps, warmupStepsFor, type TrainConfig } from '../../src/core/train/presets';
import type { Batch } from '../../src/core/tokenize/batch';
import type { BatchJson } from './parity';

const ROOT = path.resolve(__dirname, '..', '..', '..');
export const LONG_RUN_DATA = path.join(ROOT, 'examples', 'spam-ham.csv');

/**
 * What differs from the fast preset's defaults: max length 128 (the preset would take the p95, 512), 4 epochs, and a
 * learning rate of 1e-3 (a small model's rate; 5e-5 barely moves a random model in 90 steps, so defects would not show).
 * No dropout, so both sides compute the same function. Batches grouped by length (the fixture's; a from-scratch run's
 * default since 2026-12-07 is ungrouped): batches of many lengths, so shape-dependent defects show.
 */
export const LONG_RUN_SETTINGS = { maxLength: 128, epochs: 4, lr: 1e-3, dropout: false, groupByLength: true } as const;

export interface LongRunInputs {
  seed: number;
  config: BertConfig;
  labels: string[];
  weights: Weights;
  batches: Batch[];
  hyper: Hyper;
  train: TrainConfig;
  /** sha256 (hex) of the initial weights (names, shapes, float32 bytes, spec order) and of the batches (every tensor). */
  sha256: { weights: string; batches: string };
}

export function weightsSha256(weights: Weights): string {
  const h = createHash('sha256');
  for (const [name, t] of weights) {
    h.update(`${name}:${t.shape.join('x')};`);
    h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return h.digest('hex');
}

export function batchesSha256(batches: Batch[]): string {
  const h = createHash('sha256');
  for (const b of batches) {
    h.update(`${b.batchSize}x${b.seqLen};`);
    for (const a of [b.inputIds, b.attentionMask, b.tokenTypeIds, b.labels ?? new BigInt64Array(0)]) {
      h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    }
  }
  return h.digest('hex');
}

/** The run's batches (epoch after epoch, each in its seeded order) and its initial weights, as the training session makes them. */
export async function longRunInputs(seed: number): Promise<LongRunInputs> {
  const dataset = await readDataset(LONG_RUN_DATA, {});
  const split = splitDataset(dataset.examples, { validationRatio: 0.1, seed });
  const labels = split.labelMap.labels;
  const train = resolveTrainConfig({ data: LONG_RUN_DATA, out: '', seed, ...LONG_RUN_SETTINGS }, [], 512);
  const preprocessor = await loadPreprocessor();
  const label2id = new Map(labels.map((l, i) => [l, i]));
  const rows = preprocessor.encode(
    split.train.map((e) => e.text),
    train,
    Int32Array.from(split.train, (e) => label2id.get(e.label) as number),
  );
  const perEpoch = preprocessor.trainBatches(rows, { ...train, seed }, 0).length;
  const total = totalSteps(train, perEpoch);
  const batches: Batch[] = [];
  for (let epoch = 0; batches.length < total; epoch++)
    batches.push(...preprocessor.trainBatches(rows, { ...train, seed }, epoch));
  batches.length = total;
  const config = presetConfig('tiny');
  const weights = initWeights(bertClassifierParamSpecs(config, labels.length), seed, config.initializerRange);
  // The session's hyper-parameters (src/core/finetune/task.ts).
  const hyper: Hyper = {
    lr: train.lr,
    weightDecay: train.weightDecay,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    maxGradNorm: 1,
    warmupSteps: warmupStepsFor(train, total),
    totalSteps: total,
  };
  return {
    seed,
    config,
    labels,
    weights,
    batches,
    hyper,
    train,
    sha256: { weights: weightsSha256(weights), batches: batchesSha256(batches) },
  };
}

export const toBatchJson = (b: Batch): BatchJson => ({
  batchSize: b.batchSize,
  seqLen: b.seqLen,
  inputIds: Array.from(b.inputIds, Number),
  attentionMask: Array.from(b.attentionMask, Number),
  tokenTypeIds: Array.from(b.tokenTypeIds, Number),
  labels: Array.from(b.labels ?? [], Number),
});

/** What the PyTorch reference reads: config.json + model.safetensors, batches.json, inputs.json. */
export async function writeLongRunInputs(dir: string, inputs: LongRunInputs): Promise<void> {
  await saveHfModel(dir, { config: inputs.config, weights: inputs.weights, id2label: inputs.labels });
  await fs.writeFile(path.join(dir, 'batches.json'), JSON.stringify(inputs.batches.map(toBatchJson)));
  const { seed, hyper, labels, sha256, train } = inputs;
  const settings = {
    data: path.relative(ROOT, LONG_RUN_DATA),
    validRatio: 0.1,
    maxLength: train.maxLength,
    batchSize: train.batchSize,
    epochs: train.epochs,
    truncation: train.truncation,
    dynamicPadding: train.dynamicPadding,
    groupByLength: train.groupByLength,
    dropout: train.dropout,
  };
  await fs.writeFile(
    path.join(dir, 'inputs.json'),
    `${JSON.stringify({ seed, model: 'random:tiny', labels, settings, hyper, sha256 }, null, 1)}\n`,
  );
}

if (require.main === module) {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const out = arg('--out');
  const seed = Number(arg('--seed') ?? '0');
  if (!out || !Number.isInteger(seed)) {
    console.error('usage: node out/test/helpers/long-run.js --seed N --out DIR');
    process.exit(2);
  }
  longRunInputs(seed)
    .then(async (inputs) => {
      await fs.mkdir(out, { recursive: true });
      await writeLongRunInputs(out, inputs);
      console.log(JSON.stringify({ out, steps: inputs.batches.length, ...inputs.sha256 }));
    })
    .catch((e: unknown) => {
      console.error(e);
      process.exit(1);
    });
}
