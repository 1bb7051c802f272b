/**
 * `npm run bench:pretrain`: does masked-LM pre-training on unlabelled in-domain text pay for its compute?
 *
 * SpamAssassin mail (examples/spam-ham.csv) is split by row parity: the even rows' bodies, without labels, are the
 * pre-training text; the odd rows are the labelled task (70/30 stratified split by bertft), never seen in
 * pre-training. The same random:tiny architecture is then fine-tuned
 *   A: after `pretrain` (P MLM steps) for F classification steps,
 *   B: from random init for F steps (same fine-tuning budget),
 *   C: from random init for as many steps as fit in A's total wall time (same compute budget),
 * for several seeds; validation accuracy / macro-F1 of the best checkpoint (by validation loss) are reported.
 * Last stdout line: JSON.   node out/bench/pretrain-benefit.js '{"pretrainSteps":100,"fineTuneSteps":60,"seeds":[1,2]}'
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { restartInTrainingProcess, watchTrainingParent } from '../src/cli/training-process';
import { runPretrainSession } from '../src/core/pretrain/session';
import { runTrainingSession } from '../src/trainer/session';
import type { TrainerEvent } from '../src/trainer/protocol';

interface Args { pretrainSteps: number; fineTuneSteps: number; seeds: number[]; maxLength: number; batchSize: number }
const args: Args = { pretrainSteps: 100, fineTuneSteps: 60, seeds: [1, 2], maxLength: 64, batchSize: 16, ...JSON.parse(process.argv[2] ?? '{}') };

const ROOT = path.resolve(__dirname, '..', '..');
/** Created by main() only, so that the parent of a restarted benchmark leaves nothing behind. */
let work = '';

function splitCorpus(): { unlabelled: string; labelled: string } {
  const lines = fs.readFileSync(path.join(ROOT, 'examples', 'spam-ham.csv'), 'utf8');
  // Parse with the quoted-CSV rules of the file (fields quoted, "" escapes) by reading records, not lines.
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
  const unlabelledTexts = rows.filter((_, i) => i % 2 === 0).map((r) => r.slice(0, r.lastIndexOf(',')));
  const labelledRows = rows.filter((_, i) => i % 2 === 1);
  const unlabelled = path.join(work, 'unlabelled.csv');
  const labelled = path.join(work, 'labelled.csv');
  fs.writeFileSync(unlabelled, ['text', ...unlabelledTexts].join('\n') + '\n');
  fs.writeFileSync(labelled, [header, ...labelledRows].join('\n') + '\n');
  return { unlabelled, labelled };
}

async function fineTune(data: string, model: string, steps: number, seed: number, name: string) {
  const events: TrainerEvent[] = [];
  const t0 = performance.now();
  await runTrainingSession(
    // epochs high so that maxSteps alone ends the run; no early stopping (the fast preset has none).
    { data, out: path.join(work, name), model, maxSteps: steps, epochs: 1000, batchSize: args.batchSize, maxLength: args.maxLength, lr: 2e-3,
      validRatio: 0.3, seed, device: 'cpu', evalSteps: Math.max(1, Math.floor(steps / 6)) },
    { emit: (e) => events.push(e), shouldStop: () => false },
  );
  const seconds = (performance.now() - t0) / 1000;
  const evals = events.filter((e) => e.event === 'eval') as unknown as { loss: number; accuracy: number; macro_f1: number }[];
  const best = evals.reduce((a, b) => (b.loss < a.loss ? b : a));
  return { seconds, accuracy: best.accuracy, macro_f1: best.macro_f1, loss: best.loss };
}

async function main(): Promise<void> {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'bertft-bench-pretrain-'));
  const { unlabelled, labelled } = splitCorpus();
  const rows: Record<string, unknown>[] = [];
  for (const seed of args.seeds) {
    const t0 = performance.now();
    const pre = path.join(work, `pre-${seed}`);
    const done = await runPretrainSession({ data: unlabelled, out: pre, model: 'random:tiny', maxSteps: args.pretrainSteps, batchSize: args.batchSize,
      maxLength: args.maxLength, lr: 1e-3, seed, evalSteps: args.pretrainSteps }, { emit: () => undefined });
    const pretrainSeconds = (performance.now() - t0) / 1000;
    const a = await fineTune(labelled, pre, args.fineTuneSteps, seed, `a-${seed}`);
    const b = await fineTune(labelled, 'random:tiny', args.fineTuneSteps, seed, `b-${seed}`);
    const cSteps = Math.round(args.fineTuneSteps * ((pretrainSeconds + a.seconds) / b.seconds));
    const c = await fineTune(labelled, 'random:tiny', cSteps, seed, `c-${seed}`);
    const row = { seed, pretrainSeconds, pretrainMlmLoss: done.best_mlm_loss, a, b, c: { ...c, steps: cSteps } };
    console.error(JSON.stringify(row));
    rows.push(row);
  }
  console.log(JSON.stringify({ args, cpus: os.cpus().length, rows }));
}

// It trains in this process, so it runs with a training process's malloc settings, as bertft does (src/core/train/allocator.ts).
watchTrainingParent();
const restarted = restartInTrainingProcess(__filename, process.argv.slice(2));
if (restarted) void restarted.then((code) => { process.exitCode = code; });
else void main().then(() => fs.rmSync(work, { recursive: true, force: true }));
