/**
 * A regression run's dashboard in VS Code 1.100 (code-server) driven by Chromium: a run of the small random model
 * trained here on scores (a number per text), opened with "BERT: Open Training Dashboard". The page names the task,
 * shows MSE / MAE / Pearson / Spearman in place of accuracy, no confusion matrix, and the predicted-vs-true scatter
 * plot of the validation texts, named for a screen reader by its summary; screenshots in dark, light and
 * high-contrast themes (test-output/e2e/regression-dashboard-{dark,light,hc}.png). Then "BERT: Fine-tune BERT" on the same data: the flow
 * detects the numbers, and its Advanced step lists no option a regression run refuses (label smoothing, class
 * weights, best-model metric) (test-output/e2e/regression-advanced.png).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { runTrainingSession } from '../../src/core/finetune/session';
import { launchChromium, openPaletteAt, waitForBertContributions, type Browser } from './harness/browser';
import { TEST_OUTPUT, startCodeServer, type CodeServer, devWorkbenchUrl } from './harness/codeServer';
import { TINY_RUN_SETTINGS } from '../helpers/tiny-run';
import { workbenchActions } from './harness/workbench';
import { tempFolder } from '../helpers/temp';

const OUT = path.join(TEST_OUTPUT, 'e2e');
const UI_TIMEOUT = 60_000;
const { pick, runCommand, setTheme } = workbenchActions(UI_TIMEOUT);

/** An element of the dashboard's page, as far as this test moves it (the tests compile without the DOM's types). */
type Scrollable = { scrollIntoView(options: { block: 'start' }): void };

let server: CodeServer | undefined;
let browser: Browser | undefined;
const temps: string[] = [];

after(async () => {
  await browser?.close();
  await server?.stop();
  for (const d of temps) fs.rmSync(d, { recursive: true, force: true });
});

/** text,label: the more of "fine nice great" a text has, the higher its score (0.5 to 3.5). */
function writeScores(file: string, rows: number): void {
  const lines = ['text,label'];
  for (let i = 0; i < rows; i++) {
    const good = i % 4;
    lines.push(`"${['fine', 'nice', 'great'].slice(0, good).join(' ')} item ${i}",${good}.5`);
  }
  fs.writeFileSync(file, lines.join('\n') + '\n');
}

