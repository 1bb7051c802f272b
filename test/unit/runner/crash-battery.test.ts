/**
 * The standing crash battery (#22): `bertft train` killed with SIGKILL at 20 points — random moments, moments inside a
 * checkpoint or best/ write (a `.tmp` folder exists), and twice in a row — then resumed (or, when it died before
 * run.json, started again in the same folder) until it finishes. Every finished best/ (model.safetensors, and the
 * seed ensemble's model.onnx) must equal the uninterrupted run's byte for byte. Prints kill -9 exact/total.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRng } from '../../../src/core/util/random';
import { tempDir, writeSentimentCsv } from './fixtures';

const ROOT = path.join(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'out', 'src', 'cli.js');
// The training process itself (no restart into a child), so that SIGKILL hits the process that writes.
const ENV = { ...process.env, BERTFT_TRAINING_CHILD: '1' };
const ARGS = [
  '--model',
  'random:tiny',
  '--epochs',
  '3',
  '--batch-size',
  '8',
  '--max-length',
  '16',
  '--eval-steps',
  '2',
  '--seed',
  '5',
  '--device',
  'cpu',
  '--save-total-limit',
  '1',
];

function train(data: string, out: string, resume: boolean): { status: number | null; stderr: string } {
  const args = resume ? ['train', '--out', out, '--resume'] : ['train', '--data', data, '--out', out, ...ARGS];
  return spawnSync(process.execPath, [CLI, ...args], { env: ENV, encoding: 'utf8' });
}

/** Starts a run (or a resume) and SIGKILLs it when `when` says so; resolves whether it was killed before it ended. */
async function killDuring(
  data: string,
  out: string,
  resume: boolean,
  when: (elapsedMs: number) => boolean,
): Promise<boolean> {
  const args = resume ? ['train', '--out', out, '--resume'] : ['train', '--data', data, '--out', out, ...ARGS];
  const child = spawn(process.execPath, [CLI, ...args], { env: ENV, stdio: 'ignore' });
  const started = Date.now();
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let killed = false;
  while (child.exitCode === null && child.signalCode === null) {
    if (when(Date.now() - started)) {
      killed = child.kill('SIGKILL');
      break;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await exited;
  return killed;
}

/** Finishes a killed run: resume while it has run.json, else start it again in its (claimed) folder. */
function finish(data: string, out: string): void {
  const errors: string[] = [];
  for (let i = 0; i < 4; i++) {
    const r = train(data, out, fs.existsSync(path.join(out, 'run.json')));
    if (r.status === 0) return;
    errors.push(r.stderr.trim());
  }
  assert.fail(
    `the run in ${out} could not be finished (left: ${fs.readdirSync(out).join(', ')}):\n${errors.join('\n---\n')}`,
  );
}

/** True while a checkpoint or best/ is being written (its temporary folder exists). */
function writing(out: string): boolean {
  const ck = path.join(out, 'checkpoints');
  return (
    fs.existsSync(path.join(out, 'best.tmp')) ||
    (fs.existsSync(ck) && fs.readdirSync(ck).some((n) => n.endsWith('.tmp')))
  );
}

test('kill -9 at 20 points (random, inside checkpoint and best writes, twice in a row): every resumed run ends byte-identical', async () => {
  const dir = tempDir('crash');
  const data = writeSentimentCsv(dir, 48);
  const reference = path.join(dir, 'reference');
  const t0 = Date.now();
  assert.equal(train(data, reference, false).status, 0);
  const duration = Date.now() - t0;
  // The run is a seed ensemble (the from-scratch default): model.onnx holds all three models, so kills land in the
  // other members' runs and in the ensemble's best/ write too.
  const bestFiles = ['model.safetensors', 'model.onnx'];
  const bestOf = (run: string) => Buffer.concat(bestFiles.map((f) => fs.readFileSync(path.join(run, 'best', f))));
  assert.ok(fs.existsSync(path.join(reference, 'best', 'members', '3', 'model.safetensors')));
  const expected = bestOf(reference);
  const rng = createRng(20261206, 1);
  let exact = 0;
  let total = 0;
  let kills = 0;
  const kinds: string[] = [];
  for (let k = 0; k < 20; k++) {
    const out = path.join(dir, `run-${k}`);
    let kind: string;
    if (k < 10) {
      const at = (0.1 + 0.85 * rng()) * duration;
      kind = `at ${Math.round(at)} ms`;
      kills += Number(await killDuring(data, out, false, (ms) => ms >= at));
    } else if (k < 16) {
      // Inside a write: the n-th time a temporary folder is seen.
      let seen = 0;
      const nth = 1 + (k % 3);
      kind = `in write #${nth}`;
      kills += Number(await killDuring(data, out, false, () => writing(out) && ++seen >= nth));
    } else {
      const at = (0.2 + 0.5 * rng()) * duration;
      kind = `twice at ${Math.round(at)} ms`;
      kills += Number(await killDuring(data, out, false, (ms) => ms >= at));
      kills += Number(await killDuring(data, out, fs.existsSync(path.join(out, 'run.json')), (ms) => ms >= at / 2));
    }
    finish(data, out);
    total++;
    const same = bestOf(out).equals(expected);
    if (same) exact++;
    kinds.push(`${kind}: ${same ? 'exact' : 'DIFFERENT'}`);
    fs.rmSync(out, { recursive: true, force: true });
  }
  console.log(`kill -9 battery: ${exact}/${total} exact, ${kills} kills landed (${kinds.join('; ')})`);
  assert.equal(exact, total);
  // A point that came after the run had ended would test nothing: nearly all must have landed.
  assert.ok(kills >= 18, `only ${kills} of 24 kills landed`);
});
