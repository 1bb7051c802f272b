/**
 * Classify Selection, Explain Selection and the hover with a text-pair model in the real extension host: a tiny
 * premise/hypothesis model trained here, its pairs read from two selections, from tab-separated lines, or from one
 * selection and the second text given to the command (what its input box asks for), each checked against the
 * in-process predictor and explainer on the same pairs. Explain Selection colours both texts' tokens where they are in
 * the document (only the first's when the second was typed in); the hover over a selected pair shows its label and its
 * top tokens, each with the text it came from. A selection that is not a pair classifies nothing, and one text alone
 * gets no hover.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { loadExplainer, type Explanation } from '../../../src/core/infer/explain';
import { loadPredictor } from '../../../src/core/infer/predictor';
import { runTrainingSession } from '../../../src/core/finetune/session';
import type { ClassifyResult, ExplainResult } from '../../../src/extension/inference';
import { asMarkdown } from '../../../src/extension/display/text';
import { attributionLevel, describeTopTokens, hoverMarkdown } from '../../../src/extension/inference/text';
import { writeAgreementCsv } from '../../helpers/agreement-pairs';
import { TINY_RUN_SETTINGS } from '../../helpers/tiny-run';

suite('pairs: Classify Selection, Explain Selection and the hover with a text-pair model', function () {
  this.timeout(120_000);
  const root = (): string => vscode.workspace.workspaceFolders![0].uri.fsPath;
  let run: string;

  suiteSetup(async () => {
    await vscode.extensions.getExtension('bertft.bert-finetune')!.activate();
    const dir = path.join(root(), 'pairs-data');
    fs.mkdirSync(dir, { recursive: true });
    const data = path.join(dir, 'agreement.csv');
    writeAgreementCsv(data, 96);
    run = path.join(root(), '.bert', 'runs', 'pairs-run');
    await runTrainingSession({ data, out: run, ...TINY_RUN_SETTINGS }, { emit: () => {}, shouldStop: () => false });
    assert.equal(await vscode.commands.executeCommand<string>('bert.useModel', run), run);
  });

  suiteTeardown(async () => {
    for (const key of ['hover.enabled', 'hover.timeBudgetMs'])
      await vscode.workspace.getConfiguration('bert').update(key, undefined, vscode.ConfigurationTarget.Workspace);
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

  /** The core explainer's explanation of a pair, at the editor's steps (bert.explain.steps' default). */
  async function explainPair(text: string, textPair: string): Promise<Explanation> {
    const explainer = await loadExplainer(run);
    try {
      return await explainer.explain(text, { textPair, steps: 50 });
    } finally {
      await explainer.dispose();
    }
  }

  /**
   * What Explain Selection must colour: every token with a level, at its offsets in its own text plus where that text
   * starts in the document (`starts`: the first text's, the second's or undefined when it is not in the document).
   */
  function expectedDecorations(e: Explanation, texts: string[], starts: (number | undefined)[]) {
    const maxAbs = Math.max(...e.tokens.map((t) => Math.abs(t.score)));
    return e.tokens.flatMap((t) => {
      const level = attributionLevel(t.score, maxAbs);
      const start = starts[t.segment!];
      if (level === undefined || start === undefined) return [];
      const text = texts[t.segment!].slice(t.start!, t.end!);
      return [{ level, start: start + t.start!, end: start + t.end!, text, score: t.score, segment: t.segment }];
    });
  }

  function assertDecorated(editor: vscode.TextEditor, result: ExplainResult, expected: ExplainResult['decorated']) {
    assert.deepEqual(result.decorated, expected);
    // Each coloured range holds its token in the document (case aside: the tokenizer lowercases).
    for (const d of result.decorated) {
      const range = new vscode.Range(editor.document.positionAt(d.start), editor.document.positionAt(d.end));
      assert.equal(editor.document.getText(range), d.text);
    }
  }

  // The explained texts carry no row number: the tiny model leans on the numbers alone (the only token it colours).
  test('Explain Selection on two selections: both texts coloured at their tokens, the core explanation of the pair', async () => {
    const [premise, hypothesis] = ['the acting was superb', 'the acting felt dreadful'];
    const content = `notes\n  ${premise}\nin between\n${hypothesis} (seen twice)\n`;
    const first = content.indexOf(premise);
    const second = content.indexOf(hypothesis);
    const doc = (line: number, from: number, to: number) => new vscode.Selection(line, from, line, to);
    // Made second first (multi-cursor order is not document order), the first with its leading spaces.
    const editor = await open(content, doc(3, 0, hypothesis.length), doc(1, 0, 2 + premise.length));
    const result = await vscode.commands.executeCommand<ExplainResult>('bert.explainSelection');
    assert.ok(result, 'no result');
    const expected = await explainPair(premise, hypothesis);
    assert.deepEqual([result.text, result.textPair], [premise, hypothesis]);
    assert.deepEqual(result.explanation, expected);
    const decorations = expectedDecorations(expected, [premise, hypothesis], [first, second]);
    assert.ok(decorations.some((d) => d.segment === 0) && decorations.some((d) => d.segment === 1), 'both coloured');
    assertDecorated(editor, result, decorations);
  });

  test('Explain Selection on one selection of two lines, and on tab-separated texts: the split Classify Selection uses', async () => {
    const [premise, hypothesis] = ['the music was lovely', 'the music felt poor'];
    const lines = await open(`${premise}\n\n   ${hypothesis}  \n`, new vscode.Selection(0, 0, 3, 0));
    const expected = await explainPair(premise, hypothesis);
    const fromLines = await vscode.commands.executeCommand<ExplainResult>('bert.explainSelection');
    assert.ok(fromLines, 'no result');
    assert.deepEqual(fromLines.explanation, expected);
    assertDecorated(lines, fromLines, expectedDecorations(expected, [premise, hypothesis], [0, premise.length + 5]));

    const tsv = `x\t${premise}\t ${hypothesis}\n`;
    const tabs = await open(tsv, new vscode.Selection(0, 2, 0, tsv.length - 1));
    const fromTabs = await vscode.commands.executeCommand<ExplainResult>('bert.explainSelection');
    assert.ok(fromTabs, 'no result');
    assert.deepEqual(fromTabs.explanation, expected);
    assertDecorated(tabs, fromTabs, expectedDecorations(expected, [premise, hypothesis], [2, tsv.indexOf(hypothesis)]));
  });

  test('Explain Selection with the second text typed in: only the selection is coloured; several pairs are refused', async () => {
    const [premise, hypothesis] = ['the ending was excellent', 'the ending felt terrible'];
    const editor = await open(`> ${premise}`, new vscode.Selection(0, 2, 0, 2 + premise.length));
    const result = await vscode.commands.executeCommand<ExplainResult>('bert.explainSelection', {
      textPair: hypothesis,
    });
    assert.ok(result, 'no result');
    const expected = await explainPair(premise, hypothesis);
    assert.deepEqual([result.textPair, result.explanation], [hypothesis, expected]);
    assert.ok(
      expected.tokens.some((t) => t.segment === 1),
      'the typed text was explained too',
    );
    assertDecorated(editor, result, expectedDecorations(expected, [premise, hypothesis], [2, undefined]));

    await open('a one\ta two\nb one\tb two\n', new vscode.Selection(0, 0, 2, 0));
    assert.equal(await vscode.commands.executeCommand<ExplainResult>('bert.explainSelection'), undefined);
  });

  test('Classify Selection of one pair names the top tokens of both texts: the core explanation of the pair', async () => {
    const [premise, hypothesis] = ['the story was great', 'the story felt boring'];
    await open(`${premise}\n${hypothesis}\n`, new vscode.Selection(0, 0, 2, 0));
    const result = await vscode.commands.executeCommand<ClassifyResult>('bert.classifySelection');
    assert.deepEqual(result?.explanation, await explainPair(premise, hypothesis));
  });

  async function hoverAt(editor: vscode.TextEditor, position: vscode.Position): Promise<vscode.Hover[]> {
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
      'vscode.executeHoverProvider',
      editor.document.uri,
      position,
    );
    return hovers.filter((h) => h.contents.some((c) => (typeof c === 'string' ? c : c.value).includes('█')));
  }
  const hoverText = (h: vscode.Hover): string =>
    h.contents.map((c) => (typeof c === 'string' ? c : c.value)).join('\n');

  test("the hover over a selected pair: the pair's label and its top tokens, each with its text (1st / 2nd)", async () => {
    const bert = vscode.workspace.getConfiguration('bert');
    await bert.update('hover.enabled', true, vscode.ConfigurationTarget.Workspace);
    await bert.update('hover.timeBudgetMs', 20_000, vscode.ConfigurationTarget.Workspace);
    const [premise, hypothesis] = ['the plot was awful', 'the plot felt awful'];
    const content = `${premise} and more\n\n${hypothesis}\n`;
    const editor = await open(
      content,
      new vscode.Selection(0, 0, 0, premise.length),
      new vscode.Selection(2, 0, 2, hypothesis.length),
    );
    const predictor = await loadPredictor(run, { device: 'cpu' });
    const [expected] = await predictor.predict([premise], [hypothesis]);
    await predictor.dispose();
    const explanation = await explainPair(premise, hypothesis);
    const why = `Toward ${explanation.label}: ${asMarkdown(describeTopTokens([premise, hypothesis], explanation))}`;
    assert.match(why, /\((1st|2nd)\) \+\d/, why);

    // Over the second text: the hover covers it, and shows the pair's label, probability and top tokens.
    const [over2nd] = await hoverAt(editor, new vscode.Position(2, 10));
    assert.ok(over2nd, 'no hover over the second text');
    assert.ok(
      over2nd.range?.isEqual(new vscode.Range(2, 0, 2, hypothesis.length)),
      `range ${JSON.stringify(over2nd.range)}`,
    );
    const shown = hoverText(over2nd);
    const texts = [premise, hypothesis];
    assert.equal(shown, asMarkdown(hoverMarkdown(expected, 'pairs-run', run, 5, { texts, explanation })));
    assert.ok(shown.includes(why), `${shown}\n--- expected ---\n${why}`);
    // Over the first: the same pair, from the cache.
    const [over1st] = await hoverAt(editor, new vscode.Position(0, 3));
    assert.ok(over1st?.range?.isEqual(new vscode.Range(0, 0, 0, premise.length)));
    assert.equal(hoverText(over1st), shown);
    // Outside the pair's texts, and over one selected text alone (no pair): no hover.
    assert.deepEqual(await hoverAt(editor, new vscode.Position(0, premise.length + 4)), []);
    const alone = await open('the plot was superb 4', new vscode.Selection(0, 0, 0, 21));
    assert.deepEqual(await hoverAt(alone, new vscode.Position(0, 5)), []);
  });
});
