/**
 * `npm run bench:gpu`: the GPU checks of the engine notes, ready for a machine that has a GPU. For BERT-mini (seq 128,
 * batch 16) and, unless BENCH_SKIP_BASE=1, BERT-base (seq 128, batch 8) it runs the same 20 training steps (same
 * weights, same batch, dropout off, graph optimization 'basic') on the CPU and on each device in GPU_DEVICES
 * (default "webgpu,cuda"), each in its own process, and reports the median step time, the ratio to the CPU and the
 * largest |Δloss| against the CPU over the 20 steps. A device the engine refuses (it falls back to the CPU and says
 * why on stderr) is reported as refused, not timed. With TORCH_DEVICE=cuda it also times PyTorch on that GPU
 * (`python3` with torch, or TORCH_PYTHON). To see which ops ORT placed on the CPU, run with ORT_VERBOSE=1 and read
 * the stderr of the GPU runs (node placement is logged at verbose level).
 * Last stdout line: one JSON object of the figures.
 */
import * as path from 'node:path';
import { presetConfig } from '../src/core/model/config';
import { hfConfigJson } from '../src/core/model/load';
import { trainingProcessEnv } from '../src/core/train/allocator';
import { findRoot, runJson } from './child-process';

const ROOT = findRoot(__dirname);
const STEPS = Number(process.env.BENCH_STEPS ?? 20);
const WARMUP = 3;

interface Run {
  device: string;
  median_step_s: number;
  losses: number[];
  peak_rss_mb: number;
}

interface Case {
  size: 'mini' | 'base';
  batch: number;
  seq: number;
}

function ours(c: Case, device: string): Run {
  const args = {
    size: c.size,
    numLabels: 2,
    batch: c.batch,
    seq: c.seq,
    warmup: WARMUP,
    steps: STEPS,
    device,
    optLevel: 'basic',
  };
  // As the product trains: with the training process's malloc settings.
  const base = trainingProcessEnv(process.env);
  const env = process.env.ORT_VERBOSE === '1' ? { ...base, ORT_LOG_LEVEL: 'verbose' } : base;
  return runJson<Run>(ROOT, process.execPath, [path.join(__dirname, 'train-step-ours.js'), JSON.stringify(args)], env);
}

function torch(c: Case, device: string): Run {
  const args = {
    config: hfConfigJson(presetConfig(c.size), ['label0', 'label1']),
    numLabels: 2,
    batch: c.batch,
    seq: c.seq,
    warmup: WARMUP,
    steps: STEPS,
    threads: 1,
    device,
  };
  return runJson<Run>(ROOT, process.env.TORCH_PYTHON ?? 'python3', [
    path.join(ROOT, 'bench', 'reference', 'bench_torch.py'),
    JSON.stringify(args),
  ]);
}

/** Largest |Δloss| over the steps the two runs share (warmup steps included: the trajectories start together). */
function maxLossDiff(a: number[], b: number[]): number {
  return Math.max(...a.slice(0, Math.min(a.length, b.length)).map((x, i) => Math.abs(x - b[i])));
}

function check(c: Case): Record<string, unknown> {
  const cpu = ours(c, 'cpu');
  console.log(`${c.size}: cpu ${cpu.median_step_s.toFixed(3)} s/step`);
  const result: Record<string, unknown> = { cpu_s: cpu.median_step_s };
  for (const device of (process.env.GPU_DEVICES ?? 'webgpu,cuda').split(',').filter(Boolean)) {
    let run: Run;
    try {
      run = ours(c, device);
    } catch (e) {
      console.log(`${c.size}: ${device} failed: ${(e as Error).message}`);
      result[device] = { failed: (e as Error).message };
      continue;
    }
    if (run.device !== device) {
      console.log(
        `${c.size}: ${device} refused (the engine fell back to ${run.device}; its reason is on stderr above)`,
      );
      result[device] = { refused: true, got: run.device };
      continue;
    }
    const diff = maxLossDiff(cpu.losses, run.losses);
    console.log(
      `${c.size}: ${device} ${run.median_step_s.toFixed(3)} s/step (${(run.median_step_s / cpu.median_step_s).toFixed(2)}x CPU), max |Δloss| vs CPU over ${run.losses.length} steps ${diff.toExponential(2)}`,
    );
    result[device] = {
      step_s: run.median_step_s,
      ratio_to_cpu: run.median_step_s / cpu.median_step_s,
      max_abs_dloss: diff,
      peak_rss_mb: run.peak_rss_mb,
    };
  }
  const torchDevice = process.env.TORCH_DEVICE;
  if (torchDevice) {
    const t = torch(c, torchDevice);
    console.log(`${c.size}: PyTorch on ${torchDevice} ${t.median_step_s.toFixed(3)} s/step`);
    result[`torch_${torchDevice}_s`] = t.median_step_s;
  }
  return result;
}

const cases: Case[] = [{ size: 'mini', batch: 16, seq: 128 }];
if (process.env.BENCH_SKIP_BASE !== '1') cases.push({ size: 'base', batch: 8, seq: 128 });
const figures: Record<string, unknown> = { steps: STEPS, date: new Date().toISOString() };
for (const c of cases) figures[c.size] = check(c);
console.log(JSON.stringify(figures));