test('a regression run: its errors and correlations in place of accuracy, and the predicted-vs-true plot, in three themes', async () => {
  fs.mkdirSync(OUT, { recursive: true });
  const ws = tempFolder('bertft-e2e-regression-');
  temps.push(ws);
  const data = path.join(ws, 'scores.csv');
  writeScores(data, 96);
  const run = path.join(ws, '.bert', 'runs', '20261206-130000-scores');
  await runTrainingSession(
    { data, out: run, ...TINY_RUN_SETTINGS, maxSteps: 200, evalSteps: 50, problemType: 'regression' },
    { emit: () => {}, shouldStop: () => false },
  );

  server = await startCodeServer({ logFile: path.join(OUT, 'regression-code-server.log') });
  browser = await launchChromium();
  const { page } = browser;
  try {
    await page.goto(devWorkbenchUrl(server, ws));
    await waitForBertContributions(page, UI_TIMEOUT);
    await setTheme(page, 'Dark Modern');
    // Listed once the extension has found the run (bert.hasRuns): the palette is reopened until then.
    await openPaletteAt(page, '>BERT: Open Training Dashboard', 'BERT: Open Training Dashboard', UI_TIMEOUT);
    await page.keyboard.press('Enter');
    const view = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
    await view.locator('#task', { hasText: 'regression' }).waitFor({ timeout: UI_TIMEOUT });
    assert.equal(await view.locator('#phase').innerText(), 'finished');
    assert.match(await view.locator('#facts').innerText(), /best MSE \d+\.\d{3} at step \d+/);
    assert.deepEqual(await view.locator('#evals th').allInnerTexts(), [
      'step',
      'epoch',
      'val MSE',
      'MAE',
      'Pearson',
      'Spearman',
      '',
    ]);
    assert.ok((await view.locator('#evals tbody tr').count()) >= 2, 'evaluations at step 50 and at the end at least');
    assert.doesNotMatch(await view.locator('#evals').innerText(), /accuracy|NaN/);
    assert.equal(await view.locator('#confusion-section button.cell').count(), 0, 'no confusion matrix');

    // The scatter plot: 24 validation texts (a quarter of 96) at the last evaluation, summarised in words. The run ends
    // at step 90: its 10 epochs of 72 rows in batches of 8 come before maxSteps.
    const scatter = view.locator('figure.chart[data-chart="scatter"]');
    await scatter.waitFor({ timeout: UI_TIMEOUT });
    assert.equal(await scatter.locator('figcaption').innerText(), 'Predicted vs true value (validation)');
    assert.match(
      (await scatter.getAttribute('aria-label')) ?? '',
      /^Predicted vs true value \(validation\) at step 90: 24 validation texts, Pearson -?\d\.\d{3}, MAE \d+\.\d{3}, \d+ predicted above their true value$/,
    );
    assert.equal(await scatter.locator('canvas').count(), 1);
    assert.equal(await scatter.locator('canvas[aria-hidden="true"]').count(), 1, 'the canvas is hidden from readers');
    await scatter.evaluate((el: Scrollable) => el.scrollIntoView({ block: 'start' }));

    for (const [theme, file, bodyClass, workbenchClass] of [
      ['Dark Modern', 'regression-dashboard-dark.png', 'vscode-dark', 'vs-dark'],
      ['Light Modern', 'regression-dashboard-light.png', 'vscode-light', 'vs'],
      ['Dark High Contrast', 'regression-dashboard-hc.png', 'vscode-high-contrast', 'hc-black'],
    ]) {
      await setTheme(page, theme);
      await page.locator(`.monaco-workbench.${workbenchClass}`).waitFor({ timeout: UI_TIMEOUT });
      await view.locator(`body.${bodyClass}`).waitFor({ timeout: UI_TIMEOUT });
      // The plot is rebuilt in the theme's colours.
      await view.locator('figure.chart[data-chart="scatter"] canvas').waitFor({ timeout: UI_TIMEOUT });
      await page.waitForTimeout(1500);
      await page.screenshot({ path: path.join(OUT, file) });
    }

    // The Fine-tune flow on the same data: the numbers are detected, and the Advanced step offers only what applies.
    await runCommand(page, 'BERT: Fine-tune BERT');
    await pick(page, /dataset/, 'scores.csv', 'scores.csv');
    await page
      .locator('.quick-input-list .monaco-list-row', { hasText: 'Detected: a number per row (regression)' })
      .first()
      .waitFor({ timeout: UI_TIMEOUT });
    await pick(page, /columns and task/, '', /Text: "text", label: "label"/);
    const modelStep = page.locator('.quick-input-widget .quick-input-title', { hasText: /model/ });
    const dialog = page.locator('.monaco-dialog-box');
    await Promise.race([modelStep.waitFor({ timeout: UI_TIMEOUT }), dialog.waitFor({ timeout: UI_TIMEOUT })]);
    if (await dialog.isVisible()) await dialog.locator('.monaco-button', { hasText: 'Train Anyway' }).click();
    await pick(page, /model/, 'Small random model', 'Small random model');
    await page
      .locator('.quick-input-widget .quick-input-title', { hasText: /settings/ })
      .waitFor({ timeout: UI_TIMEOUT });
    const advancedRow = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Advanced' });
    assert.match(
      await advancedRow.innerText(),
      /Fast, with your epochs, learning rate and schedule, batch size and accumulation, early stopping\./,
    );
    await pick(page, /settings/, 'Advanced', 'Advanced');
    await page
      .locator('.quick-input-widget .quick-input-title', { hasText: /advanced settings/ })
      .waitFor({ timeout: UI_TIMEOUT });
    const rows = page.locator('.quick-input-list .monaco-list-row');
    await rows.filter({ hasText: 'lowest validation MSE' }).first().waitFor({ timeout: UI_TIMEOUT });
    await page.screenshot({ path: path.join(OUT, 'regression-advanced.png') });
    // The list scrolls (rows out of sight are not rendered): each setting is looked for by typing it, as a user would.
    const box = page.locator('.quick-input-widget .quick-input-box input');
    for (const shown of ['Epochs', 'Learning rate', 'Batch size', 'Gradient accumulation', 'Early stopping']) {
      await box.fill(shown);
      await rows
        .filter({ hasText: `${shown}: ` })
        .first()
        .waitFor({ timeout: UI_TIMEOUT });
    }
    for (const withheld of ['Label smoothing', 'Class weights', 'Best model by']) {
      const present = rows.filter({ hasText: 'Early stopping: ' }).first();
      await box.fill('Early stopping');
      await present.waitFor({ timeout: UI_TIMEOUT });
      await box.fill(withheld);
      // The list has been filtered for this text once the setting listed just before is gone from it.
      await present.waitFor({ state: 'detached', timeout: UI_TIMEOUT });
      assert.equal(await rows.filter({ hasText: withheld }).count(), 0, `${withheld} is not offered for numbers`);
    }
    await page.keyboard.press('Escape');
  } catch (error) {
    await page.screenshot({ path: path.join(OUT, 'regression-failure.png') }).catch(() => undefined);
    throw error;
  }
});
