/**
 * Pre-training in the real extension host: "BERT: Pre-train on Workspace Text" (its questions answered by the
 * command's arguments) starts the trainer child through the training controller; the run finishes in the runs folder
 * with the fine-tuning events, its dashboard opens, the Runs view lists it as a pre-training run, and its best/ folder
 * starts a fine-tuning run.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { BertExtensionApi } from '../../../src/extension/extension';
import { describeRun } from '../../../src/extension/runs/runStore';
import { readMetricsLog } from '../../../src/core/run/metrics-log';
import { RUN_LOCK } from '../../../src/core/run/paths';
import { describeAllocator, hugePagesAvailable, trainingProcessEnv } from '../../../src/core/train/allocator';
import { runTrainingSession } from '../../../src/core/finetune/session';
import { writeSentimentCsv } from '../../unit/runner/fixtures';
import { eventually } from '../eventually';

const SETTINGS: [string, unknown][] = [
  ['maxLength', 32],
  ['batchSize', 2],
  ['device', 'cpu'],
];

suite('pre-training through the training controller', function () {
  // Generous: on a loaded CI machine the stopped run's resume alone has taken minutes; a bound costs time only on failure.
  this.timeout(420_000);
  const root = (): string => vscode.workspace.workspaceFolders![0].uri.fsPath;
  const bert = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('bert');
  let api: BertExtensionApi;
  let notes: string;

  suiteSetup(async () => {
    api = await vscode.extensions.getExtension<BertExtensionApi>('bertft.bert-finetune')!.activate();
    notes = path.join(root(), 'notes');
    fs.mkdirSync(notes, { recursive: true });
    const topics = [
      'budget',
      'roadmap',
      'hiring',
      'release',
      'security',
      'support',
      'design',
      'pricing',
      'travel',
      'training',
      'offsite',
      'audit',
    ];
    topics.forEach((t, i) =>
      fs.writeFileSync(
        path.join(notes, `${t}.txt`),
        `The ${t} meeting moved to Friday. We agreed to review the ${t} plan next week and to send notes to the team by Monday ${i}.`,
      ),
    );
    for (const [key, value] of SETTINGS) await bert().update(key, value, vscode.ConfigurationTarget.Workspace);
  });

  suiteTeardown(async () => {
    for (const [key] of SETTINGS) await bert().update(key, undefined, vscode.ConfigurationTarget.Workspace);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('Pre-train on Workspace Text runs to the end in the runs folder; dashboard, Runs view and best/ as a fine-tuning model', async () => {
    const runDir = await vscode.commands.executeCommand<string>('bert.pretrain', { data: notes, model: 'random:tiny' });
    assert.ok(runDir, 'the command returns the run folder');
    assert.equal(
      path.dirname(runDir),
      path.join(root(), '.bert', 'runs'),
      'pre-training runs live with the fine-tuning runs',
    );

    const events = await eventually(
      () => readMetricsLog(path.join(runDir, 'metrics.jsonl')),
      (e) => e.some((x) => x.event === 'done' || x.event === 'error'),
      150_000,
    );
    const last = events[events.length - 1];
    assert.ok(last?.event === 'done', `the run ends with done: ${JSON.stringify(last)}`);
    assert.equal(last.stopped, false);
    assert.equal(last.metric_name, 'mlm_loss');
    const started = events.find((e) => e.event === 'started');
    assert.ok(
      started?.event === 'started' &&
        started.task === 'mlm' &&
        started.config.maxLength === 32 &&
        started.config.batchSize === 2,
    );
    // The trainer process runs with the bert.trainingMemory mode (lean by default; glibc's defaults where the kernel has no huge pages).
    const malloc = describeAllocator(trainingProcessEnv({ ...process.env, BERTFT_ALLOCATOR: 'lean' }));
    if (hugePagesAvailable()) assert.match(malloc, /^malloc: lean \(GLIBC_TUNABLES=/);
    assert.ok(started.device_notes.includes(malloc), `${malloc} in ${started.device_notes.join('; ')}`);
    assert.ok(events.some((e) => e.event === 'eval' && e.task === 'mlm' && e.perplexity > 1));

    const tabs = vscode.window.tabGroups.all
      .flatMap((g) => g.tabs)
      .filter((t) => t.input instanceof vscode.TabInputWebview);
    assert.ok(
      tabs.some((t) => t.label === `BERT: ${path.basename(runDir)}`),
      `dashboard tab: ${tabs.map((t) => t.label).join(', ')}`,
    );

    const listed = await eventually(
      () => api.listRuns().find((r) => r.dir === runDir),
      (r) => r?.phase === 'done',
      10_000,
    );
    assert.ok(listed, 'the Runs view lists the run');
    assert.equal(listed.task, 'mlm');
    assert.match(describeRun(listed), /^pre-train · done · perplexity \d/);
    assert.equal(listed.bestModelDir, path.join(runDir, 'best'));

    const data = writeSentimentCsv(fs.mkdtempSync(path.join(root(), 'ft-')), 24);
    const done = await runTrainingSession(
      {
        data,
        out: path.join(root(), '.bert', 'runs', 'from-pretrained'),
        model: listed.bestModelDir,
        maxSteps: 2,
        batchSize: 4,
        maxLength: 32,
        device: 'cpu',
      },
      { emit: () => {}, shouldStop: () => false },
    );
    assert.equal(done.final_step, 2);
    assert.ok(fs.existsSync(path.join(done.best_dir, 'model.onnx')));
  });

  test('Stop Training stops a pre-training run with a checkpoint; Resume Run finishes it', async () => {
    const many = path.join(root(), 'many-notes.txt');
    fs.writeFileSync(
      many,
      Array.from(
        { length: 1000 },
        (_, i) => `note ${i}: the release review moved to room ${i % 9} on day ${i % 5}`,
      ).join('\n\n'),
    );
    const runDir = await vscode.commands.executeCommand<string>('bert.pretrain', { data: many, model: 'random:tiny' });
    const metrics = path.join(runDir, 'metrics.jsonl');
    await eventually(
      () => readMetricsLog(metrics),
      (e) => e.some((x) => x.event === 'step'),
      60_000,
    );
    assert.equal(await vscode.commands.executeCommand<string>('bert.stopTraining', runDir), runDir);
    const stopped = await eventually(
      () => readMetricsLog(metrics),
      (e) => e.some((x) => x.event === 'done'),
      60_000,
    );
    const done = stopped.find((e) => e.event === 'done');
    assert.ok(done?.event === 'done' && done.stopped, `stopped: ${JSON.stringify(done)}`);
    assert.ok(stopped.some((e) => e.event === 'checkpoint' && e.step === done.final_step));
    const listed = await eventually(
      () => api.listRuns().find((r) => r.dir === runDir),
      (r) => r?.phase === 'stopped',
      30_000,
    );
    assert.equal(listed?.phase, 'stopped');

    // The trainer exits right after its `done` and releases the run's lock; resume once it has (on a loaded machine
    // that can take seconds, and a resume before it is refused: the run is in use).
    const lockFile = path.join(runDir, RUN_LOCK);
    assert.equal(
      await eventually(
        () => fs.existsSync(lockFile),
        (held) => !held,
        60_000,
      ),
      false,
      'the trainer exited',
    );
    await vscode.commands.executeCommand('bert.runs.resume', runDir);
    const finished = await eventually(
      () => readMetricsLog(metrics).filter((e) => e.event === 'done'),
      (d) => d.length === 2,
      300_000,
    );
    const last = finished[1];
    assert.ok(last?.event === 'done' && !last.stopped, `the resumed run's done: ${JSON.stringify(last)}`);
    const restarted = readMetricsLog(metrics).filter((e) => e.event === 'started');
    assert.ok(
      restarted[1]?.event === 'started' &&
        restarted[1].resumed_from_step === done.final_step &&
        restarted[1].task === 'mlm',
    );
    assert.equal(last.final_step, restarted[1].total_steps);
  });
});
