/**
 * Our side of `npm run bench:train-step`, run in its own process so its peak RSS is its own: times full training
 * steps (forward, backward, clipping, AdamW in one ONNX run) on onnxruntime-node (CPU unless `device` says otherwise;
 * the figures name the device the engine actually got). Last stdout line: JSON, with every step's loss.
 *
 *   node out/bench/train-step-ours.js '{"size":"mini","numLabels":2,"batch":16,"seq":128,"warmup":2,"steps":10}'
 *
 * `config` (an HF config.json object, e.g. a GPT-2, ModernBERT or DeBERTa-v3 one) replaces the BERT preset `size`.
 */
import * as ort from 'onnxruntime-node';
import { parseBertConfig, presetConfig } from '../src/core/model/config';
import { bertClassifierParamSpecs, initWeights, seededRandom } from '../src/core/model/params';
import type { Batch } from '../src/core/tokenize/batch';
import type { DeviceChoice } from '../src/core/runtime/devices';
import { createTrainEngine, type EngineOptions } from '../src/core/train/engine';
import { peakRssMb } from './peak-rss';

interface Args {
  size: 'tiny' | 'mini' | 'small' | 'base';
  config?: Record<string, unknown>;
  numLabels: number;
  batch: number;
  seq: number;
  warmup: number;
  steps: number;
  threads?: number;
  device?: DeviceChoice;
  optLevel?: EngineOptions['graphOptimizationLevel'];
}

/** A full-length batch of random ids (no padding) and random labels, like the PyTorch side. */
function randomBatch(vocab: number, numLabels: number, b: number, s: number): Batch {
  const rand = seededRandom(1);
  const next = (mod: number): bigint => BigInt(Math.floor(rand() * mod));
  return {
    batchSize: b,
    seqLen: s,
    inputIds: BigInt64Array.from({ length: b * s }, () => 1n + next(vocab - 1)),
    attentionMask: new BigInt64Array(b * s).fill(1n),
    tokenTypeIds: new BigInt64Array(b * s),
    labels: BigInt64Array.from({ length: b }, () => next(numLabels)),
    docIndex: Int32Array.from({ length: b }, (_, i) => i),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]) as Args;
  // ORT_LOG_LEVEL=verbose makes ORT log, among much else, which execution provider each node was placed on.
  if (process.env.ORT_LOG_LEVEL) ort.env.logLevel = process.env.ORT_LOG_LEVEL as typeof ort.env.logLevel;
  const config = args.config ? parseBertConfig(args.config) : presetConfig(args.size);
  const specs = bertClassifierParamSpecs(config, args.numLabels);
  const total = args.warmup + args.steps;
  const t0 = performance.now();
  const engine = await createTrainEngine({
    config,
    numLabels: args.numLabels,
    // Not kept here: the engine trains its own copy, and (as in a training run) nothing else holds the initial weights.
    weights: initWeights(specs, 0, config.initializerRange),
    hyper: {
      lr: 5e-5,
      weightDecay: 0.01,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      maxGradNorm: 1,
      warmupSteps: 0,
      totalSteps: total + 1,
    },
    device: args.device ?? 'cpu',
    dropout: false,
    seed: 0,
    threads: args.threads,
    graphOptimizationLevel: args.optLevel,
    log: (line) => console.error(line),
  });
  const setupS = (performance.now() - t0) / 1000;
  const batch = randomBatch(config.vocabSize, args.numLabels, args.batch, args.seq);
  const times: number[] = [];
  const losses: number[] = [];
  for (let i = 0; i < total; i++) {
    const s = performance.now();
    const r = await engine.trainStep(batch);
    times.push((performance.now() - s) / 1000);
    losses.push(r.loss);
  }
  await engine.dispose();
  const measured = times.slice(args.warmup);
  console.log(
    JSON.stringify({
      engine: `ours (onnxruntime-node ${engine.device})`,
      device: engine.device,
      threads: args.threads ?? null,
      params: specs.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0),
      setup_s: setupS,
      median_step_s: median(measured),
      mean_step_s: measured.reduce((a, b) => a + b, 0) / measured.length,
      steps: measured.length,
      first_loss: losses[0],
      last_loss: losses[losses.length - 1],
      losses,
      peak_rss_mb: peakRssMb(),
    }),
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
