/**
 * Classify Selection with a text-pair model in the real extension host: a tiny premise/hypothesis model trained here,
 * its pairs read from two selections, from tab-separated lines, or from one selection and the second text given to
 * the command (what its input box asks for), each checked against the in-process predictor on the same pairs. A
 * selection that is not a pair classifies nothing, and the hover and Explain Selection stay out of pairs.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { loadPredictor } from '../../../src/core/infer/predictor';
import { runTrainingSession } from '../../../src/core/finetune/session';
import type { ClassifyResult, ExplainResult } from '../../../src/extension/inference';
import { TINY_RUN_SETTINGS } from '../../helpers/tiny-run';

const csvField = (s: string): string => `"${s.replace(/"/g, '""')}"`;

/** premise,hypothesis,label: "agree" when both sentences praise or both pan the same thing, else "disagree". */
function writeAgreementCsv(dir: string, rows: number): string {
  const good = ['great', 'wonderful', 'excellent', 'lovely', 'superb'];
  const bad = ['awful', 'terrible', 'boring', 'dreadful', 'poor'];
  const things = ['movie', 'film', 'story', 'acting', 'ending', 'music'];
  const lines = ['premise,hypothesis,label'];
  for (let i = 0; i < rows; i++) {
    const thing = things[i % things.length];
    const first = i % 2 === 0 ? good : bad;
    const agree = i % 4 < 2;
    const second = agree ? first : first === good ? bad : good;
    const premise = `the ${thing} was ${first[i % first.length]} ${i}`;
    const hypothesis = `the ${thing} felt ${second[(i * 3 + 1) % second.length]}`;
    lines.push(`${csvField(premise)},${csvField(hypothesis)},${agree ? 'agree' : 'disagree'}`);
  }
  const file = path.join(dir, 'agreement.csv');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

suite('pairs: Classify Selection with a text-pair model', function () {
  this.timeout(120_000);
  const root = (): string => vscode.workspace.workspaceFolders![0].uri.fsPath;
  let run: string;

  suiteSetup(async () => {
    await vscode.extensions.getExtension('bertft.bert-finetune')!.activate();
    const dir = path.join(root(), 'pairs-data');
    fs.mkdirSync(dir, { recursive: true });
    run = path.join(root(), '.bert', 'runs', 'pairs-run');
    await runTrainingSession(
      { data: writeAgreementCsv(dir, 96), out: run, ...TINY_RUN_SETTINGS },
      { emit: () => {}, shouldStop: () => false },
    );
    assert.equal(await vscode.commands.executeCommand<string>('bert.useModel', run), run);
  });

  suiteTeardown(async () => {
    await vscode.workspace
      .getConfiguration('bert')
      .update('hover.enabled', undefined, vscode.ConfigurationTarget.Workspace);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  async function open(content: string, ...selections: vscode.Selection[]): Promise<vscode.TextEditor> {
    const doc = await vscode.workspace.openTextDocument({ language: 'plaintext', content });
    const editor = await vscode.window.showTextDocument(doc);
    editor.selections = selections;
    return editor;
  }

  /** The in-process predictor's predictions of the same pairs: the extension must give the same probabilities. */
  async function assertSameAsPredictor(result: ClassifyResult | undefined, texts: string[], pairs: string[]) {
    assert.ok(result, 'no result');
    assert.deepEqual([result.texts, result.pairs], [texts, pairs]);
    const predictor = await loadPredictor(run, { device: 'cpu' });
    assert.equal(predictor.textPairColumn, 'hypothesis', 'bertft.json names the pair column');
    const expected = await predictor.predict(texts, pairs);
    const alone = await predictor.predict(texts);
    await predictor.dispose();
    expected.forEach((e, i) => {
      assert.equal(result.predictions[i].label, e.label);
      for (const label of ['agree', 'disagree'])
        assert.ok(Math.abs(result.predictions[i].scores[label] - e.scores[label]) < 1e-6, `${label} of pair ${i}`);
    });
    // Each pair was classified as a pair: its first text alone scores differently.
    assert.ok(expected.some((e, i) => Math.abs(e.scores.agree - alone[i].scores.agree) > 1e-4));
  }

  test('two selections are the text and its text_pair, in document order whatever order they were made in', async () => {
    const content = 'the film was wonderful 7\nsome notes in between\nthe film felt awful\n';
    const second = new vscode.Selection(2, 0, 2, 'the film felt awful'.length);
    const first = new vscode.Selection(0, 0, 0, 'the film was wonderful 7'.length);
    await open(content, second, first);
    const result = await vscode.commands.executeCommand<ClassifyResult>('bert.classifySelection');
    await assertSameAsPredictor(result, ['the film was wonderful 7'], ['the film felt awful']);
  });

  test('one selection of tab-separated lines is one pair per line', async () => {
    const content = 'the story was lovely 3\tthe story felt superb\nthe music was poor 5\tthe music felt great\n';
    await open(content, new vscode.Selection(0, 0, 2, 0));
    const result = await vscode.commands.executeCommand<ClassifyResult>('bert.classifySelection');
    await assertSameAsPredictor(
      result,
      ['the story was lovely 3', 'the music was poor 5'],
      ['the story felt superb', 'the music felt great'],
    );
  });

  test('one selection of one text is the first text; the second is the one given (or typed in the input box)', async () => {
    await open('the acting was dreadful 9', new vscode.Selection(0, 0, 0, 25));
    const result = await vscode.commands.executeCommand<ClassifyResult>('bert.classifySelection', {
      textPair: 'the acting felt boring',
    });
    await assertSameAsPredictor(result, ['the acting was dreadful 9'], ['the acting felt boring']);
  });

  test('selections that are not pairs classify nothing (the warning says which and how to select a pair)', async () => {
    // Three selections, the second three lines without a tab: not guessed.
    const content = 'a one\na two\nb one\nb two\nb three\nc one\nc two\n';
    await open(
      content,
      new vscode.Selection(0, 0, 2, 0),
      new vscode.Selection(2, 0, 5, 0),
      new vscode.Selection(5, 0, 7, 0),
    );
    assert.equal(await vscode.commands.executeCommand<ClassifyResult>('bert.classifySelection'), undefined);
  });

  test('no hover and no explanation of one text with a pair model', async () => {
    await vscode.workspace.getConfiguration('bert').update('hover.enabled', true, vscode.ConfigurationTarget.Workspace);
    const editor = await open('the plot was superb 4', new vscode.Selection(0, 0, 0, 21));
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
      'vscode.executeHoverProvider',
      editor.document.uri,
      new vscode.Position(0, 5),
    );
    const texts = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    assert.doesNotMatch(texts, /agree|█/);
    assert.equal(await vscode.commands.executeCommand<ExplainResult>('bert.explainSelection'), undefined);
  });
});
