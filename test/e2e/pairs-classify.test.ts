/**
 * Classify Selection with a text-pair model, as a user does it in VS Code 1.100 (code-server) through Chromium: a
 * tiny premise/hypothesis model trained here is the workspace's active model (bert.activeModel). A selected line is
 * the first text: an input box asks for the second, and the notification gives the pair's label with how it read the
 * pair (test-output/e2e/pairs-input.png, pairs-classify.png). A selection of two lines is the two texts at once. Both
 * give the probabilities of the in-process predictor on the same pair. BERT: Explain Selection on two selected lines
 * colours the tokens of both texts (exactly those of the same pair explanation computed in-process) with a legend, and
 * its notification names the top tokens with the text each came from: test-output/e2e/pairs-explain-{dark,light,
 * high-contrast}.png.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import type { Page } from 'playwright-core';
import { loadExplainer } from '../../src/core/infer/explain';
import { loadPredictor } from '../../src/core/infer/predictor';
import { runTrainingSession } from '../../src/core/finetune/session';
import { attributionLevel } from '../../src/extension/inference/text';
import { launchChromium, openPaletteAt, waitForBertContributions, type Browser } from './harness/browser';
import { TEST_OUTPUT, startCodeServer, type CodeServer, devWorkbenchUrl } from './harness/codeServer';
import { writeAgreementCsv } from '../helpers/agreement-pairs';
import { TINY_RUN_SETTINGS } from '../helpers/tiny-run';
import { workbenchActions } from './harness/workbench';
import { tempFolder } from '../helpers/temp';

const OUT = path.join(TEST_OUTPUT, 'e2e');
const UI_TIMEOUT = 60_000;
const { runCommand } = workbenchActions(UI_TIMEOUT);

let server: CodeServer | undefined;
let browser: Browser | undefined;
const temps: string[] = [];

after(async () => {
  await browser?.close();
  await server?.stop();
  for (const d of temps) fs.rmSync(d, { recursive: true, force: true });
});

async function openFile(page: Page, name: string): Promise<void> {
  await page.keyboard.press('Control+P');
  await page.locator('.quick-input-widget .quick-input-box input').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  await page.keyboard.type(name);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor({ timeout: UI_TIMEOUT });
  await page.keyboard.press('Enter');
  await page.locator('.tab.active', { hasText: name }).waitFor({ timeout: UI_TIMEOUT });
}

const percent = (x: number): string => `${(x * 100).toFixed(1)}%`;

/** Picks a colour theme as a user does (Preferences: Color Theme) and waits for the workbench to wear it. */
async function setTheme(page: Page, name: string, themeClass: string): Promise<void> {
  const themes = await openPaletteAt(page, '>Preferences: Color Theme', 'Preferences: Color Theme', UI_TIMEOUT);
  await themes.filter({ hasText: 'Preferences: Color Theme' }).first().click();
  await page.locator('.quick-input-widget .quick-input-box input').fill(name);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor({ timeout: UI_TIMEOUT });
  await page.keyboard.press('Enter');
  await page.waitForFunction(
    `document.querySelector('.monaco-workbench')?.classList.contains(${JSON.stringify(themeClass)})`,
    undefined,
    { timeout: UI_TIMEOUT },
  );
}

