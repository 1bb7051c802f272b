/**
 * `npm run bench:mlm-step`: what a masked-LM pre-training step costs against a classification step of the same model
 * and batch, with the MLM head on the masked positions only (mlmScoring 'masked', what `bertft pretrain` runs) and on
 * every position (mlmScoring 'every', the dense head it had before: the same loss and gradients). All three engines
 * live in this one process and take turns (round-robin, `rounds` x `steps` timed steps each after `warmup`), so the
 * ratios come from one run under the same load. Full-length batches of random ids, 15% of the tokens masked (80/10/10)
 * with fresh masks every step, dropout on as in pre-training, the training malloc settings. Each step's wall time and
 * the process's CPU time during it are recorded: on a machine shared with other jobs the wall time depends on what
 * else runs, the CPU time of a one-thread session (`threads`, default 1: no spinning workers) much less so.
 *
 * Cases: random:tiny seq 64 batch 16 (bench:pretrain's model), BERT-mini seq 128 batch 16; BERT-base seq 128 batch 8
 * with BENCH_BASE=1. Last stdout line: one JSON object (per case: median s/step of each engine and the ratios).
 *   node out/bench/mlm-step.js '{"rounds":3,"steps":5}'
 */
import * as os from 'node:os';
import { restartInTrainingProcess, watchTrainingParent } from '../src/cli/training-process';
import { presetConfig } from '../src/core/model/config';
import { bertClassifierParamSpecs, initWeights, seededRandom } from '../src/core/model/params';
import { maskBatch, maskSeed, type MaskingOptions } from '../src/core/pretrain/masking';
import { labelledPositions, mlmParamSpecs } from '../src/core/model/mlm-head';
import type { Batch } from '../src/core/tokenize/batch';
import { describeAllocator } from '../src/core/train/allocator';
import { createTrainEngine, type TrainEngine } from '../src/core/train/engine';

type Size = 'tiny' | 'mini' | 'small' | 'base';
interface Case {
  size: Size;
  batch: number;
  seq: number;
}
interface Args {
  rounds: number;
  steps: number;
  warmup: number;
  threads: number;
  cases?: Case[];
}

const args: Args = {
  rounds: 3,
  steps: 5,
  warmup: 2,
  threads: 1,
  ...(JSON.parse(process.argv[2] ?? '{}') as Partial<Args>),
};
const CASES: Case[] = args.cases ?? [
  { size: 'tiny', batch: 16, seq: 64 },
  { size: 'mini', batch: 16, seq: 128 },
  ...(process.env.BENCH_BASE === '1' ? [{ size: 'base' as const, batch: 8, seq: 128 }] : []),
];

