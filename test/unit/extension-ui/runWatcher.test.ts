import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RunWatcher, RunWatchers } from '../../../src/extension/runs/runWatcher';
import type { RunPhase } from '../../../src/extension/protocol/dashboardState';
import type { TrainerEvent } from '../../../src/trainer/protocol';
import { done, started, step, toJsonl } from './sampleRun';
import { tempFolder } from '../../helpers/temp';

function runDir(events: TrainerEvent[]): string {
  const dir = tempFolder('bert-watch-');
  fs.writeFileSync(path.join(dir, 'metrics.jsonl'), toJsonl(events));
  return dir;
}

test('a watcher snapshots the file, folds appended events and tells its listeners', () => {
  const dir = runDir([started({ pid: 7 }), step(1)]);
  const watcher = new RunWatcher(dir, { isAlive: () => true });
  assert.equal(watcher.state.step, 1);
  const seen: TrainerEvent[] = [];
  watcher.subscribe({ events: (e) => seen.push(...e) });
  fs.appendFileSync(path.join(dir, 'metrics.jsonl'), toJsonl([step(2), done()]));
  watcher.poll();
  assert.deepEqual(
    seen.map((e) => e.event),
    ['step', 'done'],
  );
  assert.equal(watcher.state.phase, 'done');
  watcher.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a training run whose process dies becomes interrupted, once', () => {
  const dir = runDir([started({ pid: 99 }), step(1)]);
  let alive = true;
  const watcher = new RunWatcher(dir, { isAlive: () => alive });
  const phases: RunPhase[] = [];
  watcher.subscribe({ phase: (p) => phases.push(p) });
  assert.equal(watcher.checkLiveness(), 'training');
  alive = false;
  assert.equal(watcher.checkLiveness(), 'interrupted');
  assert.equal(watcher.checkLiveness(), 'interrupted');
  assert.deepEqual(phases, ['interrupted']);
  watcher.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a process that wrote done before dying is done, not interrupted', () => {
  const dir = runDir([started({ pid: 99 }), step(1)]);
  let alive = true;
  const watcher = new RunWatcher(dir, { isAlive: () => alive });
  fs.appendFileSync(path.join(dir, 'metrics.jsonl'), toJsonl([done()]));
  alive = false;
  assert.equal(watcher.checkLiveness(), 'done');
  watcher.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('RunWatchers shares one watcher per folder and disposes it with its last user', () => {
  const dir = runDir([started()]);
  const watchers = new RunWatchers({ isAlive: () => true });
  const a = watchers.acquire(dir);
  const b = watchers.acquire(path.join(dir, '.'));
  assert.equal(a.watcher, b.watcher);
  assert.equal(watchers.size, 1);
  a.release();
  a.release();
  assert.equal(watchers.size, 1);
  b.release();
  assert.equal(watchers.size, 0);
  watchers.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('when our trainer exits, an unfinished run is interrupted and one that never started failed', () => {
  const training = runDir([started({ pid: 5 }), step(1)]);
  const a = new RunWatcher(training, { isAlive: () => true });
  assert.equal(a.processEnded(), 'interrupted');
  const empty = tempFolder('bert-watch-');
  const b = new RunWatcher(empty, { isAlive: () => true });
  assert.equal(b.state.phase, 'waiting');
  assert.equal(b.processEnded(), 'failed');
  const finished = runDir([started({ pid: 5 }), done()]);
  const c = new RunWatcher(finished, { isAlive: () => false });
  assert.equal(c.processEnded(), 'done');
  for (const w of [a, b, c]) w.dispose();
  for (const d of [training, empty, finished]) fs.rmSync(d, { recursive: true, force: true });
});
