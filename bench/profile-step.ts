/**
 * Where a train step's time goes: runs the engine's one-step train graph (CPU, in-place updates) with ORT's profiler and sums kernel time by op type
 * and by phase (forward, loss, backward, clipping, optimizer). A tool for finding speed-ups, not a benchmark.
 *
 *   node out/bench/profile-step.js '{"size":"base","batch":8,"seq":128,"threads":2,"steps":3,"level":"all"}'
 *   ('"tokens":N': a run whose data holds N distinct tokens, whose engine trains only those embedding rows)
 *
 * Phases come from node names (`<op>_<index>`, index ranges from buildStepGraph); nodes that ORT fused or created
 * at level 'all' keep a name that is not one of ours and are counted as 'fused'.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { restartInTrainingProcess, watchTrainingParent } from '../src/cli/training-process';
import { presetConfig } from '../src/core/model/config';
import { encoderFamily } from '../src/core/model/families';
import { classifierParamSpecs, initWeights, wordEmbeddingsName } from '../src/core/model/params';
import type { Batch } from '../src/core/tokenize/batch';
import { createTrainEngine } from '../src/core/train/engine';
import { buildStepGraph } from '../src/core/train/step-graph';

interface Args {
  size: 'tiny' | 'mini' | 'small' | 'base';
  batch: number;
  seq: number;
  threads: number;
  steps: number;
  warmup?: number;
  level?: 'disabled' | 'basic' | 'extended' | 'all';
  top?: number;
  /**
   * Batches of tokens 0..tokens−1 only, and the engine told so (EngineOptions.embeddingTokens): it trains those rows of
   * the word-embedding table, as a run whose data holds that many distinct tokens. Unset: the whole table.
   */
  tokens?: number;
}

