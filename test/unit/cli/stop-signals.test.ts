/**
 * Several SIGTERMs for one stop (a batch scheduler signals every process of a job, the job script forwards it, the
 * training-process parent relays it): the trainer still finishes its step and writes its checkpoint. Only a second
 * Ctrl-C (SIGINT) quits at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { listCheckpoints } from '../../../src/core/train/checkpoint';
import { tempDir, writeSentimentCsv } from '../runner/fixtures';

const CLI = path.join(__dirname, '..', '..', '..', 'src', 'cli.js');

test('three SIGTERMs to the whole process group: one graceful stop with a checkpoint, exit 130', async () => {
  const dir = tempDir('sigterm3');
  const data = writeSentimentCsv(dir);
  const out = path.join(dir, 'run');
  const args = ['train', '--json', '--data', data, '--out', out, '--model', 'random:tiny', '--max-steps', '60'];
  args.push('--batch-size', '4', '--max-length', '32', '--seed', '3', '--device', 'cpu', '--epochs', '50');
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const events: Record<string, unknown>[] = [];
  let signalled = false;
  createInterface({ input: child.stdout }).on('line', (line) => {
    const e = JSON.parse(line) as Record<string, unknown>;
    events.push(e);
    if (e.event === 'step' && (e.step as number) >= 3 && !signalled) {
      signalled = true;
      for (let i = 0; i < 3; i++) process.kill(-child.pid!, 'SIGTERM');
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 130, stderr);
  const done = events[events.length - 1];
  assert.equal(done.event, 'done', 'a graceful stop ends with done');
  assert.equal(done.stopped, true);
  assert.ok(listCheckpoints(path.join(out, 'checkpoints')).includes(done.final_step as number));
});
