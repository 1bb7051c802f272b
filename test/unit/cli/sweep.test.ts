/**
 * `bertft sweep`: the grid and its refusals (each a user error naming --grid and the fix), a real 2×2 sweep of
 * random:tiny on a small dataset (four trial run folders, sweep.json, a leaderboard sorted by the selection metric),
 * `--show`, an interrupted sweep continued by `--resume` (the finished trial kept, the stopped one resumed, the rest
 * trained), and the Slurm job array script of `--slurm --dry-run`. Submitting the array: test/cluster/slurm.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../../../src/cli/main';
import type { CliIo } from '../../../src/cli/output';
import { parseGrid } from '../../../src/cli/sweep';
import { UserError } from '../../../src/core/errors';
import { readMetricsLog } from '../../../src/core/run/metrics-log';
import { expandGrid, samplePoints, type Leaderboard, type SweepRecord } from '../../../src/core/sweep/sweep';
import { tempDir, writeSentimentCsv } from '../runner/fixtures';

async function cli(
  argv: string[],
  onStderr?: (text: string) => void,
): Promise<{ code: number; out: string; err: string }> {
  const io: CliIo & { out: string; err: string } = {
    out: '',
    err: '',
    stderrIsTTY: false,
    stdout: (t: string) => {
      io.out += t;
    },
    stderr: (t: string) => {
      io.err += t;
      onStderr?.(t);
    },
  };
  const code = await runCli(argv, io);
  return { code, out: io.out, err: io.err };
}

/** The base train flags of the sweeps below: a few steps of random:tiny, the best model picked by accuracy. */
function baseFlags(data: string): string[] {
  return ['--data', data, '--model', 'random:tiny', '--max-length', '16', '--metric', 'accuracy', '--seed', '3'];
}

const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(file, 'utf8')) as T;

function assertSorted(board: Leaderboard): void {
  const values = board.rows.map((r) => r.best_metric!);
  assert.deepEqual(
    values,
    [...values].sort((a, b) => b - a),
    `accuracy: best first (${values.join(', ')})`,
  );
}

test('the grid: every combination, values parsed by the train flags, N points drawn with a seed', () => {
  const axes = parseGrid(['lr=1e-3,2e-3', 'epochs=2,4', 'truncation=head,head+tail']);
  assert.deepEqual(axes[0], { name: 'lr', values: [0.001, 0.002] });
  const points = expandGrid(axes);
  assert.equal(points.length, 8);
  assert.deepEqual(points[0], { lr: 0.001, epochs: 2, truncation: 'head' });
  assert.deepEqual(points[1], { lr: 0.001, epochs: 2, truncation: 'head+tail' });
  assert.deepEqual(points[7], { lr: 0.002, epochs: 4, truncation: 'head+tail' });
  const drawn = samplePoints(points, 3, 5);
  assert.equal(drawn.length, 3);
  assert.equal(new Set(drawn.map((p) => JSON.stringify(p))).size, 3, 'distinct points');
  assert.deepEqual(samplePoints(points, 3, 5), drawn, 'the same seed draws the same points');
  assert.notDeepEqual(
    [1, 2, 3, 4, 5].map((s) => JSON.stringify(samplePoints(points, 3, s))),
    Array(5).fill(JSON.stringify(drawn)),
    'other seeds draw other points',
  );
});

