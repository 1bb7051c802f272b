/**
 * `npm run test:cluster`: a real one-node Slurm cluster (scripts/slurm/setup.sh: Debian's slurm-wlm + munge, installed
 * when missing, as root) is started before and always taken down after, with no daemon left. Every job is submitted
 * with `bertft submit --slurm` and followed with `bertft jobs`:
 *   - a run on the cluster ends with best/model.safetensors byte-identical to a local run with the same seed;
 *   - a job preempted by the higher-priority partition checkpoints, requeues itself and resumes to the same model;
 *   - `bertft cancel` leaves a stop checkpoint, which `bertft train --resume` here continues to the same model.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const REPO = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(REPO, 'out', 'src', 'cli.js');
const SETUP = path.join(REPO, 'scripts', 'slurm', 'setup.sh');
const DATA = path.join(REPO, 'examples', 'spam-ham.csv');
const TRAIN = ['--data', DATA, '--model', 'random:tiny', '--epochs', '2', '--seed', '7'];
const WORK = fs.mkdtempSync(path.join(os.tmpdir(), 'bertft-cluster-'));
const SANDBOX = path.join(WORK, 'slurm');
const env: NodeJS.ProcessEnv = { ...process.env, SLURM_SANDBOX: SANDBOX };
let daemons: number[] = [];

before(() => {
  const up = spawnSync('bash', [SETUP, 'up'], { env, encoding: 'utf8', timeout: 600_000 });
  assert.equal(up.status, 0, `the cluster did not start:\n${up.stdout}\n${up.stderr}`);
  const conf = /export SLURM_CONF=(\S+)/.exec(up.stdout)?.[1];
  assert.ok(conf, up.stdout);
  env.SLURM_CONF = conf;
  const run = path.join(SANDBOX, 'run');
  daemons = fs.readdirSync(run).map((f) => Number(fs.readFileSync(path.join(run, f), 'utf8')));
  assert.ok(daemons.length >= 3, 'munged, slurmctld and slurmd');
});

after(() => {
  const down = spawnSync('bash', [SETUP, 'down'], { env, encoding: 'utf8', timeout: 120_000 });
  assert.equal(down.status, 0, down.stderr);
  const alive = daemons.filter((pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  });
  assert.deepEqual(alive, [], 'no daemon left behind');
  fs.rmSync(WORK, { recursive: true, force: true });
});

function bertft(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...env, ...extraEnv }, cwd: REPO });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? 1, out, err })));
}

interface JobRow {
  run: string;
  jobId: string;
  phase: string;
  state: string;
  restarts: number;
}

async function jobRow(run: string): Promise<JobRow> {
  const r = await bertft(['jobs', path.dirname(run), '--json']);
  assert.equal(r.code, 0, r.err);
  const row = r.out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as JobRow)
    .find((j) => j.run === run);
  assert.ok(row, `bertft jobs lists ${run}: ${r.out}`);
  return row;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What a failed assertion shows: the job's log, the job script's events, the last trainer event, the queue. */
function describe(run: string): string {
  const read = (f: string): string => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : `(no ${path.basename(f)})`);
  const logs = fs.existsSync(run) ? fs.readdirSync(run).filter((f) => /^slurm-\d+\.out$/.test(f)) : [];
  const squeue = spawnSync('squeue', ['-h', '-o', '%i|%T|%r|%N|%P'], { env, encoding: 'utf8' });
  return [
    ...logs.map((f) => `--- ${f}\n${read(path.join(run, f)).slice(-3000)}`),
    `--- slurm-events.jsonl\n${read(path.join(run, 'slurm-events.jsonl'))}`,
    `--- last trainer event\n${JSON.stringify(events(run).at(-1))}`,
    `--- squeue\n${squeue.stdout}${squeue.stderr}`,
  ].join('\n');
}

