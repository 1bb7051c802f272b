import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { StartedEvent, TrainerEvent } from '../../../src/core/run/events';
import { RUN_LOCK } from '../../../src/core/run/paths';
import type { EstimateEvent } from '../../../src/core/train/estimate';
import { tempDir, writeSentimentCsv } from '../runner/fixtures';

const CLI = path.join(__dirname, '..', '..', '..', 'src', 'cli.js');

/** Every file under `dir` with its size and mtime, to show that nothing changed. */
function snapshot(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).sort().map((f) => {
    const st = fs.statSync(path.join(dir, f));
    return `${f} ${st.isDirectory() ? 'dir' : st.size} ${st.mtimeMs}`;
  });
}

/** The estimate's scratch folders left in `tmp` (other files there come from native libraries' own logs). */
const scratchLeft = (tmp: string): string[] => fs.readdirSync(tmp).filter((f) => f.startsWith('bertft-estimate-'));

test('bertft train --estimate --json: one estimate object, nothing written to --out (or left in the temp folder), and the counts the real run then has', () => {
  const dir = tempDir('estimate-cli');
  const data = writeSentimentCsv(dir);
  const out = path.join(dir, 'run');
  // The estimate's scratch checkpoint goes to the temp folder; a private one shows that it is removed.
  const tmp = path.join(dir, 'tmp');
  fs.mkdirSync(tmp);
  const env = { ...process.env, TMPDIR: tmp };
  const flags = [
    '--data',
    data,
    '--out',
    out,
    '--model',
    'random:tiny',
    '--batch-size',
    '4',
    '--max-length',
    '32',
    '--max-steps',
    '9',
    '--eval-steps',
    '4',
    '--epochs',
    '5',
    '--lr',
    '1e-3',
    '--seed',
    '3',
    '--device',
    'cpu',
  ];
  const bertft = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env });

  const r = bertft('train', '--estimate', '--json', ...flags);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, 'exactly one JSON object on stdout');
  const e = JSON.parse(lines[0]) as EstimateEvent;
  assert.equal(e.event, 'estimate');
  assert.equal(e.version, 1);
  for (const key of [
    'total_seconds',
    'startup_seconds',
    'train_seconds',
    'eval_seconds',
    'save_seconds',
    'seconds_per_step',
    'peak_rss_bytes',
    'state_bytes',
    'parameters',
    'total_steps',
    'steps',
    'steps_per_epoch',
    'epochs',
    'batch_size',
    'max_length',
    'evaluations',
    'checkpoints',
  ] as const) {
    assert.equal(typeof e[key], 'number', key);
    assert.ok(Number.isFinite(e[key]) && e[key] >= 0, `${key} = ${e[key]}`);
  }
  assert.ok(e.total_seconds > 0 && e.train_seconds > 0 && e.seconds_per_step > 0);
  assert.ok(Math.abs(e.total_seconds - (e.startup_seconds + e.train_seconds + e.eval_seconds + e.save_seconds)) < 0.01);
  assert.ok(e.peak_rss_bytes > 2 * e.state_bytes, 'the peak holds at least the state twice');
  assert.match(e.summary, /^about \d+ (s|min), \d+ MB peak memory$/);
  assert.equal(e.device, 'cpu');
  assert.deepEqual([e.batch_size, e.max_length, e.total_steps, e.steps], [4, 32, 9, 9]);
  assert.ok(e.based_on.warmup_steps >= 1 && e.based_on.eval_forwards >= 1);
  assert.deepEqual(e.dataset.labels, ['neg', 'pos']);
  assert.ok(!fs.existsSync(out), '--out is not created');
  assert.deepEqual(scratchLeft(tmp), [], 'the scratch checkpoint is removed');

  // The real run with the same flags: the same config, steps, evaluations and checkpoints.
  const t = bertft('train', '--json', ...flags);
  assert.equal(t.status, 0, t.stderr);
  const events = t.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as TrainerEvent);
  const started = events.find((x): x is StartedEvent => x.event === 'started')!;
  assert.deepEqual(e.config, started.config);
  assert.equal(e.total_steps, started.total_steps);
  assert.equal(e.evaluations, events.filter((x) => x.event === 'eval').length);
  assert.equal(e.checkpoints, events.filter((x) => x.event === 'checkpoint').length);
  assert.deepEqual(
    [e.dataset.train_rows, e.dataset.valid_rows],
    [started.dataset.train_rows, started.dataset.valid_rows],
  );

  // An existing run: the same refusal as `bertft train` (an error event with --json), and the run stays as it was.
  const before = snapshot(out);
  const exists = bertft('train', '--estimate', '--json', ...flags);
  assert.equal(exists.status, 1);
  assert.match(exists.stderr, /already holds a training run/);
  assert.equal((JSON.parse(exists.stdout.trim()) as { event: string }).event, 'error');
  // --resume of the finished run (its settings from run.json): nothing left to train, the run folder untouched.
  const resumed = bertft('train', '--estimate', '--json', '--resume', '--out', out);
  assert.equal(resumed.status, 0, resumed.stderr);
  const re = JSON.parse(resumed.stdout.trim()) as EstimateEvent;
  assert.deepEqual([re.resumed_from_step, re.steps, re.total_steps], [9, 0, 9]);
  assert.deepEqual(snapshot(out), before, 'nothing in the run folder changed');
  assert.deepEqual(scratchLeft(tmp), []);

  // The run in use by a live process (a training run holds its lock): refused as a second `bertft train` is, before
  // any warm-up, and the lock is only read.
  const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  try {
    const lock = JSON.stringify({ pid: holder.pid, host: os.hostname(), time: '2026-12-06T00:00:00.000Z' });
    fs.writeFileSync(path.join(out, RUN_LOCK), lock);
    const lockedBefore = snapshot(out);
    const locked = bertft('train', '--estimate', '--json', '--resume', '--out', out);
    assert.equal(locked.status, 1, locked.stderr);
    assert.match(locked.stderr.split('\n')[0], new RegExp(`in use by pid ${holder.pid} on ${os.hostname()}`));
    assert.doesNotMatch(locked.stderr, /internal error/);
    const refusal = JSON.parse(locked.stdout.trim()) as { event: string; file?: string };
    assert.deepEqual([refusal.event, refusal.file], ['error', out], 'an error event, not an estimate');
    assert.deepEqual(snapshot(out), lockedBefore, 'nothing in the run folder changed');
    assert.equal(fs.readFileSync(path.join(out, RUN_LOCK), 'utf8'), lock, 'the lock is left to its owner');
    assert.deepEqual(scratchLeft(tmp), []);
  } finally {
    holder.kill();
  }
  fs.rmSync(path.join(out, RUN_LOCK));

  // A folder of the user's is refused as `bertft train` refuses it, and nothing is added to it.
  const mine = path.join(dir, 'mine');
  fs.mkdirSync(mine);
  fs.writeFileSync(path.join(mine, 'notes.txt'), 'mine\n');
  const refused = bertft('train', '--estimate', '--json', ...flags.map((f) => (f === out ? mine : f)));
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /not a bertft run/);
  assert.deepEqual(fs.readdirSync(mine), ['notes.txt']);
});

test('bertft train --estimate without --out, for people: the summary on stdout; --help documents the flag', () => {
  const dir = tempDir('estimate-text');
  const data = writeSentimentCsv(dir);
  const r = spawnSync(
    process.execPath,
    [
      CLI,
      'train',
      '--estimate',
      '--data',
      data,
      '--model',
      'random:tiny',
      '--max-length',
      '32',
      '--batch-size',
      '8',
      '--device',
      'cpu',
    ],
    { encoding: 'utf8', cwd: dir },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Estimate: about \d+ (s|min), \d+ MB peak memory\n/);
  assert.match(r.stdout, /steps \(\d+ epochs × \d+ steps, batch 8, max length 32\) on cpu/);
  assert.match(r.stdout, /nothing was trained\./);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['reviews.csv'], 'nothing written beside the data either');
  const noOut = spawnSync(process.execPath, [CLI, 'train', '--data', data], { encoding: 'utf8' });
  assert.equal(noOut.status, 1);
  assert.match(noOut.stderr, /needs --out/);
  const help = spawnSync(process.execPath, [CLI, 'train', '--help'], { encoding: 'utf8' });
  assert.match(help.stdout, /--estimate +print the expected run time and peak memory/);
});