test('grid mistakes are user errors naming --grid, the flag and the fix', async () => {
  const refused = (grids: string[], message: RegExp, fix?: RegExp): void => {
    assert.throws(
      () => parseGrid(grids),
      (e: unknown) => {
        assert.ok(e instanceof UserError, String(e));
        assert.match(e.message, message);
        if (fix) assert.match(e.fix ?? '', fix);
        return true;
      },
    );
  };
  refused(['lr=0,1e-3'], /--grid lr: --lr must be greater than 0/);
  refused(['lr=fast'], /--grid lr: --lr must be a number \(got "fast"\)/, /--grid lr=/);
  refused(['batch-size=8,8.5'], /--grid batch-size: --batch-size must be a whole number/);
  refused(['truncation=head,tail'], /--grid truncation: --truncation must be one of head, head\+tail, window/);
  refused(['learning-rate=1e-3'], /--grid learning-rate: `bertft train` has no flag --learning-rate/, /lr/);
  refused(['data=a.csv,b.csv'], /--grid data: --data is the same for every trial/, /Give it once as --data/);
  refused(['lr'], /--grid "lr" is not a train flag with its values/, /--grid lr=1e-4,3e-4/);
  refused(['lr=1e-3,,2e-3'], /--grid lr has an empty value/);
  refused(['lr=1e-3', 'lr=2e-3'], /--grid lr is given twice/);
  refused(['lr=1e-3,0.001'], /--grid lr repeats a value/);

  const dir = tempDir('sweep-refusals');
  const data = writeSentimentCsv(dir);
  const out = path.join(dir, 'sweep');
  let r = await cli(['sweep', ...baseFlags(data), '--grid', 'lr=1e-3,2e-3', '--random', '3', '--out', out]);
  assert.equal(r.code, 1);
  assert.match(r.err, /--random 3 asks for more points than the grid has \(2\)/);
  r = await cli(['sweep', ...baseFlags(data), '--lr', '1e-3', '--grid', 'lr=1e-3,2e-3', '--out', out]);
  assert.equal(r.code, 1);
  assert.match(r.err, /--lr is given both alone and as --grid lr/);
  r = await cli(['sweep', ...baseFlags(data), '--out', out]);
  assert.equal(r.code, 1);
  assert.match(r.err, /needs a --grid/);
  r = await cli(['sweep', '--grid', 'lr=1e-3', '--out', out]);
  assert.equal(r.code, 1);
  assert.match(r.err, /needs --data/);
  assert.equal(fs.existsSync(out), false, 'a refused sweep writes nothing');
  r = await cli(['sweep', '--show', path.join(dir, 'nothing')]);
  assert.equal(r.code, 1);
  assert.match(r.err, /holds no sweep \(no sweep\.json\)/);
});

test('a 2×2 sweep trains four trial run folders and writes a leaderboard sorted by the metric; --show prints it', async () => {
  const dir = tempDir('sweep-2x2');
  const data = writeSentimentCsv(dir, 64);
  const out = path.join(dir, 'sweep');
  const grid = ['--grid', 'lr=2e-3,1e-2', '--grid', 'epochs=1,2'];
  const r = await cli(['sweep', ...baseFlags(data), ...grid, '--batch-size', '16', '--out', out]);
  assert.equal(r.code, 0, r.err);

  const record = readJson<SweepRecord>(path.join(out, 'sweep.json'));
  assert.deepEqual(
    record.trials.map((t) => [t.dir, t.settings]),
    [
      ['trial-000', { lr: 0.002, epochs: 1 }],
      ['trial-001', { lr: 0.002, epochs: 2 }],
      ['trial-002', { lr: 0.01, epochs: 1 }],
      ['trial-003', { lr: 0.01, epochs: 2 }],
    ],
  );
  assert.ok(record.baseArgs.includes('--batch-size') && !record.baseArgs.includes('--out'));
  for (const t of record.trials) {
    const run = path.join(out, t.dir);
    assert.ok(fs.existsSync(path.join(run, 'run.json')), `${t.dir}/run.json`);
    assert.ok(fs.existsSync(path.join(run, 'best', 'model.onnx')), `${t.dir}/best/model.onnx`);
    const config = readJson<{ config: { lr: number; epochs: number; batchSize: number } }>(path.join(run, 'run.json'));
    assert.equal(config.config.lr, t.settings.lr, `${t.dir} trained with its lr`);
    assert.equal(config.config.epochs, t.settings.epochs, `${t.dir} trained with its epochs`);
    assert.equal(config.config.batchSize, 16, `${t.dir} trained with the base batch size`);
  }

  const board = readJson<Leaderboard>(path.join(out, 'leaderboard.json'));
  assert.equal(board.metric, 'accuracy');
  assert.equal(board.rows.length, 4);
  assertSorted(board);
  for (const row of board.rows) {
    assert.equal(row.status, 'done');
    const done = readMetricsLog(path.join(out, row.dir, 'metrics.jsonl')).find((e) => e.event === 'done');
    assert.ok(done && done.event === 'done');
    assert.equal(row.best_metric, done.best_metric, `${row.dir}: the run's own best accuracy`);
    assert.equal(row.steps, done.final_step);
    assert.equal(row.accuracy, row.best_metric, 'selected by accuracy: the best evaluation is that accuracy');
    assert.ok(row.macro_f1 !== null && row.macro_f1 >= 0 && row.macro_f1 <= 1);
    assert.ok(row.wall_seconds > 0);
  }
  const steps = (dirName: string): number => board.rows.find((row) => row.dir === dirName)!.steps;
  assert.equal(steps('trial-001'), 2 * steps('trial-000'), 'two epochs: twice the steps');

  const shown = await cli(['sweep', '--show', out]);
  assert.equal(shown.code, 0, shown.err);
  const lines = shown.out.trim().split('\n');
  assert.match(lines[0], /Leaderboard of .* \(best accuracy first\)/);
  assert.match(lines[1], /^RANK\s+TRIAL\s+STATUS\s+BEST ACCURACY\s+ACCURACY\s+MACRO-F1\s+STEPS\s+TIME\s+SETTINGS$/);
  assert.deepEqual(
    lines.slice(2, 6).map((l) => l.split(/\s+/)[1]),
    board.rows.map((row) => row.dir),
    'the rows in leaderboard order',
  );
  assert.match(lines[2], /^1\s+trial-\d{3}\s+done\s+\d\.\d{4}/);
  const json = await cli(['sweep', '--show', out, '--json']);
  const event = JSON.parse(json.out.trim()) as Leaderboard & { event: string };
  assert.equal(event.event, 'leaderboard');
  assert.deepEqual(
    event.rows.map((row) => row.dir),
    board.rows.map((row) => row.dir),
  );

  const again = await cli(['sweep', ...baseFlags(data), ...grid, '--out', out]);
  assert.equal(again.code, 1);
  assert.match(again.err, /holds a sweep.*bertft sweep --resume --out/s);
});