interface ProfileEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string };
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as Args;
  const warmup = args.warmup ?? 1;
  const config = presetConfig(args.size);
  const numLabels = 2;
  const adam = { beta1: 0.9, beta2: 0.999, eps: 1e-8 };
  // The engine's train graph (same options, so the same node indices), built here only for its phase boundaries.
  const built = buildStepGraph({
    family: encoderFamily(config),
    numLabels,
    mode: 'train',
    dropout: false,
    adam,
    maxGradNorm: 1,
    embeddingRows: args.tokens
      ? { param: wordEmbeddingsName(config), rows: args.tokens, paddingIdx: config.padTokenId }
      : undefined,
  });
  const prefix = path.join(os.tmpdir(), `bertft-profile-${process.pid}`);
  const specs = classifierParamSpecs(config, numLabels);
  const engine = await createTrainEngine({
    config,
    numLabels,
    weights: initWeights(specs, 0, config.initializerRange),
    hyper: { lr: 5e-5, weightDecay: 0.01, ...adam, maxGradNorm: 1, warmupSteps: 0, totalSteps: 1000 },
    device: 'cpu',
    dropout: false,
    seed: 0,
    threads: args.threads,
    graphOptimizationLevel: args.level ?? 'all',
    profilePrefix: prefix,
    embeddingTokens: args.tokens ? Array.from({ length: args.tokens }, (_, t) => t) : undefined,
  });
  const vocab = args.tokens ?? config.vocabSize;
  const n = args.batch * args.seq;
  const batch: Batch = {
    batchSize: args.batch,
    seqLen: args.seq,
    inputIds: BigInt64Array.from({ length: n }, (_, i) => BigInt(1 + ((i * 7919) % (vocab - 1)))),
    attentionMask: new BigInt64Array(n).fill(1n),
    tokenTypeIds: new BigInt64Array(n),
    labels: BigInt64Array.from({ length: args.batch }, (_, i) => BigInt(i % numLabels)),
    docIndex: Int32Array.from({ length: args.batch }, (_, i) => i),
  };

  const wall: number[] = [];
  for (let i = 0; i < warmup + args.steps; i++) {
    const t0 = performance.now();
    await engine.trainStep(batch);
    wall.push(performance.now() - t0);
  }
  await engine.dispose();
  const profileFile = await newestProfile(prefix);
  const events = JSON.parse(await fs.readFile(profileFile, 'utf8')) as ProfileEvent[];
  await fs.rm(profileFile, { force: true });

  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
  const measuredFrom = runs[warmup]?.ts ?? 0;
  const nodes = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time') && e.ts >= measuredFrom);
  const phases = built.phases!;
  const phaseOf = (name: string): string => {
    const m = /^[A-Za-z]+_(\d+)_kernel_time$/.exec(name);
    if (!m) return 'fused';
    const i = Number(m[1]);
    if (i >= phases.optimizer) return 'optimizer';
    if (i >= phases.clip) return 'clip';
    if (i >= phases.backward) return 'backward';
    if (i >= phases.loss) return 'loss';
    if (i >= phases.forward) return 'forward';
    return 'setup';
  };
  const sum = (key: (e: ProfileEvent) => string): [string, number, number][] => {
    const acc = new Map<string, [number, number]>();
    for (const e of nodes) {
      const k = key(e);
      const cur = acc.get(k) ?? [0, 0];
      acc.set(k, [cur[0] + e.dur, cur[1] + 1]);
    }
    return [...acc.entries()]
      .map(([k, [us, count]]): [string, number, number] => [k, us / 1000 / args.steps, count / args.steps])
      .sort((a, b) => b[1] - a[1]);
  };
  const kernelMs = nodes.reduce((a, e) => a + e.dur, 0) / 1000 / args.steps;
  const runMs = runs.slice(warmup).reduce((a, e) => a + e.dur, 0) / 1000 / args.steps;
  const wallMs = wall.slice(warmup).reduce((a, b) => a + b, 0) / args.steps;
  const show = (title: string, rows: [string, number, number][]): void => {
    console.log(`\n${title}`);
    for (const [k, ms, count] of rows.slice(0, args.top ?? 25)) {
      console.log(
        `  ${k.padEnd(34)} ${ms.toFixed(1).padStart(9)} ms ${((100 * ms) / kernelMs).toFixed(1).padStart(5)}%  ${count.toFixed(0).padStart(5)} nodes`,
      );
    }
  };
  console.log(
    `BERT-${args.size} batch ${args.batch} seq ${args.seq}, ${args.threads} threads, level ${args.level ?? 'all'}: ${built.nodeCount} nodes built`,
  );
  console.log(
    `per step: wall ${wallMs.toFixed(0)} ms (JS run() call), ORT model_run ${runMs.toFixed(0)} ms, kernels ${kernelMs.toFixed(0)} ms`,
  );
  const byPhase = sum((e) => phaseOf(e.name));
  const byOp = sum((e) => e.args?.op_name ?? '?');
  const byPhaseOp = sum((e) => `${phaseOf(e.name)} ${e.args?.op_name ?? '?'}`);
  show('by phase', byPhase);
  show('by op', byOp);
  show('by phase and op', byPhaseOp);
  console.log(
    JSON.stringify({
      wall_ms: wallMs,
      run_ms: runMs,
      kernel_ms: kernelMs,
      by_phase: Object.fromEntries(byPhase.map(([k, ms]) => [k, ms])),
      by_op: Object.fromEntries(byOp.map(([k, ms]) => [k, ms])),
    }),
  );
}

async function newestProfile(prefix: string): Promise<string> {
  const dir = path.dirname(prefix);
  const base = path.basename(prefix);
  const files = (await fs.readdir(dir)).filter((f) => f.startsWith(base) && f.endsWith('.json'));
  if (files.length === 0) throw new Error(`ORT wrote no profile next to ${prefix}`);
  return path.join(dir, files.sort().pop()!);
}

// Profile what the product runs: a training process's malloc settings (src/core/train/allocator.ts) change the picture.
watchTrainingParent();
const restarted = restartInTrainingProcess(__filename, process.argv.slice(2));
if (restarted)
  void restarted.then((code) => {
    process.exitCode = code;
  });
else {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
