/**
 * Never lose a user's files or a finished model (#22): --out must be new, empty or ours; one writer per run folder
 * (a lock with stale-lock take-over after kill -9); resume reads the run, not the flags; no readable checkpoint →
 * refused unless --restart; a pre-training run killed before its first checkpoint resumes from step 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { acquireRunLock } from '../../../src/core/run/lock';
import { claimRunDir, recoverRunDir } from '../../../src/core/run/folder';
import { RUN_LOCK } from '../../../src/core/run/paths';
import { tempDir, writeSentimentCsv } from './fixtures';
import { holdLockInAnotherProcess } from '../../helpers/lock-holder';

const ROOT = path.join(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'out', 'src', 'cli.js');
const TINY = [
  '--model',
  'random:tiny',
  '--epochs',
  '2',
  '--batch-size',
  '8',
  '--max-length',
  '16',
  '--seed',
  '1',
  '--device',
  'cpu',
];

function bertft(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
}

/** Every file under `dir` with its content hash: what "untouched" means. */
/** metrics.jsonl as it was before the run's first checkpoint completed (what a kill at that moment leaves). */
function cutLogBeforeFirstCheckpoint(out: string): void {
  const lines = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').split('\n');
  const first = lines.findIndex((l) => l.includes('"event":"checkpoint"'));
  assert.ok(first > 0, 'the run wrote a checkpoint');
  fs.writeFileSync(path.join(out, 'metrics.jsonl'), lines.slice(0, first).join('\n') + '\n');
}

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else out[path.relative(dir, full)] = createHash('sha256').update(fs.readFileSync(full)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

test("--out holding the user's files is refused (exit 1) and nothing in it changes", () => {
  const dir = tempDir('own');
  const data = writeSentimentCsv(dir, 24);
  const theirs = path.join(dir, 'mine');
  fs.mkdirSync(path.join(theirs, 'notes.old'), { recursive: true });
  fs.writeFileSync(path.join(theirs, 'draft.tmp'), 'keep me');
  fs.writeFileSync(path.join(theirs, 'metrics.jsonl'), 'my own metrics\n');
  fs.writeFileSync(path.join(theirs, 'notes.old', 'a.txt'), 'old notes');
  const before = snapshot(theirs);
  const r = bertft('train', '--data', data, '--out', theirs, ...TINY);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /already holds files that are not a bertft run/);
  assert.deepEqual(snapshot(theirs), before, "the user's files are untouched");
  assert.deepEqual(fs.readdirSync(theirs).sort(), ['draft.tmp', 'metrics.jsonl', 'notes.old']);
});

test('recovery touches only our temporary names, in our folders', async () => {
  const root = tempDir('own-recover');
  claimRunDir(root);
  fs.mkdirSync(path.join(root, 'best.old'));
  fs.mkdirSync(path.join(root, 'report.old'));
  fs.writeFileSync(path.join(root, 'notes.tmp'), 'theirs');
  fs.writeFileSync(path.join(root, '.run.json.123.abcdef01.tmp'), 'ours, torn');
  await recoverRunDir(root);
  assert.deepEqual(fs.readdirSync(root).sort(), ['.bertft-run', 'best', 'notes.tmp', 'report.old']);
});

test('one writer per run folder: a second is refused naming the first; a lock left by a killed process is taken over', async () => {
  const root = tempDir('own-lock');
  const lock = acquireRunLock(root);
  assert.throws(
    () => acquireRunLock(root),
    (e: Error & { code?: string }) =>
      e.code === 'RUN_LOCKED' && e.message.includes(`pid ${process.pid} on ${os.hostname()}`),
  );
  lock.release();
  assert.equal(fs.existsSync(path.join(root, RUN_LOCK)), false);
  // A process that took the lock and was killed with SIGKILL (no exit handler ran).
  const holder = await holdLockInAnotherProcess(root);
  // The lock appears whole (a hard link of a written file), never empty: a kill cannot leave a torn one.
  assert.match(fs.readFileSync(path.join(root, RUN_LOCK), 'utf8'), /^\{"pid":\d+/);
  assert.throws(() => acquireRunLock(root), /in use by pid/);
  await holder.kill();
  const taken = acquireRunLock(root);
  assert.match(fs.readFileSync(taken.file, 'utf8'), new RegExp(`"pid":${process.pid}`));
  taken.release();
  // Another host's lock cannot be checked: refused with its owner named.
  fs.writeFileSync(path.join(root, RUN_LOCK), JSON.stringify({ pid: 1, host: 'other-host', time: 't' }));
  assert.throws(() => acquireRunLock(root), /pid 1 on other-host/);
});

test("resume reads the run: README's `bertft train --out DIR --resume` works without --data; a differing flag is refused by name", () => {
  const dir = tempDir('own-resume');
  const data = writeSentimentCsv(dir, 24);
  const out = path.join(dir, 'run');
  assert.equal(bertft('train', '--data', data, '--out', out, ...TINY, '--max-steps', '2').status, 0);
  const differs = bertft('train', '--out', out, '--resume', '--lr', '0.5');
  assert.equal(differs.status, 1);
  assert.match(differs.stderr, /lr \(run: .*, given: 0\.5\)/);
  const other = path.join(dir, 'other.csv');
  fs.copyFileSync(data, other);
  assert.match(
    bertft('train', '--out', out, '--resume', '--data', other).stderr,
    /data \(run: .*reviews\.csv", given: .*other\.csv"\)/,
  );
  const resumed = bertft('train', '--out', out, '--resume');
  assert.equal(resumed.status, 0, resumed.stderr);
});

test("no readable checkpoint: --resume is refused (best/ kept); --restart trains again from step 0 with the run's settings", () => {
  const dir = tempDir('own-restart');
  const data = writeSentimentCsv(dir, 24);
  const out = path.join(dir, 'run');
  assert.equal(bertft('train', '--data', data, '--out', out, ...TINY).status, 0);
  const best = snapshot(path.join(out, 'best'));
  for (const c of fs.readdirSync(path.join(out, 'checkpoints'))) {
    fs.writeFileSync(path.join(out, 'checkpoints', c, 'model.safetensors'), 'damaged');
  }
  const refused = bertft('train', '--out', out, '--resume');
  assert.equal(refused.status, 1, refused.stderr);
  assert.match(refused.stderr, /no readable checkpoint/);
  assert.match(refused.stderr, /--restart/);
  assert.deepEqual(snapshot(path.join(out, 'best')), best, 'the finished best/ is untouched');
  const restarted = bertft('train', '--out', out, '--restart', '--json');
  assert.equal(restarted.status, 0, restarted.stderr);
  const started = restarted.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { event: string; resumed_from_step?: number })
    .find((e) => e.event === 'started');
  assert.equal(started?.resumed_from_step, 0);
});