async function waitUntil<T>(
  what: string,
  run: string,
  probe: () => Promise<T | undefined> | T | undefined,
  ms = 300_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${describe(run)}`);
    await sleep(500);
  }
}

async function waitForEnd(run: string): Promise<JobRow> {
  return waitUntil(`the job of ${run} to end`, run, async () => {
    const row = await jobRow(run);
    return ['done', 'failed', 'cancelled'].includes(row.phase) ? row : undefined;
  });
}

/** The run's metrics events. */
function events(run: string): Record<string, unknown>[] {
  const file = path.join(run, 'metrics.jsonl');
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const lastStep = (run: string): number =>
  Math.max(0, ...events(run).flatMap((e) => (e.event === 'step' ? [e.step as number] : [])));

function slurmEvents(run: string): string[] {
  return fs
    .readFileSync(path.join(run, 'slurm-events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { event: string }).event);
}

function sameModel(a: string, b: string): void {
  const model = (run: string) => fs.readFileSync(path.join(run, 'best', 'model.safetensors'));
  assert.ok(model(a).equals(model(b)), `${a}/best/model.safetensors equals ${b}'s byte for byte`);
}

const LOCAL = path.join(WORK, 'runs', 'local');

test('a run on the cluster ends with the model of a local run with the same seed, byte for byte', async () => {
  const local = await bertft(['train', ...TRAIN, '--device', 'cpu', '--out', LOCAL], { BERTFT_TRAINING_CHILD: '1' });
  assert.equal(local.code, 0, local.err);

  const run = path.join(WORK, 'runs', 'plain');
  const dry = await bertft(['submit', '--slurm', ...TRAIN, '--out', run, '--time', '30', '--dry-run']);
  assert.equal(dry.code, 0, dry.err);
  const scriptFile = path.join(WORK, 'dry.sbatch');
  fs.writeFileSync(scriptFile, dry.out);
  const testOnly = spawnSync('sbatch', ['--test-only', scriptFile], { env, encoding: 'utf8' });
  assert.equal(testOnly.status, 0, testOnly.stderr);

  const submit = await bertft(['submit', '--slurm', ...TRAIN, '--out', run, '--partition', 'batch', '--json']);
  assert.equal(submit.code, 0, submit.err);
  const submitted = JSON.parse(submit.out) as { jobId: string; script: string };
  assert.equal(submitted.script, path.join(run, 'job.sbatch'));
  const record = JSON.parse(fs.readFileSync(path.join(run, 'job.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(record.scheduler, 'slurm');
  assert.equal(record.jobId, submitted.jobId);
  assert.equal(record.arrayIndex, null);
  assert.equal(record.restarts, 0);

  const end = await waitForEnd(run);
  assert.equal(end.phase, 'done', describe(run));
  assert.deepEqual(slurmEvents(run), ['start', 'exit']);
  sameModel(run, LOCAL);
  const text = await bertft(['jobs', path.dirname(run)]);
  assert.match(text.out, new RegExp(`${submitted.jobId}\\s+done \\(COMPLETED\\)\\s+0`));
});

test('preempted by the urgent partition: checkpoint, requeue, resume, the same model', async () => {
  const run = path.join(WORK, 'runs', 'preempted');
  // The node has 2 CPUs: a job that asks for both is preempted by any job of the urgent partition.
  const submit = await bertft(['submit', '--slurm', ...TRAIN, '--out', run, '--partition', 'batch', '--cpus', '2']);
  assert.equal(submit.code, 0, submit.err);
  await waitUntil('step 5', run, () => (lastStep(run) >= 5 ? true : undefined));
  const urgent = spawnSync(
    'sbatch',
    ['--parsable', '-p', 'urgent', '-c', '2', '-o', '/dev/null', '--wrap', 'sleep 2'],
    {
      env,
      encoding: 'utf8',
    },
  );
  assert.equal(urgent.status, 0, urgent.stderr);
  const end = await waitForEnd(run);
  assert.equal(end.phase, 'done', describe(run));
  assert.ok(end.restarts >= 1, `requeued (restarts ${end.restarts})\n${describe(run)}`);
  assert.deepEqual(slurmEvents(run).slice(0, 3), ['start', 'signal', 'requeue'], describe(run));
  const started = events(run).filter((e) => e.event === 'started');
  assert.ok(started.length >= 2, 'the trainer started again');
  assert.ok(
    (started[1].resumed_from_step as number) >= 5,
    `resumed from its checkpoint (${String(started[1].resumed_from_step)})`,
  );
  sameModel(run, LOCAL);
});

test('bertft cancel leaves a stop checkpoint; bertft train --resume continues it to the same model', async () => {
  const run = path.join(WORK, 'runs', 'cancelled');
  const submit = await bertft(['submit', '--slurm', ...TRAIN, '--out', run]);
  assert.equal(submit.code, 0, submit.err);
  await waitUntil('step 5', run, () => (lastStep(run) >= 5 ? true : undefined));
  const cancel = await bertft(['cancel', run]);
  assert.equal(cancel.code, 0, cancel.err);
  assert.match(cancel.out, /Cancelled job \d+/);
  const end = await waitForEnd(run);
  assert.equal(end.phase, 'cancelled', describe(run));
  const done = events(run).at(-1)!;
  assert.equal(done.event, 'done', `the trainer ended with its done event\n${describe(run)}`);
  assert.equal(done.stopped, true);
  assert.ok(fs.existsSync(path.join(run, 'checkpoints', `step-${done.final_step as number}`)), 'its stop checkpoint');
  assert.deepEqual(slurmEvents(run), ['start', 'signal', 'exit'], describe(run));

  const again = await bertft(['cancel', run]);
  assert.equal(again.code, 0, again.err);
  assert.match(again.out, /already ended/);

  const resumed = await bertft(['train', '--out', run, '--resume', '--device', 'cpu'], { BERTFT_TRAINING_CHILD: '1' });
  assert.equal(resumed.code, 0, resumed.err);
  sameModel(run, LOCAL);
});

test('a 3-trial sweep as one job array, at most 2 at once, trains every trial and produces its leaderboard', async () => {
  const sweep = path.join(WORK, 'sweeps', 'lr');
  const grid = ['--grid', 'lr=1e-3,2e-3,5e-3', '--max-parallel', '2', '--partition', 'batch'];
  const submit = await bertft(['sweep', '--slurm', ...TRAIN, ...grid, '--out', sweep, '--json']);
  assert.equal(submit.code, 0, submit.err);
  const { jobId } = JSON.parse(submit.out) as { jobId: string };
  assert.match(fs.readFileSync(path.join(sweep, 'job.sbatch'), 'utf8'), /^#SBATCH --array=0-2%2$/m);
  const trials = ['trial-000', 'trial-001', 'trial-002'].map((t) => path.join(sweep, t));
  for (const [i, trial] of trials.entries()) {
    const record = JSON.parse(fs.readFileSync(path.join(trial, 'job.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(record.jobId, `${jobId}_${i}`);
    assert.equal(record.arrayIndex, i);
  }
  for (const trial of trials) assert.equal((await waitForEnd(trial)).phase, 'done', describe(trial));
  // The throttle: no moment had three trials between their start and exit.
  const spans = trials.map((t) => {
    const lines = fs.readFileSync(path.join(t, 'slurm-events.jsonl'), 'utf8').trim().split('\n');
    const times = lines.map((l) => Date.parse((JSON.parse(l) as { time: string }).time));
    return [Math.min(...times), Math.max(...times)];
  });
  for (const [start] of spans) {
    assert.ok(spans.filter(([s, e]) => s <= start && start < e).length <= 2, JSON.stringify(spans));
  }
  const shown = await bertft(['sweep', '--show', sweep, '--json']);
  assert.equal(shown.code, 0, shown.err);
  const board = JSON.parse(shown.out) as { rows: { dir: string; status: string; best_metric: number }[] };
  assert.deepEqual(
    board.rows.map((r) => r.status),
    ['done', 'done', 'done'],
  );
  assert.deepEqual(board.rows.map((r) => r.dir).sort(), ['trial-000', 'trial-001', 'trial-002']);
  assert.ok(fs.existsSync(path.join(sweep, 'leaderboard.json')));
});
