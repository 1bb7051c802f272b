/**
 * `npm run bench:modernbert-long`: what one training step of ModernBERT-base (answerdotai/ModernBERT-base's
 * config.json: 22 layers, hidden 768, 12 heads, GeGLU 1152, a global layer every 3rd, local window 128; random
 * weights) costs at long inputs on the CPU: peak RSS and step time for a batch of 1 at each length, each length in its
 * own process (peak RSS = that process's VmHWM), against the plain-PyTorch reference on the same config and length
 * (bench/reference/bench_modernbert_torch.py, PyTorch 1.13 on the CPU). Ours uses block attention
 * (src/core/graph/ops/attention.ts: no [heads, length, length] tensor is kept, local layers read only their window), as
 * training does; "ours, plain" is the same step with plain attention, which keeps every layer's [heads, length,
 * length] probabilities for the backward pass, as the PyTorch reference does. Then, at every length, one forward pass
 * of the exported inference model (what `bertft predict` and the editor run) on one text, block against plain.
 *
 * Env: BENCH_LENGTHS (default "256,512,1024"), BENCH_THREADS (default 2), BENCH_PLAIN_MAX (default 2048: longer
 * lengths run ours only, since plain attention's memory grows with the square of the length: about 19 and 64 GB at
 * 4,096 and 8,192 tokens). Last stdout line: one JSON object: ratio (ours ÷ PyTorch step time) and rss_ratio at the
 * longest length both ran, and the figures per length.
 *
 *   BENCH_LENGTHS=1024,2048,4096,8192 node out/bench/modernbert-long.js     (driver)
 *   node out/bench/modernbert-long.js '{"seq":512,"threads":2}'              (one measurement; "plain":true for plain,
 *                                                                          "inference":true for one forward pass)
 */
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { parseBertConfig } from '../src/core/model/config';
import { buildInferenceModel } from '../src/core/model/export-onnx';
import { classifierParamSpecs, initWeights, seededRandom } from '../src/core/model/params';
import type { Batch } from '../src/core/tokenize/batch';
import { createTrainEngine } from '../src/core/train/engine';
import { trainingProcessEnv } from '../src/core/train/allocator';
import { findRoot, runJson } from './child-process';
import { peakRssMb } from './peak-rss';

const PYTHON = '/usr/bin/python3';

/** answerdotai/ModernBERT-base's config.json (the keys the model reads). */
const MODERNBERT_BASE = {
  architectures: ['ModernBertForMaskedLM'],
  model_type: 'modernbert',
  vocab_size: 50368,
  hidden_size: 768,
  intermediate_size: 1152,
  num_hidden_layers: 22,
  num_attention_heads: 12,
  hidden_activation: 'gelu',
  max_position_embeddings: 8192,
  norm_eps: 1e-5,
  norm_bias: false,
  global_rope_theta: 160000,
  local_rope_theta: 10000,
  global_attn_every_n_layers: 3,
  local_attention: 128,
  classifier_pooling: 'mean',
  pad_token_id: 50283,
};

interface Figures {
  seq: number;
  setup_s: number;
  step_s: number;
  peak_rss_mb: number;
}

async function measureOne(seq: number, threads: number, plain: boolean): Promise<Figures> {
  const config = parseBertConfig(MODERNBERT_BASE);
  const t0 = performance.now();
  const engine = await createTrainEngine({
    config,
    numLabels: 2,
    weights: initWeights(classifierParamSpecs(config, 2), 0, config.initializerRange),
    hyper: {
      lr: 5e-5,
      weightDecay: 0.01,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      maxGradNorm: 1,
      warmupSteps: 0,
      totalSteps: 3,
    },
    device: 'cpu',
    dropout: false,
    seed: 0,
    threads,
    attentionBlock: plain ? null : undefined,
  });
  const setupS = (performance.now() - t0) / 1000;
  const rand = seededRandom(1);
  const batch: Batch = {
    batchSize: 1,
    seqLen: seq,
    inputIds: BigInt64Array.from({ length: seq }, () => BigInt(1 + Math.floor(rand() * 50000))),
    attentionMask: new BigInt64Array(seq).fill(1n),
    tokenTypeIds: new BigInt64Array(seq),
    labels: BigInt64Array.of(1n),
    docIndex: Int32Array.of(0),
  };
  const s = performance.now();
  await engine.trainStep(batch);
  const stepS = (performance.now() - s) / 1000;
  await engine.dispose();
  return { seq, setup_s: setupS, step_s: stepS, peak_rss_mb: peakRssMb() };
}

