/**
 * Every task through the run machinery (`bertft train` in its own process, on real data): multi-label (emojilib's
 * keyword annotations, per-label positive weights), text pairs (WordNet relation pairs) and regression (the years of
 * State of the Union passages). Killed with SIGKILL mid-run, `--resume` ends with the uninterrupted run's weights byte
 * for byte, the same losses and evaluations, and the same best/ (with a multi-label model's thresholds).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readMetricsLog } from '../../../src/core/run/metrics-log';
import { emojiKeywordRows } from '../../helpers/emoji-keywords';
import { sotuYears } from '../../helpers/sotu-years';
import { writeRelationPairs } from '../../helpers/wordnet';
import { tempDir } from './fixtures';
import { stepsOf, trainKilledAtStep } from '../../helpers/bertft-cli';

const ROOT = path.join(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'out', 'src', 'cli.js');
// The training process itself (no restart into a child), so that SIGKILL hits the process that writes.
const ENV = { ...process.env, BERTFT_TRAINING_CHILD: '1' };
const LABELS = ['animal', 'food', 'nature', 'vehicle'];
// 96 rows, 25% held out: 72 training rows, 9 batches of 8 per epoch; 12 steps cross an epoch boundary.
const TOTAL_STEPS = 12;
const ARGS = [
  ...['--model', 'random:tiny', '--max-steps', String(TOTAL_STEPS), '--batch-size', '8', '--valid-ratio', '0.25'],
  ...['--max-length', '16', '--eval-steps', '4', '--seed', '7', '--device', 'cpu', '--lr', '2e-3'],
];

interface TaskCase {
  name: string;
  /** Writes the task's 96 rows under `dir` and returns the data file. */
  data: (dir: string) => string;
  args: string[];
  /** The `task` of its evaluation events. */
  task: string | undefined;
  /** What run.json's config must say (the task as training read it). */
  config: Record<string, unknown>;
  bestFiles: string[];
}

function writeEmojiJsonl(dir: string): string {
  const rows = emojiKeywordRows()
    .rows.slice(0, 96)
    .map((r) => ({ text: r.text, labels: r.labels.filter((l) => LABELS.includes(l)) }));
  const file = path.join(dir, 'emoji.jsonl');
  fs.writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return file;
}

/** The first 96 rows of a CSV whose rows are one line each. */
function firstRows(file: string): string {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  fs.writeFileSync(file, lines.slice(0, 97).join('\n') + '\n');
  return file;
}

const CASES: TaskCase[] = [
  {
    name: 'multi-label',
    data: writeEmojiJsonl,
    args: ['--class-weights'],
    task: 'multi-label',
    config: { problemType: 'multi-label' },
    bestFiles: ['model.safetensors', 'thresholds.json', 'config.json'],
  },
  {
    name: 'text pairs',
    data: (dir) => writeRelationPairs(dir, { perRelation: 32, validPerRelation: 0 }).train,
    args: [],
    task: undefined,
    config: { textPairColumn: 'sentence2' },
    bestFiles: ['model.safetensors', 'config.json'],
  },
  {
    name: 'regression',
    data: (dir) => firstRows(sotuYears(dir).train),
    args: ['--task', 'regression'],
    task: 'regression',
    config: { problemType: 'regression' },
    bestFiles: ['model.safetensors', 'config.json'],
  },
];

const train = (args: string[]) => spawnSync(process.execPath, [CLI, 'train', ...args], { env: ENV, encoding: 'utf8' });

/** Each evaluation's figures (without its time) by step; a step logged again after a resume counts once, the last. */
const evalsOf = (out: string): string[] => {
  const byStep = new Map<number, string>();
  for (const e of readMetricsLog(path.join(out, 'metrics.jsonl')))
    if (e.event === 'eval') byStep.set(e.step, JSON.stringify({ ...e, time: undefined }));
  return [...byStep].sort(([a], [b]) => a - b).map(([, figures]) => figures);
};

const file = (out: string, ...parts: string[]): Buffer => fs.readFileSync(path.join(out, ...parts));

for (const task of CASES) {
  test(`${task.name}: kill -9 mid-run and --resume end with the uninterrupted run, byte for byte`, async () => {
    const dir = tempDir(`kill-${task.name.replace(' ', '-')}`);
    const data = task.data(dir);
    const args = [...ARGS, ...task.args];
    const straight = path.join(dir, 'straight');
    const r = train(['--data', data, '--out', straight, ...args]);
    assert.equal(r.status, 0, r.stderr);
    const { config } = JSON.parse(file(straight, 'run.json').toString('utf8')) as { config: Record<string, unknown> };
    for (const [key, value] of Object.entries(task.config)) assert.equal(config[key], value, key);
    const evals = evalsOf(straight);
    const parsed = evals.map((e) => JSON.parse(e) as { step: number; task?: string });
    // Every 4 steps and at the end of the epoch (step 9).
    assert.deepEqual(
      parsed.map((e) => e.step),
      [4, 8, 9, 12],
    );
    assert.ok(
      parsed.every((e) => e.task === task.task),
      JSON.stringify(parsed.map((e) => e.task)),
    );

    const killed = path.join(dir, 'killed');
    // Killed once the step after the first checkpoint (step 4) is logged: mid-run, with work since the checkpoint lost.
    const landed = await trainKilledAtStep(['--data', data, ...args], killed, 5);
    assert.ok(landed, 'the kill landed before the run ended');
    assert.ok(!fs.existsSync(path.join(killed, 'checkpoints', `step-${TOTAL_STEPS}`)), 'the run did not finish');

    const resumed = train(['--out', killed, '--resume']);
    assert.equal(resumed.status, 0, resumed.stderr);
    const starts = readMetricsLog(path.join(killed, 'metrics.jsonl')).filter((e) => e.event === 'started');
    assert.equal(starts.length, 2);
    const from = starts[1].resumed_from_step ?? 0;
    assert.ok(from >= 4 && from < TOTAL_STEPS, `resumed from step ${from}, a checkpoint before the end`);
    const final = ['checkpoints', `step-${TOTAL_STEPS}`, 'model.safetensors'];
    assert.ok(file(killed, ...final).equals(file(straight, ...final)), 'resumed weights are bit-identical');
    const losses = (out: string) => {
      const byStep = new Map(stepsOf(out).map((s) => [s.step, s.loss]));
      return Array.from({ length: TOTAL_STEPS }, (_, i) => byStep.get(i + 1));
    };
    assert.deepEqual(losses(killed), losses(straight));
    assert.deepEqual(evalsOf(killed), evals, 'the same evaluations');
    for (const name of task.bestFiles) {
      assert.ok(file(killed, 'best', name).equals(file(straight, 'best', name)), `best/${name} is the same`);
    }
    if (task.name !== 'multi-label') return;
    const thresholds = JSON.parse(file(killed, 'best', 'thresholds.json').toString('utf8')) as {
      thresholds: Record<string, number>;
    };
    assert.deepEqual(Object.keys(thresholds.thresholds).sort(), [...LABELS].sort());
  });
}
