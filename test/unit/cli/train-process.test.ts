import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { listCheckpoints } from '../../../src/core/train/checkpoint';
import { describeAllocator, hugePagesAvailable, trainingProcessEnv } from '../../../src/core/train/allocator';
import { restartInTrainingProcess } from '../../../src/cli/training-process';
import { tempDir, writeSentimentCsv } from '../runner/fixtures';

const CLI = path.join(__dirname, '..', '..', '..', 'src', 'cli.js');

function trainArgs(data: string, out: string): string[] {
  return [
    'train',
    '--json',
    '--data',
    data,
    '--out',
    out,
    '--model',
    'random:tiny',
    '--max-steps',
    '60',
    '--batch-size',
    '4',
    '--max-length',
    '32',
    '--eval-steps',
    '10',
    '--lr',
    '1e-3',
    '--seed',
    '3',
    '--device',
    'cpu',
    '--epochs',
    '50',
  ];
}

/** Run the CLI, calling `onEvent` for each JSON line; resolves with the exit status and every event. */
function runCli(
  args: string[],
  onEvent: (e: Record<string, unknown>, child: ReturnType<typeof spawn>) => void = () => {},
  options: { ownProcessGroup?: boolean } = {},
) {
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.ownProcessGroup,
  });
  const events: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    const e = JSON.parse(line) as Record<string, unknown>;
    events.push(e);
    onEvent(e, child);
  });
  return new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    events: Record<string, unknown>[];
    stderr: string;
  }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, events, stderr }));
  });
}

