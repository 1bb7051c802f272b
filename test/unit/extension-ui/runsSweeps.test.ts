/**
 * Sweeps in the Runs view, from real sweep folders: one sweep row with its trials ordered by core/sweep's leaderboard
 * (best first), each trial's metric and state, the best marked; the sweep folder is not listed as a run; a trial not
 * started yet and a damaged sweep.json still show; settings from the sweep reach the view only through `say`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { asPlain } from '../../../src/extension/display/text';
import { listRuns, phaseText } from '../../../src/extension/runs/runStore';
import {
  describeSweep,
  describeSweepTooltip,
  describeTrial,
  listSweeps,
  settingsLabel,
} from '../../../src/extension/runs/sweeps';
import { finishedRun, toJsonl } from './sampleRun';
import { HOSTILE_SETTING, writeSweep } from './sampleSweep';
import { tempFolder } from '../../helpers/temp';

function runsRoot(): string {
  const root = tempFolder('bert-sweeps-');
  writeSweep(root);
  fs.mkdirSync(path.join(root, 'plain-run'));
  fs.writeFileSync(path.join(root, 'plain-run', 'metrics.jsonl'), toJsonl(finishedRun()));
  return root;
}

test('a sweep is one entry whose trials follow the leaderboard, best first, each with its metric and state', () => {
  const root = runsRoot();
  const sweeps = listSweeps(root, () => false);
  assert.equal(sweeps.length, 1);
  const [sweep] = sweeps;
  assert.equal(sweep.name, 'sweep-lr');
  assert.equal(sweep.metric, 'accuracy');
  assert.deepEqual(
    sweep.trials.map((t) => [t.name, t.phase, t.trial?.rank, t.trial?.best, t.trial?.bestMetric]),
    [
      ['trial-001', 'done', 1, true, 0.95],
      ['trial-000', 'done', 2, false, 0.8],
      ['trial-002', 'failed', 3, false, null],
      ['trial-003', 'waiting', 4, false, null],
    ],
  );
  const described = sweep.trials.map((t) => asPlain(describeTrial(t, phaseText(t))));
  assert.deepEqual(described, [
    '★ best · accuracy 0.950 · done',
    '#2 · accuracy 0.800 · done',
    '#3 · failed',
    '#4 · waiting',
  ]);
  assert.equal(sweep.trials[0].bestModelDir, path.join(sweep.dir, 'trial-001', 'best'));
  assert.equal(sweep.trials[2].errorMessage, 'Out of memory. Lower the batch size.');
  assert.equal(asPlain(describeSweep(sweep)), 'sweep · 2/4 done · best accuracy 0.950 · 1 failed · 2026-12-06 10:00');
  const tooltip = asPlain(describeSweepTooltip(sweep));
  assert.match(tooltip, /4 trials drawn from the grid \(seed 1\)/);
  assert.match(tooltip, /Grid: lr=0\.001,0\.002,0\.005,0\.01/);
  assert.match(tooltip, /Best: lr=0\.002 · truncation=.* \(trial-001\)/);
});

test('the sweep folder is not a run; the runs beside it are listed as before', () => {
  const root = runsRoot();
  assert.deepEqual(
    listRuns(root, () => false).map((r) => r.name),
    ['plain-run'],
  );
});

test('a trial finishing later moves up the leaderboard on the next listing', () => {
  const root = runsRoot();
  const sweepDir = path.join(root, 'sweep-lr');
  const events = fs.readFileSync(path.join(sweepDir, 'trial-001', 'metrics.jsonl'), 'utf8');
  fs.mkdirSync(path.join(sweepDir, 'trial-003'));
  fs.writeFileSync(
    path.join(sweepDir, 'trial-003', 'metrics.jsonl'),
    events.replace(/"best_metric":0\.95/, '"best_metric":0.99').replace(/"accuracy":0\.95/, '"accuracy":0.99'),
  );
  const [sweep] = listSweeps(root, () => false);
  assert.deepEqual(
    sweep.trials.map((t) => [t.name, t.trial?.best]),
    [
      ['trial-003', true],
      ['trial-001', false],
      ['trial-000', false],
      ['trial-002', false],
    ],
  );
});

test('settings reach the view as data: link syntax from a sweep is never a link', () => {
  const root = runsRoot();
  const [sweep] = listSweeps(root, () => false);
  const label = asPlain(settingsLabel(sweep.trials[0].trial!.settings, 'trial-001'));
  assert.equal(label, 'lr=0.002 · truncation=[x] (command:workbench.action.quit)');
  assert.ok(!asPlain(describeSweepTooltip(sweep)).includes(HOSTILE_SETTING));
  assert.equal(asPlain(settingsLabel({}, 'trial-009')), 'trial-009');
});

test('a damaged sweep.json shows as a sweep with the reason, not an error thrown at the view', () => {
  const root = runsRoot();
  fs.writeFileSync(path.join(root, 'sweep-lr', 'sweep.json'), '{"kind": "not a sweep"');
  const [sweep] = listSweeps(root, () => false);
  assert.equal(sweep.trials.length, 0);
  assert.match(sweep.error ?? '', /sweep\.json is not a sweep record of bertft/);
  assert.equal(asPlain(describeSweep(sweep)), 'sweep · sweep.json unreadable');
  assert.match(asPlain(describeSweepTooltip(sweep)), /Start the sweep again|not a sweep record/);
});

test('no run folder: no sweeps', () => {
  assert.deepEqual(listSweeps(path.join(os.tmpdir(), 'bert-no-such-folder-4711')), []);
});
