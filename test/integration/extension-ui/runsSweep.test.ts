/**
 * Sweeps in the Runs view, in the real extension host: a sweep folder written as `bertft sweep` leaves it is one
 * collapsible row whose children are its trials in leaderboard order (best first, marked), each with its metric and
 * state, settings shown as data; clicking a trial opens its dashboard as for any run.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { BertExtensionApi } from '../../../src/extension/extension';
import type { RunsNode } from '../../../src/extension/runs/view';
import { writeSweep } from '../../unit/extension-ui/sampleSweep';
import { eventually } from '../eventually';

const EXTENSION_ID = 'bertft.bert-finetune';

function dashboardLabels(): string[] {
  return vscode.window.tabGroups.all
    .flatMap((g) => g.tabs)
    .filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('bert.dashboard'))
    .map((t) => t.label);
}

suite('Runs view: sweeps', () => {
  let api: BertExtensionApi;
  let sweepDir: string;

  suiteSetup(async () => {
    api = (await vscode.extensions.getExtension<BertExtensionApi>(EXTENSION_ID)!.activate())!;
    const runsRoot = path.join(vscode.workspace.workspaceFolders![0].uri.fsPath, '.bert', 'runs');
    sweepDir = writeSweep(runsRoot, 'it-sweep');
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    fs.rmSync(sweepDir, { recursive: true, force: true });
  });

  const sweepNode = (): RunsNode | undefined =>
    api.runsView.getChildren().find((n) => path.resolve(n.dir) === path.resolve(sweepDir));

  test('a sweep is one collapsible row with its trials in leaderboard order, the best marked', async () => {
    const node = await eventually(sweepNode, (n) => n !== undefined);
    assert.ok(node, 'the sweep is a row of the Runs view');
    const item = api.runsView.getTreeItem(node);
    assert.equal(item.label, 'it-sweep');
    assert.equal(item.collapsibleState, vscode.TreeItemCollapsibleState.Collapsed);
    assert.equal(item.description, 'sweep · 2/4 done · best accuracy 0.950 · 1 failed · 2026-12-06 10:00');
    assert.ok(
      !api.listRuns().some((r) => r.dir.startsWith(sweepDir)),
      'neither the sweep nor its trials are listed as runs',
    );

    const trials = api.runsView.getChildren(node);
    const items = trials.map((t) => api.runsView.getTreeItem(t));
    assert.deepEqual(
      items.map((i) => [i.label, i.description]),
      [
        ['lr=0.002 · truncation=[x] (command:workbench.action.quit)', '★ best · accuracy 0.950 · done'],
        ['lr=0.001 · truncation=head', '#2 · accuracy 0.800 · done'],
        ['lr=0.005 · truncation=head', '#3 · failed'],
        ['lr=0.01 · truncation=head', '#4 · waiting'],
      ],
    );
    assert.equal((items[0].iconPath as vscode.ThemeIcon).id, 'star-full');
    assert.equal((items[2].iconPath as vscode.ThemeIcon).id, 'error');
    assert.equal(items[0].contextValue, 'bertRun.done+model', 'the best trial offers its model like any run');
    assert.equal(api.runsView.getParent(trials[0])?.dir, node.dir, 'a trial is under its sweep');
  });

  test('opening a trial opens its dashboard, as for any run', async () => {
    const node = await eventually(sweepNode, (n) => n !== undefined);
    assert.ok(node, 'the sweep is a row of the Runs view');
    const [best] = api.runsView.getChildren(node);
    const item = api.runsView.getTreeItem(best);
    assert.equal(item.command?.command, 'bert.runs.openDashboard');
    assert.deepEqual(item.command.arguments, [best]);
    await vscode.commands.executeCommand(item.command.command, best);
    const labels = await eventually(dashboardLabels, (l) => l.includes('BERT: trial-001'));
    assert.ok(labels.includes('BERT: trial-001'), `dashboard tabs: ${labels.join(', ')}`);
  });
});