test('an interrupted sweep continues with --resume: finished trials kept, the stopped one resumed, the rest trained', async () => {
  const dir = tempDir('sweep-resume');
  const data = writeSentimentCsv(dir);
  const out = path.join(dir, 'sweep');
  const argv = ['sweep', ...baseFlags(data), '--grid', 'lr=2e-3,5e-3,1e-2', '--epochs', '1', '--out', out];
  // Ctrl-C as trial-001 starts: it stops after its first step with a checkpoint, and the sweep ends there.
  const first = await cli(argv, (text) => {
    if (text.includes('Starting trial-001')) process.emit('SIGINT', 'SIGINT');
  });
  assert.equal(first.code, 130, first.err);
  assert.match(first.err, /bertft sweep --resume --out/);
  const stopped = readJson<Leaderboard>(path.join(out, 'leaderboard.json'));
  assert.deepEqual(
    stopped.rows.map((r) => [r.dir, r.status]),
    [
      ['trial-000', 'done'],
      ['trial-001', 'stopped'],
      ['trial-002', 'pending'],
    ],
  );
  const finishedLog = fs.readFileSync(path.join(out, 'trial-000', 'metrics.jsonl'), 'utf8');

  const resumed = await cli(['sweep', '--resume', '--out', out]);
  assert.equal(resumed.code, 0, resumed.err);
  assert.doesNotMatch(resumed.err, /trial-000/, 'the finished trial is not started again');
  assert.match(resumed.err, /Resuming trial-001/);
  assert.match(resumed.err, /Starting trial-002/);
  assert.equal(fs.readFileSync(path.join(out, 'trial-000', 'metrics.jsonl'), 'utf8'), finishedLog);
  const started = readMetricsLog(path.join(out, 'trial-001', 'metrics.jsonl')).filter((e) => e.event === 'started');
  assert.equal(started.length, 2);
  assert.ok(started[1].event === 'started' && started[1].resumed_from_step === 1, 'resumed from its checkpoint');
  const board = readJson<Leaderboard>(path.join(out, 'leaderboard.json'));
  assert.deepEqual(
    board.rows.map((r) => r.status),
    ['done', 'done', 'done'],
  );
  assertSorted(board);

  const refused = await cli(['sweep', '--resume', '--out', out, '--grid', 'lr=1e-3']);
  assert.equal(refused.code, 1);
  assert.match(refused.err, /takes no --grid/);
});

