/**
 * "BERT: Find Likely Mislabeled Rows" in the real extension host: the finder runs in a trainer child (its k fold runs
 * go to a temporary folder), and opening a suspect shows the data file with the cursor on that row's line.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { readDataset } from '../../../src/core/data/read';
import type { SuspectsOutcome } from '../../../src/extension/training/suspects';

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

  test('finds rows whose label was flipped, and opens the first at its line', async () => {
    // The bundled SpamAssassin sample, one row a line, with every 20th label flipped.
    const spam = path.join(__dirname, '..', '..', '..', '..', 'examples', 'spam-ham.csv');
    const { examples } = await readDataset(spam);
    const flipped = new Set<number>();
    const lines = examples.map((e, i) => {
      if (i % 20 !== 7) return JSON.stringify({ text: e.text, label: e.label });
      flipped.add(i + 1);
      return JSON.stringify({ text: e.text, label: e.label === 'spam' ? 'ham' : 'spam' });
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
  });
});
