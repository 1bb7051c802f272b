import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { applyEvents, emptyDashboardState } from '../../../src/extension/protocol/dashboardState';
import { parseWebviewMessage } from '../../../src/extension/protocol/messages';
import { chartColumns } from '../../../src/extension/dashboard/viewModel';
import { formatStatus } from '../../../src/extension/dashboard/statusText';
import { parseMetricsLines } from '../../../src/core/run/metrics-log';
import { describeRun, listRuns } from '../../../src/extension/runs/runStore';
import { pretrainRequest, resumeOptions } from '../../../src/extension/training/options';
import { finishedRun, mlmRun, toJsonl } from './sampleRun';
import { asLabel, asPlain } from '../../../src/extension/display/text';
import { tempFolder } from '../../helpers/temp';

test('a pre-training run folds into a dashboard state marked mlm, with perplexity and no macro-F1', () => {
  const { events, badLines } = parseMetricsLines(toJsonl(mlmRun()));
  assert.equal(badLines, 0);
  const state = emptyDashboardState('/ws/.bert/runs/p');
  applyEvents(state, events);
  assert.equal(state.task, 'mlm');
  assert.equal(state.phase, 'done');
  assert.deepEqual(
    state.evals.map((e) => [e.step, e.perplexity, e.macroF1, e.isBest]),
    [
      [10, Math.exp(6), undefined, true],
      [20, Math.exp(6.5), undefined, false],
    ],
  );
  const classify = emptyDashboardState('r');
  applyEvents(classify, finishedRun());
  assert.equal(classify.task, 'classify', 'runs whose started event has no task are classifiers');
});

test('MLM chart columns: masked accuracy alone in the quality chart, perplexity in its own; fine-tuning has no perplexity', () => {
  const state = emptyDashboardState('p');
  applyEvents(state, mlmRun());
  const columns = chartColumns(state);
  assert.deepEqual(columns.quality, [
    [10, 20],
    [0.1, 0.2],
  ]);
  assert.deepEqual(columns.perplexity, [
    [10, 20],
    [Math.exp(6), Math.exp(6.5)],
  ]);
  assert.equal(columns.loss[0].length, 20);
  const ft = emptyDashboardState('r');
  applyEvents(ft, finishedRun());
  assert.equal(chartColumns(ft).quality.length, 3);
  assert.deepEqual(chartColumns(ft).perplexity, [[]]);
});

test('status bar and Runs view describe a pre-training run by perplexity and mark it as pre-training', () => {
  const state = emptyDashboardState('/ws/.bert/runs/p');
  applyEvents(state, mlmRun());
  const status = formatStatus(state);
  assert.ok(status.kind === 'done');
  assert.equal(asLabel(status.text), 'perplexity 403');
  const tooltip = status.tooltip ? asPlain(status.tooltip) : '';
  assert.match(tooltip, /^Pre-training run: p\n/);
  assert.match(tooltip, /Best: MLM loss 6\.000, perplexity 403, masked-token accuracy 0\.100 at step 10/);

  const root = tempFolder('bert-runs-mlm-');
  fs.mkdirSync(path.join(root, 'p', 'best'), { recursive: true });
  fs.writeFileSync(path.join(root, 'p', 'metrics.jsonl'), toJsonl(mlmRun()));
  const [run] = listRuns(root);
  assert.deepEqual(
    [run.task, run.phase, run.bestLoss, run.bestStep, run.bestModelDir],
    ['mlm', 'done', 6, 10, path.join(root, 'p', 'best')],
  );
  assert.match(describeRun(run), /^pre-train · done · perplexity 403 · 2026-11-25 08:00$/);
});

test('pre-training requests: from the flow with the settings that apply, and for resuming a pre-training run.json', () => {
  assert.deepEqual(
    pretrainRequest({ data: '/ws/notes', model: 'random:tiny' }, '/ws/.bert/runs/x-pretrain', { device: 'cpu' }),
    { task: 'mlm', data: '/ws/notes', model: 'random:tiny', out: '/ws/.bert/runs/x-pretrain', device: 'cpu' },
  );
  const sized = pretrainRequest({ data: 'd', model: 'm' }, 'o', { device: 'auto', maxLength: 64, batchSize: 4 });
  assert.ok(sized.task === 'mlm' && sized.maxLength === 64 && sized.batchSize === 4);
  assert.deepEqual(
    resumeOptions({ kind: 'pretrain', options: { data: '/ws/notes', out: '/old', maxSteps: 9 } }, '/ws/.bert/runs/p'),
    { task: 'mlm', data: '/ws/notes', out: '/ws/.bert/runs/p', resume: true },
  );
  assert.equal(resumeOptions({ kind: 'pretrain' }, 'p'), undefined);
});

test('the dashboard may ask to fine-tune from a pre-trained model', () => {
  assert.deepEqual(parseWebviewMessage({ type: 'fineTuneFromModel' }), { type: 'fineTuneFromModel' });
});
