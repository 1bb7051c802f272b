/**
 * `npm run bench:explain`: the time of one token explanation (integrated gradients, 50 steps, 64 tokens, a random
 * classifier): ours (core/infer/explain.ts AttributionModel: the graph of our ops and their backward, in batches of 13
 * path rows) vs plain PyTorch 1.13 autograd (bench/reference/ig_torch.py: all 51 rows in one batch), each in its own
 * process on the same CPU, 1 and 2 threads each, the faster kept. BENCH_SKIP_BASE=1 measures BERT-mini only.
 * Last stdout line: JSON with ratio (BERT-base, ours / PyTorch; mini when base is skipped) and every figure.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { presetConfig } from '../src/core/model/config';
import { hfConfigJson } from '../src/core/model/load';
import { findRoot, runJson } from './child-process';

const ROOT = findRoot(__dirname);
const SEQ = 64;
const STEPS = 50;
const RUNS = 3;

interface Figures {
  median_s: number;
  threads: number;
}

function ours(size: string, threads: number): Figures {
  const args = { size, seq: SEQ, steps: STEPS, runs: RUNS, threads };
  return runJson<Figures>(ROOT, process.execPath, [path.join(__dirname, 'explain-ours.js'), JSON.stringify(args)]);
}

function torch(size: string, threads: number): Figures {
  const args = {
    config: hfConfigJson(presetConfig(size), ['a', 'b']),
    numLabels: 2,
    seq: SEQ,
    steps: STEPS,
    runs: RUNS,
    threads,
  };
  return runJson<Figures>(
    ROOT,
    '/usr/bin/python3',
    [path.join(ROOT, 'bench', 'reference', 'ig_torch.py'), JSON.stringify(args)],
    {
      ...process.env,
      OPENBLAS_NUM_THREADS: String(threads),
    },
  );
}

function best(label: string, run: (threads: number) => Figures): Figures {
  const tried = [1, 2].map((t) => {
    const f = run(t);
    console.log(`  ${label.padEnd(8)} threads ${t}: ${f.median_s.toFixed(3)} s per explanation`);
    return f;
  });
  return tried.reduce((a, b) => (b.median_s < a.median_s ? b : a));
}

function main(): void {
  const cpu = os.cpus();
  console.log(`${cpu.length} x ${cpu[0]?.model ?? 'unknown CPU'}; ${SEQ} tokens, ${STEPS} steps (${STEPS + 1} passes)`);
  const sizes = process.env.BENCH_SKIP_BASE === '1' ? ['mini'] : ['mini', 'base'];
  const results: Record<string, { ours: Figures; pytorch: Figures; ratio: number }> = {};
  for (const size of sizes) {
    console.log(`BERT-${size}`);
    const pytorch = best('PyTorch', (t) => torch(size, t));
    const mine = best('ours', (t) => ours(size, t));
    results[size] = { ours: mine, pytorch, ratio: mine.median_s / pytorch.median_s };
  }
  const headline = results.base ?? results.mini;
  console.log(JSON.stringify({ ratio: headline.ratio, seq: SEQ, steps: STEPS, ...results }));
}

main();
