/**
 * `npm run bench:pairs`: does a pair model read both texts? A real pair task — WordNet word pairs labelled with the
 * relation WordNet records between them (antonym, derivation, hypernym; test/helpers/wordnet.ts, balanced, so the
 * majority rate is 1/3) — trained from scratch three ways, paired by seed:
 *   pair     both words, `[CLS] a [SEP] b [SEP]` (--text-pair-column sentence2)
 *   second   the second word alone (the reference: what one text gives)
 *   first    the first word alone
 * Each run: `bertft train` with random:tiny, `epochs` epochs, max length 24, the run's best evaluation (macro-F1)
 * on the same validation pairs. Printed: accuracy and macro-F1, mean ± sd, and pair − second / pair − first with
 * their 95% Student t intervals; ratio = pair accuracy ÷ second-word accuracy.
 *
 * node out/bench/pairs.js '{"seeds":10,"epochs":6,"perRelation":600,"validPerRelation":150}'   (these are the defaults)
 * Last stdout line: JSON.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeRelationPairs, type WordPair } from '../test/helpers/wordnet';
import { csvField } from '../test/helpers/csv';
import { meanSd, pairedInterval } from './stats';

const args = {
  seeds: 10,
  epochs: 6,
  perRelation: 600,
  validPerRelation: 150,
  ...JSON.parse(process.argv[2] ?? '{}'),
} as {
  seeds: number;
  epochs: number;
  perRelation: number;
  validPerRelation: number;
};
const CLI = path.join(__dirname, '..', 'src', 'cli.js');
type Variant = 'pair' | 'second' | 'first';
const VARIANTS: Variant[] = ['pair', 'second', 'first'];

/** The pairs' first or second words alone as the text, the same labels: one file. */
function singleColumn(dir: string, name: string, rows: WordPair[], word: 'first' | 'second'): string {
  const file = path.join(dir, `${name}.csv`);
  fs.writeFileSync(
    file,
    ['text,label', ...rows.map((r) => `${csvField(r[word])},${csvField(r.relation)}`)].join('\n') + '\n',
  );
  return file;
}

function bestEval(
  data: { train: string; valid: string },
  seed: number,
  out: string,
): { accuracy: number; macro_f1: number } {
  const r = spawnSync(
    process.execPath,
    [
      CLI,
      'train',
      '--json',
      '--data',
      data.train,
      '--valid',
      data.valid,
      '--model',
      'random:tiny',
      '--max-length',
      '24',
      '--epochs',
      String(args.epochs),
      '--seed',
      String(seed),
      '--device',
      'cpu',
      '--out',
      out,
    ],
    { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, BERTFT_TRAINING_CHILD: '1' } },
  );
  if (r.status !== 0) throw new Error(`bertft train failed (seed ${seed}):\n${r.stderr}`);
  const events = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; is_best?: boolean; accuracy: number; macro_f1: number });
  const best = events.filter((e) => e.event === 'eval' && e.is_best).pop();
  if (!best) throw new Error(`no evaluation (seed ${seed})`);
  return { accuracy: best.accuracy, macro_f1: best.macro_f1 };
}

function main(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-pairs-'));
  const pairs = writeRelationPairs(dir, args);
  const files: Record<Variant, { train: string; valid: string }> = {
    pair: pairs,
    second: {
      train: singleColumn(dir, 'second-train', pairs.rows.train, 'second'),
      valid: singleColumn(dir, 'second-valid', pairs.rows.valid, 'second'),
    },
    first: {
      train: singleColumn(dir, 'first-train', pairs.rows.train, 'first'),
      valid: singleColumn(dir, 'first-valid', pairs.rows.valid, 'first'),
    },
  };
  const scores = new Map<Variant, { accuracy: number[]; macro_f1: number[] }>(
    VARIANTS.map((v) => [v, { accuracy: [], macro_f1: [] }]),
  );
  const started = Date.now();
  for (let seed = 1; seed <= args.seeds; seed++) {
    for (const variant of VARIANTS) {
      const s = bestEval(files[variant], seed, path.join(dir, `${variant}-${seed}`));
      scores.get(variant)!.accuracy.push(s.accuracy);
      scores.get(variant)!.macro_f1.push(s.macro_f1);
      console.log(`seed ${seed} ${variant}: accuracy ${s.accuracy.toFixed(3)} macro-F1 ${s.macro_f1.toFixed(3)}`);
    }
  }
  const pct = (x: number) => (100 * x).toFixed(1);
  const summary: Record<string, unknown> = { seeds: args.seeds, epochs: args.epochs, majority: pairs.majority };
  for (const metric of ['accuracy', 'macro_f1'] as const) {
    const of = (v: Variant) => scores.get(v)![metric];
    for (const v of VARIANTS) {
      const { mean, sd } = meanSd(of(v));
      console.log(`${metric} ${v}: ${pct(mean)} ± ${pct(sd)}`);
      summary[`${v}_${metric}`] = { mean, sd };
    }
    for (const other of ['second', 'first'] as const) {
      const d = pairedInterval(of('pair'), of(other));
      console.log(`${metric} pair − ${other}: ${pct(d.mean)} [${pct(d.low)}, ${pct(d.high)}] points`);
      summary[`pair_minus_${other}_${metric}`] = { mean: d.mean, low: d.low, high: d.high };
    }
  }
  summary.ratio = meanSd(scores.get('pair')!.accuracy).mean / meanSd(scores.get('second')!.accuracy).mean;
  summary.minutes = (Date.now() - started) / 60000;
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(JSON.stringify(summary));
}

main();