/** A full-length batch of random ids ([CLS] … [SEP], no padding) with random class labels. */
function randomBatch(vocab: number, b: number, s: number, seed: number): Batch {
  const rand = seededRandom(seed);
  const inputIds = BigInt64Array.from({ length: b * s }, (_, i) =>
    i % s === 0 ? 101n : i % s === s - 1 ? 102n : BigInt(1000 + Math.floor(rand() * (vocab - 1000))),
  );
  return {
    batchSize: b,
    seqLen: s,
    inputIds,
    attentionMask: new BigInt64Array(b * s).fill(1n),
    tokenTypeIds: new BigInt64Array(b * s),
    labels: BigInt64Array.from({ length: b }, () => BigInt(Math.floor(rand() * 2))),
    docIndex: Int32Array.from({ length: b }, (_, i) => i),
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function measure(c: Case) {
  const config = presetConfig(c.size);
  const hyper = {
    lr: 1e-4,
    weightDecay: 0.01,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    maxGradNorm: 1,
    warmupSteps: 0,
    totalSteps: 1_000_000,
  };
  const masking: MaskingOptions = { maskTokenId: 103, vocabSize: config.vocabSize, specialIds: new Set([0, 101, 102]) };
  const common = { config, hyper, device: 'cpu' as const, dropout: true, seed: 1, threads: args.threads };
  const engines: Record<'classify' | 'mlm_every' | 'mlm_masked', TrainEngine> = {
    classify: await createTrainEngine({
      ...common,
      numLabels: 2,
      weights: initWeights(bertClassifierParamSpecs(config, 2), 1, config.initializerRange),
    }),
    mlm_every: await createTrainEngine({
      ...common,
      numLabels: 0,
      task: 'mlm',
      mlmScoring: 'every',
      weights: initWeights(mlmParamSpecs(config), 1, config.initializerRange),
    }),
    mlm_masked: await createTrainEngine({
      ...common,
      numLabels: 0,
      task: 'mlm',
      weights: initWeights(mlmParamSpecs(config), 1, config.initializerRange),
    }),
  };
  const times: Record<keyof typeof engines, number[]> = { classify: [], mlm_every: [], mlm_masked: [] };
  const cpu: Record<keyof typeof engines, number[]> = { classify: [], mlm_every: [], mlm_masked: [] };
  const masked: number[] = [];
  let step = 0;
  for (let r = 0; r < args.rounds; r++) {
    for (const [name, engine] of Object.entries(engines) as [keyof typeof engines, TrainEngine][]) {
      for (let i = 0; i < (r === 0 ? args.warmup : 0) + args.steps; i++) {
        const plain = randomBatch(config.vocabSize, c.batch, c.seq, ++step);
        const batch = name === 'classify' ? plain : maskBatch(plain, masking, maskSeed(1, step));
        if (name === 'mlm_masked') masked.push(labelledPositions(batch.labels!).length);
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        await engine.trainStep(batch);
        const used = process.cpuUsage(c0);
        if (r > 0 || i >= args.warmup) {
          times[name].push((performance.now() - t0) / 1000);
          cpu[name].push((used.user + used.system) / 1e6);
        }
      }
    }
  }
  for (const e of Object.values(engines)) await e.dispose();
  const ratios = (t: Record<keyof typeof engines, number[]>) => {
    const s = { classify: median(t.classify), mlm_every: median(t.mlm_every), mlm_masked: median(t.mlm_masked) };
    return {
      median_step_s: s,
      mlm_every_vs_classify: s.mlm_every / s.classify,
      mlm_masked_vs_classify: s.mlm_masked / s.classify,
      masked_speedup: s.mlm_every / s.mlm_masked,
    };
  };
  const row = {
    ...c,
    threads: args.threads,
    masked_tokens_mean: masked.reduce((a, b) => a + b, 0) / masked.length,
    tokens: c.batch * c.seq,
    steps_per_engine: times.classify.length,
    wall: ratios(times),
    cpu: ratios(cpu),
  };
  for (const [clock, r] of [
    ['wall', row.wall],
    ['cpu', row.cpu],
  ] as const) {
    const s = r.median_step_s;
    console.log(
      `${c.size} seq ${c.seq} batch ${c.batch}, ${clock} time: classify ${s.classify.toFixed(3)} s, MLM every position ${s.mlm_every.toFixed(3)} s ` +
        `(${r.mlm_every_vs_classify.toFixed(2)}x), MLM masked positions ${s.mlm_masked.toFixed(3)} s (${r.mlm_masked_vs_classify.toFixed(2)}x); ` +
        `masked head ${r.masked_speedup.toFixed(2)}x faster (load ${os.loadavg()[0].toFixed(1)})`,
    );
  }
  return row;
}

async function main(): Promise<void> {
  const cpu = os.cpus();
  const machine = `${cpu.length} x ${cpu[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.platform()} ${os.release()}`;
  console.log(`machine: ${machine}; node ${process.version}; ${describeAllocator()}`);
  const loadBefore = os.loadavg()[0];
  const cases = [];
  for (const c of CASES) cases.push(await measure(c));
  console.log(
    JSON.stringify({
      args,
      cases,
      machine,
      load_average_1min: { before: loadBefore, after: os.loadavg()[0] },
      date: new Date().toISOString(),
    }),
  );
}

// It trains in this process, so it runs with a training process's malloc settings, as bertft does (src/core/train/allocator.ts).
watchTrainingParent();
const restarted = restartInTrainingProcess(__filename, process.argv.slice(2));
if (restarted)
  void restarted.then((code) => {
    process.exitCode = code;
  });
else void main();
