/**
 * "BERT: Find Likely Mislabeled Rows" in the real extension host: the finder runs in a trainer child (its k fold runs
 * go to a temporary folder), the Likely Mislabeled view lists the suspects (labels with markup shown inert), and
 * clicking one shows the data file with the cursor on that row's line.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { readDataset } from '../../../src/core/data/read';
import { ownValue } from '../../../src/core/util/records';
import type { BertExtensionApi } from '../../../src/extension/extension';
import type { SuspectsOutcome } from '../../../src/extension/training/suspects';

// Labels are data: one with link syntax, one with icon syntax. The view must show them as text.
const SPAM = 'spam [run](command:workbench.action.quit)';
const HAM = 'ham $(zap)';

suite('Find Likely Mislabeled Rows', function () {
  this.timeout(280_000);
  const root = (): string => vscode.workspace.workspaceFolders![0].uri.fsPath;
  let dir: string;

  suiteSetup(async () => {
    await vscode.extensions.getExtension('bertft.bert-finetune')!.activate();
    dir = fs.mkdtempSync(path.join(root(), 'suspects-'));
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('finds rows whose label was flipped, lists them in the view, and opens one at its line', async () => {
    // The bundled SpamAssassin sample, one row a line, with every 20th label flipped.
    const spam = path.join(__dirname, '..', '..', '..', '..', 'examples', 'spam-ham.csv');
    const { examples } = await readDataset(spam);
    const flipped = new Set<number>();
    const lines = examples.map((e, i) => {
      const isSpam = (e.label === 'spam') !== (i % 20 === 7);
      if (i % 20 === 7) flipped.add(i + 1);
      return JSON.stringify({ text: e.text, label: isSpam ? SPAM : HAM });
    });
    const data = path.join(dir, 'mail.jsonl');
    fs.writeFileSync(data, lines.join('\n') + '\n');

    const outcome = await vscode.commands.executeCommand<SuspectsOutcome | undefined>('bert.findSuspects', {
      data,
      folds: 3,
      maxLength: 64,
      device: 'cpu',
      open: 0,
    });
    assert.ok(outcome, 'the command answers with the report');
    const { report, opened } = outcome;
    assert.equal(report.rows, 400);
    const found = report.suspects.filter((s) => flipped.has(s.line)).length;
    assert.ok(found >= flipped.size / 2, `${found} of ${flipped.size} flipped rows among ${report.suspects.length}`);
    assert.deepEqual(opened, { file: data, line: report.suspects[0].line });
    const editor = vscode.window.activeTextEditor;
    assert.equal(editor?.document.uri.fsPath, data);
    assert.equal(editor.selection.active.line, report.suspects[0].line - 1);
    // The fold runs were temporary: nothing but the data is left beside it.
    assert.deepEqual(fs.readdirSync(dir), ['mail.jsonl']);

    // The Likely Mislabeled view lists every suspect in the report's order, labels inert.
    const api = vscode.extensions.getExtension<BertExtensionApi>('bertft.bert-finetune')!.exports;
    await vscode.commands.executeCommand('bert.suspects.focus');
    const items = api.suspectItems();
    assert.equal(items.length, report.suspects.length);
    const inert = (label: string) => label.replace('](', '] (');
    items.forEach((item, i) => {
      const s = report.suspects[i];
      assert.equal(item.label, `${inert(s.given)} → ${inert(s.suggested)}`);
      assert.ok(!String(item.description).includes(']('), String(item.description));
      const p = ownValue(s.probabilities, s.suggested) ?? NaN;
      assert.match(String(item.description), new RegExp(`^${(100 * p).toFixed(0)}% · mail\\.jsonl:${s.line} · `));
      const tooltip = item.tooltip as vscode.MarkdownString;
      assert.equal(tooltip.isTrusted, false);
      assert.ok(!tooltip.value.includes('](command:'), tooltip.value);
      assert.deepEqual(item.command?.arguments, [s]);
    });

    // A click runs the item's command: the data file opens at that row's line.
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const last = items[items.length - 1];
    await vscode.commands.executeCommand(last.command!.command, ...(last.command!.arguments as unknown[]));
    const shown = vscode.window.activeTextEditor;
    assert.equal(shown?.document.uri.fsPath, data);
    assert.equal(shown.selection.active.line, report.suspects[items.length - 1].line - 1);

    // Clear empties the view.
    await vscode.commands.executeCommand('bert.suspects.clear');
    assert.deepEqual(api.suspectItems(), []);
  });
});