test('Classify Selection on a pair model: an input box asks for the second text; two selected lines are the pair; Explain Selection colours both', async () => {
  fs.mkdirSync(OUT, { recursive: true });
  const ws = tempFolder('bertft-e2e-pairs-');
  temps.push(ws);
  const data = path.join(ws, 'agreement.csv');
  writeAgreementCsv(data, 96);
  const run = path.join(ws, '.bert', 'runs', 'pairs-run');
  await runTrainingSession({ data, out: run, ...TINY_RUN_SETTINGS }, { emit: () => {}, shouldStop: () => false });
  const [premise, hypothesis] = ['the film was wonderful 7', 'the film felt awful'];
  const predictor = await loadPredictor(run, { device: 'cpu' });
  const [expected] = await predictor.predict([premise], [hypothesis]);
  await predictor.dispose();
  fs.writeFileSync(path.join(ws, 'one.txt'), `${premise}\n`);
  fs.writeFileSync(path.join(ws, 'two.txt'), `${premise}\n${hypothesis}\n`);
  // Explained without a row number, as a user would write the pair.
  const [explainedPremise, explainedHypothesis] = ['the acting was superb', 'the acting felt dreadful'];
  fs.writeFileSync(path.join(ws, 'pair.txt'), `${explainedPremise}\n${explainedHypothesis}\n`);
  const explainer = await loadExplainer(run);
  const explanation = await explainer.explain(explainedPremise, { textPair: explainedHypothesis });
  await explainer.dispose();
  const maxAbs = Math.max(...explanation.tokens.map((t) => Math.abs(t.score)));
  const colouredTokens = explanation.tokens.filter((t) => attributionLevel(t.score, maxAbs) !== undefined);
  // The premise of "both texts coloured": each has a token with a level.
  assert.deepEqual([...new Set(colouredTokens.map((t) => t.segment))].sort(), [0, 1]);
  fs.mkdirSync(path.join(ws, '.vscode'));
  fs.writeFileSync(path.join(ws, '.vscode', 'settings.json'), JSON.stringify({ 'bert.activeModel': run }));

  server = await startCodeServer({ logFile: path.join(OUT, 'pairs-code-server.log') });
  browser = await launchChromium();
  const { page } = browser;
  const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'BERT pairs-run:' });
  const expectedLine = `BERT pairs-run: ${expected.label} (${percent(expected.score)})`;
  try {
    await page.goto(devWorkbenchUrl(server, ws));
    await waitForBertContributions(page, UI_TIMEOUT);

    // One line selected: it is the first text, and the input box asks for the second.
    await openFile(page, 'one.txt');
    await page.locator('.view-lines').click();
    await page.keyboard.press('Control+A');
    await runCommand(page, 'BERT: Classify Selection');
    await page
      .locator('.quick-input-widget .quick-input-title', { hasText: 'BERT: the second text of the pair' })
      .waitFor({ timeout: UI_TIMEOUT });
    const prompt = await page.locator('.quick-input-widget .quick-input-message').innerText();
    assert.match(
      prompt,
      /pairs-run classifies text pairs\. The selection is the first text \(the film was wonderful 7\)/,
    );
    assert.match(prompt, /type the second \(hypothesis\)/);
    await page.locator('.quick-input-widget .quick-input-box input').fill(hypothesis);
    await page.screenshot({ path: path.join(OUT, 'pairs-input.png') });
    await page.keyboard.press('Enter');
    await toast.first().waitFor({ timeout: UI_TIMEOUT });
    const line = await toast.first().innerText();
    assert.ok(line.includes(expectedLine), `${line} vs ${expectedLine}`);
    assert.ok(line.includes(`for ${premise} ⇄ ${hypothesis}`), line);
    await page.waitForTimeout(800);
    await page.screenshot({ path: path.join(OUT, 'pairs-classify.png') });
    await runCommand(page, 'Notifications: Clear All Notifications');
    await toast.first().waitFor({ state: 'detached', timeout: UI_TIMEOUT });

    // Two lines selected: the same pair, no question asked.
    await openFile(page, 'two.txt');
    await page.locator('.view-lines').click();
    await page.keyboard.press('Control+A');
    await runCommand(page, 'BERT: Classify Selection');
    await toast.first().waitFor({ timeout: UI_TIMEOUT });
    const twoLines = await toast.first().innerText();
    assert.ok(twoLines.includes(expectedLine) && twoLines.includes(`for ${premise} ⇄ ${hypothesis}`), twoLines);
    await runCommand(page, 'Notifications: Clear All Notifications');
    await toast.first().waitFor({ state: 'detached', timeout: UI_TIMEOUT });

    // Explain Selection on two selected lines: both texts' tokens coloured, the legend after the second.
    await openFile(page, 'pair.txt');
    await page.locator('.view-lines').click();
    await page.keyboard.press('Control+A');
    await runCommand(page, 'BERT: Explain Selection');
    const explained = page.locator('.notifications-toasts .notification-toast', { hasText: 'Toward it:' }).first();
    await explained.waitFor({ timeout: UI_TIMEOUT });
    const explainedText = await explained.innerText();
    assert.ok(explainedText.includes(`BERT pairs-run: ${explanation.label}. Toward it:`), explainedText);
    assert.match(explainedText, /Toward it: \S+ \((1st|2nd)\) \+\d\.\d{3}/, explainedText);
    const COLOURED = '.monaco-editor .view-overlays .cdr[class*="ced-"]';
    await page.locator(COLOURED).first().waitFor({ timeout: UI_TIMEOUT });
    // Every token with a level is coloured, plus the legend's anchor; on both lines.
    assert.equal(await page.locator(COLOURED).count(), colouredTokens.length + 1);
    const lineTops = await page.evaluate<string[]>(
      `[...new Set([...document.querySelectorAll(${JSON.stringify(COLOURED)})].map((e) => e.parentElement.style.top))]`,
    );
    assert.equal(lineTops.length, 2, `decorated lines at ${lineTops.join(', ')}`);
    const legend = await page.evaluate<string | undefined>(
      `[...document.querySelectorAll('.view-lines .view-line span')]
        .map((e) => getComputedStyle(e, '::after').content)
        .find((c) => c.includes('green toward it'))`,
    );
    assert.ok(legend?.includes(`BERT → ${explanation.label}: green toward it`), `legend: ${legend}`);
    // The colours as they are: no selection (Control+End; Escape would also hide the notification), the cursor below.
    await page.keyboard.press('Control+End');
    await page.mouse.move(5, 5);
    for (const [theme, themeClass, file] of [
      ['Dark Modern', 'vs-dark', 'pairs-explain-dark.png'],
      ['Light Modern', 'vs', 'pairs-explain-light.png'],
      ['Dark High Contrast', 'hc-black', 'pairs-explain-high-contrast.png'],
    ]) {
      await setTheme(page, theme, themeClass);
      await page.mouse.move(5, 5);
      await page.waitForTimeout(500);
      await page.screenshot({ path: path.join(OUT, file) });
    }
  } catch (error) {
    await page.screenshot({ path: path.join(OUT, 'pairs-failure.png') }).catch(() => undefined);
    throw error;
  }
});