test('killed after its first best/ and before its first checkpoint, a run resumes from step 0 and ends byte-identical', () => {
  const dir = tempDir('own-first-best');
  const data = writeSentimentCsv(dir, 24);
  const reference = path.join(dir, 'reference');
  assert.equal(bertft('train', '--data', data, '--out', reference, ...TINY).status, 0);
  // The state such a kill leaves: run.json, best/, no checkpoint, a metrics log that never reached a checkpoint.
  const out = path.join(dir, 'run');
  fs.cpSync(reference, out, { recursive: true });
  fs.rmSync(path.join(out, 'checkpoints'), { recursive: true });
  fs.rmSync(path.join(out, RUN_LOCK), { force: true });
  cutLogBeforeFirstCheckpoint(out);
  const resumed = bertft('train', '--out', out, '--resume');
  assert.equal(resumed.status, 0, resumed.stderr);
  // Every file of best/ but its model card, which states the wall-clock time training took.
  const withoutCard = (files: Record<string, string>) => ({ ...files, 'README.md': 'model card' });
  assert.deepEqual(withoutCard(snapshot(path.join(out, 'best'))), withoutCard(snapshot(path.join(reference, 'best'))));
});

test('a corrupted run.json on --resume is a clear error, not a bug', () => {
  const dir = tempDir('own-corrupt');
  const out = path.join(dir, 'run');
  fs.mkdirSync(out);
  fs.writeFileSync(path.join(out, 'run.json'), '{"config": ');
  const r = bertft('train', '--out', out, '--resume');
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /run\.json cannot be read/);
  fs.writeFileSync(path.join(out, 'run.json'), '{}');
  assert.match(bertft('train', '--out', out, '--resume').stderr, /not the run\.json of a bertft training run/);
});

test('a pre-training run killed after run.json but before its first checkpoint resumes from step 0; changed text is refused', () => {
  const dir = tempDir('own-pretrain');
  const data = writeSentimentCsv(dir, 40);
  const out = path.join(dir, 'mlm');
  const args = [
    '--model',
    'random:tiny',
    '--max-steps',
    '2',
    '--batch-size',
    '4',
    '--max-length',
    '16',
    '--device',
    'cpu',
  ];
  assert.equal(bertft('pretrain', '--data', data, '--out', out, ...args).status, 0);
  // What a kill before the first checkpoint leaves: run.json (and the log), no checkpoint, no best/.
  fs.rmSync(path.join(out, 'checkpoints'), { recursive: true, force: true });
  fs.rmSync(path.join(out, 'best'), { recursive: true, force: true });
  cutLogBeforeFirstCheckpoint(out);
  assert.match(bertft('pretrain', '--data', data, '--out', out, ...args).stderr, /already holds a training run/);
  // Resume reads the run: a flag given again that differs is refused by name, as for fine-tuning.
  assert.match(
    bertft('pretrain', '--out', out, '--resume', '--batch-size', '8').stderr,
    /batchSize \(run: 4, given: 8\)/,
  );
  const resumed = bertft('pretrain', '--out', out, '--resume', '--data', data);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.ok(fs.existsSync(path.join(out, 'best')));
  fs.appendFileSync(data, '"one more line of text",pos\n');
  const changed = bertft('pretrain', '--out', out, '--resume', '--data', data);
  assert.equal(changed.status, 1, changed.stderr);
  assert.match(changed.stderr, /changed since the run started/);
});
