/**
 * The real one-node Slurm cluster of the cluster tests (test/cluster/, `npm run test:cluster`): started from the
 * project's own script (scripts/slurm/setup.sh) before a file's tests and always taken down after them, even when a
 * test or the start failed, with no daemon left behind. Jobs are submitted and followed with bertft as a user runs it;
 * the run folder's files say what the job and its trainer did.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const REPO = path.resolve(__dirname, '..', '..', '..');
/** The compiled bertft, which jobs run as their command. */
export const CLI = path.join(REPO, 'out', 'src', 'cli.js');
const SETUP = path.join(REPO, 'scripts', 'slurm', 'setup.sh');
export const DATA = path.join(REPO, 'examples', 'spam-ham.csv');

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** A row of `bertft jobs --json`. */
export interface JobRow {
  run: string;
  jobId: string;
  phase: string;
  state: string;
  restarts: number;
}

/** A cluster of the calling test file: its folder, its clients' environment, and bertft run against it. */
export class SlurmTestCluster {
  /** A temporary folder for the file's runs (and the cluster's sandbox), removed after its tests. */
  readonly work: string;
  /** The environment every client needs (SLURM_CONF once the cluster is up). */
  readonly env: NodeJS.ProcessEnv;

  constructor(prefix: string, ports?: { slurmctld: number; slurmd: number }) {
    this.work = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    this.env = { ...process.env, SLURM_SANDBOX: path.join(this.work, 'slurm') };
    if (ports) Object.assign(this.env, { SLURMCTLD_PORT: String(ports.slurmctld), SLURMD_PORT: String(ports.slurmd) });
  }

  /** The compiled bertft, run against the cluster. */
  bertft(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<CliResult> {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...this.env, ...extraEnv }, cwd: REPO });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? 1, out, err })));
  }

  /** `bertft train` here, on the CPU: a job's uninterrupted reference, or a run continued here. */
  async trainHere(args: string[]): Promise<void> {
    const r = await this.bertft(['train', ...args, '--device', 'cpu'], { BERTFT_TRAINING_CHILD: '1' });
    assert.equal(r.code, 0, r.err);
  }

  /** The run's row of `bertft jobs`. */
  async jobRow(run: string): Promise<JobRow> {
    const r = await this.bertft(['jobs', path.dirname(run), '--json']);
    assert.equal(r.code, 0, r.err);
    const row = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as JobRow)
      .find((j) => j.run === run);
    assert.ok(row, `bertft jobs lists ${run}: ${r.out}`);
    return row;
  }

  /** What a failed assertion shows: the job's log, the job script's events, the last trainer event, the queue. */
  describe(run: string): string {
    const read = (f: string): string => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : `(no ${path.basename(f)})`);
    const logs = fs.existsSync(run) ? fs.readdirSync(run).filter((f) => /^slurm-[\d_]+\.out$/.test(f)) : [];
    const squeue = spawnSync('squeue', ['-h', '-o', '%i|%T|%r|%N|%P'], { env: this.env, encoding: 'utf8' });
    return [
      ...logs.map((f) => `--- ${f}\n${read(path.join(run, f)).slice(-3000)}`),
      `--- slurm-events.jsonl\n${read(path.join(run, 'slurm-events.jsonl'))}`,
      `--- last trainer event\n${JSON.stringify(events(run).at(-1))}`,
      `--- squeue\n${squeue.stdout}${squeue.stderr}`,
    ].join('\n');
  }

  /** Polls `probe` every half second until it gives a value; on timeout fails with the job's description. */
  async waitUntil<T>(
    what: string,
    run: string,
    probe: () => Promise<T | undefined> | T | undefined,
    ms = 300_000,
  ): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${this.describe(run)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** Until the trainer has logged step `step`. */
  async waitForStep(run: string, step: number): Promise<void> {
    await this.waitUntil(`step ${step}`, run, () => (lastStep(run) >= step ? true : undefined));
  }

  /** Until `bertft jobs` says the run's job ended (done, failed or cancelled). */
  waitForEnd(run: string, ms?: number): Promise<JobRow> {
    return this.waitUntil(
      `the job of ${run} to end`,
      run,
      async () => {
        const row = await this.jobRow(run);
        return ['done', 'failed', 'cancelled'].includes(row.phase) ? row : undefined;
      },
      ms,
    );
  }
}

/**
 * A cluster for the calling test file: started before its tests and taken down after them, even when a test or the
 * start failed. Give ports of its own to a file whose cluster may run beside another one (setup.sh's defaults
 * otherwise).
 */
