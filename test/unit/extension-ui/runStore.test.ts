import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  RunStateCache,
  describeRun,
  isProcessAlive,
  listRuns,
  readRunState,
} from '../../../src/extension/runs/runStore';
import { failure, finishedRun, started, step, toJsonl } from './sampleRun';
import { tempFolder } from '../../helpers/temp';

function makeRuns(): string {
  const root = tempFolder('bert-runs-');
  const write = (name: string, text: string) => {
    fs.mkdirSync(path.join(root, name), { recursive: true });
    fs.writeFileSync(path.join(root, name, 'metrics.jsonl'), text);
  };
  write('run-done', toJsonl(finishedRun()));
  fs.mkdirSync(path.join(root, 'run-done', 'best'));
  write('run-live', toJsonl([started({ pid: 111, time: '2026-11-25T09:00:00.000Z' }), step(5)]));
  write('run-dead', toJsonl([started({ pid: 222, time: '2026-11-25T07:00:00.000Z' }), step(5)]));
  write('run-failed', toJsonl([started({ time: '2026-11-25T06:00:00.000Z' }), failure('bad label')]));
  fs.mkdirSync(path.join(root, 'not-a-run'));
  fs.writeFileSync(path.join(root, 'stray.txt'), 'x');
  return root;
}

test('lists runs newest first with status, best metric and model folder', () => {
  const root = makeRuns();
  const runs = listRuns(root, (pid) => pid === 111);
  assert.deepEqual(
    runs.map((r) => [r.name, r.phase]),
    [
      ['run-live', 'training'],
      ['run-done', 'done'],
      ['run-dead', 'interrupted'],
      ['run-failed', 'failed'],
    ],
  );
  const finished = runs[1];
  assert.equal(finished.bestAccuracy, 0.9);
  assert.equal(finished.bestModelDir, path.join(root, 'run-done', 'best'));
  assert.equal(runs[3].errorMessage, 'bad label');
  assert.equal(describeRun(runs[0]), 'training 5/100 · 2026-11-25 09:00');
  assert.equal(describeRun(finished), 'done · acc 0.90 · 2026-11-25 08:00');
  fs.rmSync(root, { recursive: true, force: true });
});

test('a missing run folder has no runs; a run without metrics is waiting', () => {
  assert.deepEqual(listRuns(path.join(os.tmpdir(), 'no-such-folder-bert-ui')), []);
  const dir = tempFolder('bert-run-');
  assert.equal(readRunState(dir).phase, 'waiting');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('isProcessAlive knows this process and refuses nonsense ids', () => {
  assert.equal(isProcessAlive(process.pid), true);
  assert.equal(isProcessAlive(0), false);
  assert.equal(isProcessAlive(-1), false);
});

test('a cache folds only what was appended and still notices a dead process', () => {
  const root = tempFolder('bert-cache-');
  const dir = path.join(root, 'run');
  fs.mkdirSync(dir);
  const file = path.join(dir, 'metrics.jsonl');
  fs.writeFileSync(file, toJsonl([started({ pid: 5 }), step(1)]));
  const cache = new RunStateCache();
  let alive = true;
  assert.equal(cache.read(dir, () => alive).step, 1);
  fs.appendFileSync(file, toJsonl([step(2), step(3)]));
  const state = cache.read(dir, () => alive);
  assert.deepEqual(state.train.step, [1, 2, 3], 'no step folded twice');
  assert.equal(state.phase, 'training');
  alive = false;
  assert.equal(cache.read(dir, () => alive).phase, 'interrupted');
  alive = true;
  assert.equal(cache.read(dir, () => alive).phase, 'training', 'the derived phase is not stored');
  fs.writeFileSync(file, toJsonl([started({ pid: 5 })]));
  assert.deepEqual(cache.read(dir, () => alive).train.step, [], 'a replaced file starts over');
  assert.equal(listRuns(root, () => alive, cache)[0]?.name, 'run');
  fs.rmSync(root, { recursive: true, force: true });
});