test('a trial that fails is recorded with its reason and the sweep goes on; it ranks after the trained ones', async () => {
  const dir = tempDir('sweep-failed');
  const data = writeSentimentCsv(dir);
  const out = path.join(dir, 'sweep');
  const missing = path.join(dir, 'no-such-model');
  const r = await cli([
    'sweep',
    ...baseFlags(data).slice(0, 2),
    '--grid',
    `model=${missing},random:tiny`,
    '--out',
    out,
  ]);
  assert.equal(r.code, 1, 'a failed trial makes the sweep exit 1');
  assert.match(r.out, /trial-000 failed: Model folder .*no-such-model does not exist/);
  assert.match(r.err, /1 of 2 trials failed\. Fix what they say, then `bertft sweep --resume --out /);
  const board = readJson<Leaderboard>(path.join(out, 'leaderboard.json'));
  assert.deepEqual(
    board.rows.map((row) => [row.dir, row.status]),
    [
      ['trial-001', 'done'],
      ['trial-000', 'failed'],
    ],
  );
  assert.match(board.rows[1].error ?? '', /no-such-model does not exist/);
  const shown = await cli(['sweep', '--show', out]);
  assert.match(shown.out, /^-\s+trial-000\s+failed/m, '--show keeps the recorded failure');
  assert.match(shown.out, /trial-000: Model folder .*does not exist/);
});

test('--slurm --dry-run prints one job array script: --array=0-N%P, each task its trial folder and train flags', async () => {
  const dir = tempDir('sweep-array');
  const data = writeSentimentCsv(dir);
  const out = path.join(dir, 'sweep');
  const r = await cli([
    'sweep',
    '--slurm',
    '--dry-run',
    ...baseFlags(data),
    '--grid',
    'lr=1e-3,2e-3',
    '--grid',
    'epochs=1,2',
    '--max-parallel',
    '2',
    '--partition',
    'batch',
    '--time',
    '30',
    '--out',
    out,
  ]);
  assert.equal(r.code, 0, r.err);
  const script = r.out;
  assert.match(script, /^#SBATCH --array=0-3%2$/m);
  assert.match(script, /^#SBATCH --partition=batch$/m);
  assert.ok(script.includes(`#SBATCH --output=${out}/slurm-%A_%a.out`));
  const base = `--data ${data} --model random:tiny --max-length 16 --metric accuracy --seed 3`;
  for (const [i, lr, epochs] of [
    [0, '0.001', 1],
    [1, '0.001', 2],
    [2, '0.002', 1],
    [3, '0.002', 2],
  ] as const) {
    const trial = path.join(out, `trial-00${i}`);
    const words = base.split(' ');
    const line = script.split('\n').find((l) => l.startsWith(`  ${i}) RUN=${trial};`));
    assert.ok(line, `task ${i} runs trial-00${i}`);
    assert.ok(line.includes(`--lr ${lr}`) && line.includes(`--epochs ${epochs}`), line);
    for (const w of words) assert.ok(line.includes(w), `${line} has ${w}`);
  }
  assert.match(script, /mode=new; args=\("\$\{new_args\[@\]\}" --out "\$RUN" --device cpu\)/);
  assert.match(script, /mode=resume; args=\(train --out "\$RUN" --device cpu --resume\)/);
  assert.equal(spawnSync('bash', ['-n'], { input: script }).status, 0, 'bash parses the script');
  assert.equal(fs.existsSync(out), false, '--dry-run writes nothing');

  const json = await cli([
    'sweep',
    '--slurm',
    '--dry-run',
    '--json',
    ...baseFlags(data),
    '--grid',
    'lr=1e-3,2e-3',
    '--out',
    out,
  ]);
  const event = JSON.parse(json.out.trim()) as { event: string; script: string; trials: unknown[] };
  assert.equal(event.event, 'dry-run');
  assert.equal(event.trials.length, 2);
  assert.match(event.script, /^#SBATCH --array=0-1$/m, 'no --max-parallel: no throttle');
});