export function useSlurmCluster(prefix: string, ports?: { slurmctld: number; slurmd: number }): SlurmTestCluster {
  const cluster = new SlurmTestCluster(prefix, ports);
  const { env, work } = cluster;
  const pidFiles = path.join(work, 'slurm', 'run');
  // munged, slurmctld and slurmd, by the PID files setup.sh writes; read again before the cluster is taken down.
  const daemons = new Set<number>();
  const readDaemons = (): void => {
    if (!fs.existsSync(pidFiles)) return;
    for (const f of fs.readdirSync(pidFiles)) daemons.add(Number(fs.readFileSync(path.join(pidFiles, f), 'utf8')));
  };

  before(() => {
    const up = spawnSync('bash', [SETUP, 'up'], { env, encoding: 'utf8', timeout: 600_000 });
    readDaemons();
    assert.equal(up.status, 0, `the cluster did not start:\n${up.stdout}\n${up.stderr}`);
    const conf = /export SLURM_CONF=(\S+)/.exec(up.stdout)?.[1];
    assert.ok(conf, up.stdout);
    env.SLURM_CONF = conf;
    assert.ok(daemons.size >= 3, 'munged, slurmctld and slurmd');
  });

  let takenDown = false;
  const takeDown = () => {
    takenDown = true;
    readDaemons();
    const down = spawnSync('bash', [SETUP, 'down'], { env, encoding: 'utf8', timeout: 120_000 });
    fs.rmSync(work, { recursive: true, force: true });
    return down;
  };
  after(() => {
    const down = takeDown();
    const alive = [...daemons].filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
    assert.equal(down.status, 0, down.stderr);
    assert.deepEqual(alive, [], 'no daemon left behind');
  });
  // An after hook of the file's registered before this one that throws keeps node from running this one.
  process.once('exit', () => {
    if (!takenDown) takeDown();
  });

  return cluster;
}

/** The run's trainer events (metrics.jsonl), across every process that trained it. */
export function events(run: string): Record<string, unknown>[] {
  const file = path.join(run, 'metrics.jsonl');
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export const lastStep = (run: string): number =>
  Math.max(0, ...events(run).flatMap((e) => (e.event === 'step' ? [e.step as number] : [])));

/** The job script's events (slurm-events.jsonl): start, signal, requeue, exit. */
export function slurmEvents(run: string): string[] {
  return fs
    .readFileSync(path.join(run, 'slurm-events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { event: string }).event);
}

/** The step each trainer process resumed from, in order (undefined for the one that started the run). */
export const resumedFrom = (run: string): (number | undefined)[] =>
  events(run).flatMap((e) => (e.event === 'started' ? [e.resumed_from_step as number | undefined] : []));

/** The step of the stop checkpoint the trainer's last done event reports; asserts the checkpoint is there. */
export function stopCheckpoint(run: string): number {
  const done = events(run).at(-1);
  assert.equal(done?.event, 'done', `the trainer ended with its done event: ${JSON.stringify(done)}`);
  assert.equal(done.stopped, true, 'stopped, not finished');
  const step = done.final_step as number;
  assert.ok(fs.existsSync(path.join(run, 'checkpoints', `step-${step}`)), `its stop checkpoint step-${step}`);
  return step;
}

/** Both runs' best/model.safetensors are the same bytes. */
export function sameModel(run: string, reference: string): void {
  const model = (r: string) => fs.readFileSync(path.join(r, 'best', 'model.safetensors'));
  assert.ok(model(run).equals(model(reference)), `${run}/best/model.safetensors equals ${reference}'s byte for byte`);
}

/**
 * Every step of `reference` was trained in `run` with the same loss, bit for bit, and no other step. A step logged
 * twice (trained again after a resume) must have the same loss both times.
 */
export function sameStepLosses(run: string, reference: string): void {
  const losses = (r: string): Map<number, number[]> => {
    const byStep = new Map<number, number[]>();
    for (const e of events(r)) {
      if (e.event === 'step') byStep.set(e.step as number, [...(byStep.get(e.step as number) ?? []), e.loss as number]);
    }
    return byStep;
  };
  const expected = losses(reference);
  const got = losses(run);
  assert.ok(expected.size > 0, `${reference} logged its steps`);
  assert.deepEqual(
    [...got.keys()].sort((a, b) => a - b),
    [...expected.keys()].sort((a, b) => a - b),
    'the same steps',
  );
  for (const [step, [loss]] of expected) {
    for (const trained of got.get(step)!) assert.equal(trained, loss, `step ${step}'s loss`);
  }
}
