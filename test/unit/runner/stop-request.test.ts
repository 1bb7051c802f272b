import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runTrainingSession, type SessionOptions } from '../../../src/core/finetune/session';
import { readMetricsLog } from '../../../src/core/run/metrics-log';
import { runPaths } from '../../../src/core/run/paths';
import { requestRunStop, runStopRequested } from '../../../src/core/run/stop-request';
import { startTrainer } from '../../../src/trainer/client';
import type { DoneEvent, TrainerEvent } from '../../../src/trainer/protocol';
import { tempDir, writeSentimentCsv } from './fixtures';

// Stopping the real trainer child the two ways that work on every platform (no POSIX signal): the IPC `stop` message
// from the process that started it, and the run's stop request file from one that did not (a later VS Code window).
// Either way the run checkpoints at the step it stopped on, and resuming it gives the weights of an unstopped run.

const CLIENT = path.join(__dirname, '../../../src/trainer/client.js');
const MAX_STEPS = 24;

function options(data: string, out: string): SessionOptions {
  return {
    data,
    out,
    model: 'random:tiny',
    maxSteps: MAX_STEPS,
    batchSize: 4,
    maxLength: 32,
    evalSteps: 8,
    lr: 1e-3,
    seed: 11,
    device: 'cpu',
    validRatio: 0.25,
    epochs: 20,
  };
}

function finalWeights(out: string): Buffer {
  return fs.readFileSync(path.join(out, 'checkpoints', `step-${MAX_STEPS}`, 'model.safetensors'));
}

async function waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The stopped session's `done`, checked: stopped before the end, with a complete checkpoint at its last step. */
function assertStoppedWithCheckpoint(events: readonly TrainerEvent[], out: string): DoneEvent {
  const done = events.at(-1);
  assert.ok(done?.event === 'done' && done.stopped, JSON.stringify(done));
  assert.ok(done.final_step >= 1 && done.final_step < MAX_STEPS, `stopped at ${done.final_step}`);
  const checkpoint = events.filter((e) => e.event === 'checkpoint').at(-1);
  assert.ok(checkpoint?.event === 'checkpoint' && checkpoint.step === done.final_step, JSON.stringify(checkpoint));
  assert.ok(fs.existsSync(path.join(out, 'checkpoints', `step-${done.final_step}`, 'model.safetensors')));
  return done;
}

/** Resumes the run in `out` to its last step in this process; its first step is the one after `stoppedAt`. */
async function resumeToEnd(data: string, out: string, stoppedAt: number): Promise<void> {
  const events: TrainerEvent[] = [];
  const done = await runTrainingSession({ data, out, resume: true }, { emit: (e) => events.push(e) });
  assert.equal(done.stopped, false);
  assert.equal(done.final_step, MAX_STEPS);
  const started = events.find((e) => e.event === 'started');
  assert.equal(started?.event === 'started' && started.resumed_from_step, stoppedAt);
}

let reference: Buffer | undefined;
/** The final weights of the same run trained without a stop (trained once, in this process). */
async function unstoppedWeights(data: string): Promise<Buffer> {
  if (!reference) {
    const out = path.join(tempDir('stop-reference'), 'run');
    const done = await runTrainingSession(options(data, out), { emit: () => {} });
    assert.equal(done.final_step, MAX_STEPS);
    reference = finalWeights(out);
  }
  return reference;
}

test('the real trainer child stopped by the IPC stop message checkpoints, exits 130 and resumes bit for bit', async () => {
  const dir = tempDir('stop-ipc');
  const data = writeSentimentCsv(dir);
  const out = path.join(dir, 'run');
  const handle = startTrainer({ options: options(data, out) });
  const events: TrainerEvent[] = [];
  for await (const e of handle.events) {
    events.push(e);
    if (e.event === 'step' && e.step === 3) handle.stop();
  }
  const exit = await handle.exited;
  assert.deepEqual(exit, { code: 130, signal: null }, 'a graceful exit, not the last-resort kill');
  const done = assertStoppedWithCheckpoint(events, out);
  await resumeToEnd(data, out, done.final_step);
  assert.ok(finalWeights(out).equals(await unstoppedWeights(data)), 'resumed weights are bit-identical');
});

test('the real trainer child of an earlier parent (no IPC channel) stops on the run stop request file, checkpoints and resumes bit for bit', async () => {
  const dir = tempDir('stop-file');
  const data = writeSentimentCsv(dir);
  const out = path.join(dir, 'run');
  // What a window reload leaves: a trainer started with keepAliveWithoutParent by an extension host that has gone.
  const script = `
    const { startTrainer } = require(${JSON.stringify(CLIENT)});
    const handle = startTrainer({ options: ${JSON.stringify(options(data, out))},
      keepAliveWithoutParent: { stderrFile: ${JSON.stringify(path.join(dir, 'trainer.log'))} } });
    handle.events.on('event', (e) => { if (e.event === 'started') { console.log(handle.pid); process.exit(0); } });`;
  const parent = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(parent.status, 0, parent.stderr);
  const pid = Number(parent.stdout.trim());
  assert.ok(isAlive(pid), 'the trainer outlived its parent');

  assert.equal(await requestRunStop(out), true);
  assert.ok(runStopRequested(out));
  const metrics = runPaths(out).metrics;
  assert.ok(await waitFor(() => readMetricsLog(metrics).some((e) => e.event === 'done'), 120_000), 'no done event');
  const done = assertStoppedWithCheckpoint(readMetricsLog(metrics), out);
  assert.ok(await waitFor(() => !isAlive(pid), 30_000), 'the trainer did not exit after done');
  assert.equal(runStopRequested(out), false, 'the request is removed once honoured');

  // A request written after that session ended (too late for it) does not stop the next one.
  assert.equal(await requestRunStop(out), true);
  await resumeToEnd(data, out, done.final_step);
  assert.equal(runStopRequested(out), false);
  assert.ok(finalWeights(out).equals(await unstoppedWeights(data)), 'resumed weights are bit-identical');
});

test('requestRunStop writes nothing into a folder that holds no run', async () => {
  const dir = tempDir('stop-not-a-run');
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
  assert.equal(await requestRunStop(dir), false);
  assert.deepEqual(fs.readdirSync(dir), ['notes.txt']);
});