/** One forward pass of the exported inference model (what `bertft predict` and the editor run) on one text. */
async function measureInference(seq: number, threads: number, plain: boolean): Promise<Figures> {
  const config = parseBertConfig(MODERNBERT_BASE);
  const t0 = performance.now();
  const weights = initWeights(classifierParamSpecs(config, 2), 0, config.initializerRange);
  const model = buildInferenceModel(config, 2, weights, { attentionBlock: plain ? null : undefined });
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: threads });
  const setupS = (performance.now() - t0) / 1000;
  const rand = seededRandom(1);
  const ids = BigInt64Array.from({ length: seq }, () => BigInt(1 + Math.floor(rand() * 50000)));
  const s = performance.now();
  await session.run({
    input_ids: new ort.Tensor('int64', ids, [1, seq]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(seq).fill(1n), [1, seq]),
    token_type_ids: new ort.Tensor('int64', new BigInt64Array(seq), [1, seq]),
  });
  const stepS = (performance.now() - s) / 1000;
  await session.release();
  return { seq, setup_s: setupS, step_s: stepS, peak_rss_mb: peakRssMb() };
}

/** The reference: the plain-PyTorch ModernBERT (bench/reference/modernbert_torch.py) on the same config and length. */
function torchStep(root: string, seq: number, threads: number): Figures {
  return runJson<Figures>(
    root,
    PYTHON,
    [
      path.join(root, 'bench', 'reference', 'bench_modernbert_torch.py'),
      JSON.stringify({ config: MODERNBERT_BASE, seq, threads }),
    ],
    trainingProcessEnv({ ...process.env, OPENBLAS_NUM_THREADS: String(threads) }),
  );
}

interface Row {
  seq: number;
  ours: Figures;
  oursPlain: Figures | null;
  torch: Figures | null;
  rss_ratio: number | null;
  time_ratio: number | null;
}

const mb = (f: Figures | null): string =>
  f ? `${f.step_s.toFixed(1)} s/step, ${f.peak_rss_mb.toFixed(0)} MB` : 'not run';

function driver(): void {
  const lengths = (process.env.BENCH_LENGTHS ?? '256,512,1024').split(',').map(Number);
  const threads = Number(process.env.BENCH_THREADS ?? 2);
  const plainMax = Number(process.env.BENCH_PLAIN_MAX ?? 2048);
  const root = findRoot(__dirname);
  const ourStep = (seq: number, plain: boolean): Figures =>
    runJson<Figures>(
      root,
      process.execPath,
      [path.join(__dirname, 'modernbert-long.js'), JSON.stringify({ seq, threads, plain })],
      trainingProcessEnv(process.env),
    );
  const inference = (seq: number, plain: boolean): Figures =>
    runJson<Figures>(root, process.execPath, [
      path.join(__dirname, 'modernbert-long.js'),
      JSON.stringify({ seq, threads, plain, inference: true }),
    ]);
  const rows: Row[] = [];
  for (const seq of lengths) {
    const ours = ourStep(seq, false);
    const oursPlain = seq <= plainMax ? ourStep(seq, true) : null;
    const torch = seq <= plainMax ? torchStep(root, seq, threads) : null;
    rows.push({
      seq,
      ours,
      oursPlain,
      torch,
      rss_ratio: torch && ours.peak_rss_mb / torch.peak_rss_mb,
      time_ratio: torch && ours.step_s / torch.step_s,
    });
    console.log(
      `ModernBERT-base, batch 1, ${seq} tokens: ours ${mb(ours)}; ours with plain attention ${mb(oursPlain)}; ` +
        `PyTorch ${mb(torch)}`,
    );
  }
  // Classifying one text with the exported model.onnx: block attention against plain, at every length.
  const inferenceRows = lengths.map((seq) => {
    const row = { seq, ours: inference(seq, false), oursPlain: inference(seq, true) };
    console.log(
      `ModernBERT-base inference, one text of ${seq} tokens: ours ${mb(row.ours)}; plain attention ${mb(row.oursPlain)}`,
    );
    return row;
  });
  const compared = rows.filter((r) => r.torch !== null);
  const last = compared[compared.length - 1];
  console.log(
    JSON.stringify({
      model: 'ModernBERT-base (random weights)',
      threads,
      ratio: last?.time_ratio ?? null,
      rss_ratio: last?.rss_ratio ?? null,
      ratio_at: last?.seq ?? null,
      rows,
      inference: inferenceRows,
    }),
  );
}

const arg = process.argv[2];
if (arg) {
  const { seq, threads, plain, inference } = JSON.parse(arg) as {
    seq: number;
    threads: number;
    plain?: boolean;
    inference?: boolean;
  };
  (inference ? measureInference : measureOne)(seq, threads, plain === true)
    .then((f) => console.log(JSON.stringify(f)))
    .catch((e) => {
      console.error(e);
      process.exit(1);
    });
} else driver();