test('SIGTERM (relayed to the training process): finishes the step, checkpoints, prints done stopped:true and exits 130; --resume completes the run', async () => {
  const dir = tempDir('sigterm');
  const data = writeSentimentCsv(dir);
  const out = path.join(dir, 'run');
  let signalled = false;
  const first = await runCli(trainArgs(data, out), (e, child) => {
    if (e.event === 'step' && (e.step as number) >= 3 && !signalled) {
      signalled = true;
      child.kill('SIGTERM');
    }
  });
  assert.equal(first.code, 130, first.stderr);
  const done = first.events[first.events.length - 1];
  assert.equal(done.event, 'done');
  assert.equal(done.stopped, true);
  const stoppedAt = done.final_step as number;
  assert.ok(stoppedAt >= 3 && stoppedAt < 60);
  assert.ok(listCheckpoints(path.join(out, 'checkpoints')).includes(stoppedAt));
  assert.ok(
    first.events.every((e) => typeof e.event === 'string'),
    'every stdout line is an event object',
  );
  const notes = first.events.find((e) => e.event === 'started')!.device_notes as string[];
  const malloc = describeAllocator(trainingProcessEnv(process.env));
  if (hugePagesAvailable() && !('BERTFT_ALLOCATOR' in process.env))
    assert.match(malloc, /^malloc: lean \(GLIBC_TUNABLES=/);
  assert.ok(
    notes.includes(malloc),
    `trained in a process with the training malloc settings (${malloc}): ${notes.join('; ')}`,
  );

  const second = await runCli([...trainArgs(data, out), '--resume']);
  assert.equal(second.code, 0, second.stderr);
  const started = second.events.find((e) => e.event === 'started')!;
  assert.equal(started.resumed_from_step, stoppedAt);
  const end = second.events[second.events.length - 1];
  assert.equal(end.event, 'done');
  assert.equal(end.stopped, false);
  assert.equal(end.final_step, 60);
});

test('Ctrl-C at a terminal (SIGINT to the whole process group) stops gracefully once, with a checkpoint, not at once', async () => {
  const dir = tempDir('sigint');
  const data = writeSentimentCsv(dir);
  const out = path.join(dir, 'run');
  let signalled = false;
  const r = await runCli(
    trainArgs(data, out),
    (e, child) => {
      if (e.event === 'step' && (e.step as number) >= 3 && !signalled) {
        signalled = true;
        process.kill(-child.pid!, 'SIGINT');
      }
    },
    { ownProcessGroup: true },
  );
  assert.equal(r.code, 130, r.stderr);
  const done = r.events[r.events.length - 1];
  assert.equal(done.event, 'done', 'a graceful stop ends with done (a second signal would have quit without it)');
  assert.equal(done.stopped, true);
  assert.ok(listCheckpoints(path.join(out, 'checkpoints')).includes(done.final_step as number));
});

test('kill -9 at random moments leaves a resumable run and never a half-written best/', async () => {
  const dir = tempDir('kill9');
  const data = writeSentimentCsv(dir);
  const out = path.join(dir, 'run');
  let args = trainArgs(data, out);
  for (const afterCheckpoints of [1, 2, 3]) {
    let seen = 0;
    const r = await runCli(args, (e, child) => {
      if (e.event === 'checkpoint' && ++seen === afterCheckpoints)
        setTimeout(() => child.kill('SIGKILL'), 5 + 20 * afterCheckpoints);
    });
    if (r.code === 0) break; // finished before the kill landed
    assert.equal(r.signal, 'SIGKILL', r.stderr);
    args = [...trainArgs(data, out), '--resume'];
    const names = fs.readdirSync(out);
    if (names.includes('best')) {
      for (const f of [
        'config.json',
        'model.safetensors',
        'model.onnx',
        'tokenizer.json',
        'eval.json',
        'bertft.json',
      ]) {
        assert.ok(fs.existsSync(path.join(out, 'best', f)), `best/${f} present whenever best/ exists`);
      }
    }
  }
  const final = await runCli(args);
  assert.equal(final.code, 0, final.stderr);
  assert.equal(final.events[final.events.length - 1].final_step, 60);
  assert.ok(!fs.readdirSync(out).some((n) => n.endsWith('.tmp') || n.endsWith('.old')), 'no temporary folders left');
  const predict = spawnSync(
    process.execPath,
    [CLI, 'predict', '--model', out, '--json', '--text', 'a wonderful film'],
    { encoding: 'utf8' },
  );
  assert.equal(predict.status, 0, predict.stderr);
  assert.ok(['pos', 'neg'].includes((JSON.parse(predict.stdout) as { label: string }).label));
});

test('bad input exits 1 naming the file; --json also prints an error event', async () => {
  const dir = tempDir('badinput');
  const r = await runCli(['train', '--json', '--data', path.join(dir, 'missing.csv'), '--out', path.join(dir, 'run')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /missing\.csv/);
  assert.match(r.stderr, /Fix: /);
  assert.equal(r.events[r.events.length - 1].event, 'error');
  const p = spawnSync(process.execPath, [CLI, 'predict', '--model', path.join(dir, 'nomodel'), '--text', 'x'], {
    encoding: 'utf8',
  });
  assert.equal(p.status, 1);
  assert.match(p.stderr, /nomodel.*not a model folder/);
  const e = spawnSync(process.execPath, [CLI, 'eval', '--model', dir], { encoding: 'utf8' });
  assert.equal(e.status, 1);
  assert.match(e.stderr, /needs --data/);
});

test('the training restart happens on Linux only: on Windows and macOS the command trains in its own process', async () => {
  const dir = tempDir('restart-platform');
  const script = path.join(dir, 'child.js');
  // Exits 7 when it runs as the restarted training child with the fast mode's glibc settings.
  fs.writeFileSync(
    script,
    `process.exit(process.env.BERTFT_TRAINING_CHILD === '1' && /mmap_max=0/.test(process.env.GLIBC_TUNABLES) ? 7 : 1);`,
  );
  const env = { BERTFT_ALLOCATOR: 'fast' };
  for (const platform of ['win32', 'darwin'] as const) {
    assert.equal(restartInTrainingProcess(script, [], { env, machine: { platform, hugePages: true } }), undefined);
  }
  const linux = { platform: 'linux' as const, hugePages: true };
  assert.equal(
    restartInTrainingProcess(script, [], { env: { ...env, BERTFT_TRAINING_CHILD: '1' }, machine: linux }),
    undefined,
  );
  assert.equal(await restartInTrainingProcess(script, [], { env, machine: linux }), 7);
});
