/**
 * "BERT: Fine-tune BERT" with a multi-label dataset, as a user does it in VS Code 1.100 (code-server) through
 * Chromium: emojilib's keyword annotations (a real corpus, label lists in JSONL) go through the guided flow, whose
 * columns step says the task it detected; the run trains (a few epochs of the small random model); the dashboard
 * shows the task and the per-label table with thresholds (screenshots in a dark and a light theme:
 * test-output/e2e/multi-label-dashboard-{dark,light}.png); then, with the run as the active model, the hover and
 * Classify Selection show every label at or above its threshold for a text the model gives several labels
 * (test-output/e2e/multi-label-hover.png) — the same labels `bertft predict` lists.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { launchChromium, waitForBertContributions, type Browser } from './harness/browser';
import { REPO_ROOT, TEST_OUTPUT, startCodeServer, type CodeServer, devWorkbenchUrl } from './harness/codeServer';
import { emojiKeywordRows } from '../helpers/emoji-keywords';
import { workbenchActions } from './harness/workbench';
import { tempFolder } from '../helpers/temp';

const OUT = path.join(TEST_OUTPUT, 'e2e');
const UI_TIMEOUT = 60_000;
const { pick, runCommand, setTheme } = workbenchActions(UI_TIMEOUT);
/** The trainer itself may take a while on 2 shared cores. */
const TRAIN_TIMEOUT = 300_000;
const CLI = path.join(REPO_ROOT, 'out', 'src', 'cli.js');

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

/** `bertft predict --json` on each text: the labels it lists (at or above their thresholds), per text. */
function predictedLabels(run: string, texts: string[]): string[][] {
  const file = path.join(run, '..', 'texts.jsonl');
  fs.writeFileSync(file, texts.map((text) => JSON.stringify({ text })).join('\n') + '\n');
  const out = execFileSync(process.execPath, [CLI, 'predict', '--model', run, '--file', file, '--json'], {
    encoding: 'utf8',
  });
  return out
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { labels: { label: string }[] }).labels.map((x) => x.label));
}

test('Fine-tune BERT on multi-label data: detected task, per-label dashboard in two themes, several labels in the editor', async () => {
  fs.mkdirSync(OUT, { recursive: true });
  if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'trainer.js')) || !fs.existsSync(CLI)) {
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build.mjs')], { cwd: REPO_ROOT, stdio: 'ignore' });
  }
  const ws = tempFolder('bertft-e2e-multi-label-');
  temps.push(ws);
  // 70% of the corpus to train on (the flow holds out its own validation share); the rest are texts to classify.
  const { labels, rows } = emojiKeywordRows(40);
  const cut = Math.round(rows.length * 0.7);
  fs.writeFileSync(
    path.join(ws, 'emoji.jsonl'),
    rows
      .slice(0, cut)
      .map((r) => JSON.stringify(r))
      .join('\n') + '\n',
  );
  fs.mkdirSync(path.join(ws, '.vscode'));
  // A generous budget: the first hover also loads the model into the worker.
  fs.writeFileSync(
    path.join(ws, '.vscode', 'settings.json'),
    JSON.stringify({ 'bert.hover.enabled': true, 'bert.hover.timeBudgetMs': 10000, 'bert.explain.steps': 4 }),
  );

  server = await startCodeServer({ logFile: path.join(OUT, 'multi-label-code-server.log') });
  browser = await launchChromium();
  const { page } = browser;
  try {
    await page.goto(devWorkbenchUrl(server, ws));
    await waitForBertContributions(page, UI_TIMEOUT);

    await runCommand(page, 'BERT: Fine-tune BERT');
    await pick(page, /dataset/, 'emoji.jsonl', 'emoji.jsonl');
    // The columns step says what the check detected: label lists, so several labels per row.
    const detected = `Detected: several labels per row (label lists), ${labels.length} labels`;
    await page.locator('.quick-input-widget .quick-input-title', { hasText: /columns and task/ }).waitFor({
      timeout: UI_TIMEOUT,
    });
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: detected });
    await row.first().waitFor({ timeout: UI_TIMEOUT });
    await page.screenshot({ path: path.join(OUT, 'multi-label-flow-detected.png') });
    await pick(page, /columns and task/, '', /Text: "text", label: "labels"/);
    // Warnings (if the check finds any) are accepted; the model step follows.
    const modelStep = page.locator('.quick-input-widget .quick-input-title', { hasText: /model/ });
    const dialog = page.locator('.monaco-dialog-box');
    await Promise.race([modelStep.waitFor({ timeout: UI_TIMEOUT }), dialog.waitFor({ timeout: UI_TIMEOUT })]);
    if (await dialog.isVisible()) await dialog.locator('.monaco-button', { hasText: 'Train Anyway' }).click();
    await pick(page, /model/, 'Small random model', 'Small random model');
    await pick(page, /settings/, 'Advanced', 'Advanced');
    await pick(page, /advanced settings/, 'Epochs', /^Epochs: /);
    await page.locator('.quick-input-widget .quick-input-box input').fill('8');
    await page.keyboard.press('Enter');
    await pick(page, /advanced settings/, 'Continue', 'Continue with these settings');
    await pick(page, /device/, 'CPU', 'CPU');
    await pick(page, /start training/, '', 'Start training');

    // The dashboard names the task, follows the run to its end, and lists each label with its threshold.
    await page.locator('.tab', { hasText: /BERT: \d{8}-\d{6}-emoji/ }).waitFor({ timeout: UI_TIMEOUT });
    const view = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
    await view.locator('#task', { hasText: 'multi-label classification' }).waitFor({ timeout: UI_TIMEOUT });
    await view.locator('#phase', { hasText: /^(finished|failed)$/ }).waitFor({ timeout: TRAIN_TIMEOUT });
    assert.equal(await view.locator('#problem').innerText(), '', 'the run did not fail');
    assert.equal(await view.locator('#phase').innerText(), 'finished');
    await view.locator('#per-class h2', { hasText: 'Per label' }).waitFor({ timeout: UI_TIMEOUT });
    const headers = await view.locator('#per-class th').allInnerTexts();
    assert.deepEqual(headers, ['label', 'precision', 'recall', 'F1', 'support', 'threshold']);
    assert.equal(await view.locator('#per-class tbody tr').count(), labels.length, 'one row per label');
    assert.deepEqual(await view.locator('#evals th').allInnerTexts(), [
      'step',
      'epoch',
      'val loss (BCE)',
      'micro-F1',
      'macro-F1',
      'subset acc.',
      '',
    ]);
    assert.equal(await view.locator('#confusion-section button.cell').count(), 0, 'no confusion matrix');
    await view.locator('figcaption', { hasText: 'Validation micro-F1 / macro-F1' }).waitFor({ timeout: UI_TIMEOUT });
    assert.match(await view.locator('#facts').innerText(), /best micro-F1 0\.\d{3} at step \d+/);
    await page.locator('.statusbar-item', { hasText: /BERT: micro-F1 0\.\d\d/ }).waitFor({ timeout: UI_TIMEOUT });
    // The screenshots show the per-label table from its heading.
    await view.locator('#per-class').evaluate((el: Scrollable) => el.scrollIntoView({ block: 'start' }));

    for (const [theme, file, bodyClass, workbenchClass] of [
      ['Dark Modern', 'multi-label-dashboard-dark.png', 'vscode-dark', 'vs-dark'],
      ['Light Modern', 'multi-label-dashboard-light.png', 'vscode-light', 'vs'],
    ]) {
      await setTheme(page, theme);
      // Both the workbench and the webview in the new theme before the picture.
      await page.locator(`.monaco-workbench.${workbenchClass}`).waitFor({ timeout: UI_TIMEOUT });
      await view.locator(`body.${bodyClass}`).waitFor({ timeout: UI_TIMEOUT });
      await page.waitForTimeout(1500);
      await page.screenshot({ path: path.join(OUT, file) });
      // And the top of the page: the task badge, the charts and the evaluations.
      await view.locator('#header').evaluate((el: Scrollable) => el.scrollIntoView({ block: 'start' }));
      await page.waitForTimeout(300);
      await page.screenshot({ path: path.join(OUT, file.replace('dashboard-', 'dashboard-top-')) });
      await view.locator('#per-class').evaluate((el: Scrollable) => el.scrollIntoView({ block: 'start' }));
    }

    const runName = fs.readdirSync(path.join(ws, '.bert', 'runs'))[0];
    const runDir = path.join(ws, '.bert', 'runs', runName);

    // A text the trained model gives several labels (as `bertft predict` lists them), classified in the editor.
    // Plain words only: the hover classifies the sentence under the mouse, and a "." would end it early.
    const candidates = rows
      .slice(cut)
      .map((r) => r.text)
      .filter((t) => /^[a-z ]+$/i.test(t));
    const predicted = predictedLabels(runDir, candidates);
    const index = predicted.findIndex((p) => p.length >= 2);
    assert.ok(index >= 0, `no text got two labels: ${JSON.stringify(predicted.slice(0, 20))}`);
    const text = candidates[index];
    const expected = predicted[index];
    fs.writeFileSync(path.join(ws, 'notes.txt'), `${text}\n`);

    await view.locator('#classify').click();
    await page
      .locator('.notifications-toasts .notification-toast', { hasText: 'classifying with' })
      .waitFor({ timeout: UI_TIMEOUT });
    await page.keyboard.press('Control+P');
    await page.locator('.quick-input-widget .quick-input-box input').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await page.keyboard.type('notes.txt');
    await page
      .locator('.quick-input-list .monaco-list-row', { hasText: 'notes.txt' })
      .first()
      .waitFor({ timeout: UI_TIMEOUT });
    await page.keyboard.press('Enter');

    // The hover: every predicted label in bold with its probability, and ✓ on its bar with its threshold.
    const word = text.split(' ')[0];
    const span = page.locator('.view-lines .view-line span span', { hasText: word }).first();
    await span.waitFor({ timeout: UI_TIMEOUT });
    const box = await span.boundingBox();
    assert.ok(box, `"${word}" is not rendered`);
    const hover = page.locator('.monaco-hover', { hasText: '█' });
    await page.mouse.move(5, 5);
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 4 });
    await hover.first().waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    const shown = await hover.first().innerText();
    await page.screenshot({ path: path.join(OUT, 'multi-label-hover.png') });
    const ticked = [...shown.matchAll(/✓ (.+?) \(threshold \d+\.\d%\)/g)].map((m) => m[1]);
    assert.deepEqual(ticked.sort(), [...expected].sort(), shown);
    for (const label of expected) assert.match(shown, new RegExp(`${label} \\d+\\.\\d%`));

    // Classify Selection on the line: the same labels, each with its probability.
    await page.mouse.move(5, 5);
    await page.keyboard.press('Escape');
    await page.locator('.view-lines').click();
    await page.keyboard.press('Control+A');
    await runCommand(page, 'BERT: Classify Selection');
    const toast = page.locator('.notifications-toasts .notification-toast', { hasText: `BERT ${runName}:` });
    await toast.first().waitFor({ timeout: UI_TIMEOUT });
    const line = await toast.first().innerText();
    for (const label of expected) assert.match(line, new RegExp(`${label} \\d+\\.\\d%`), line);
    await page.waitForTimeout(800);
    await page.screenshot({ path: path.join(OUT, 'multi-label-classify.png') });
  } catch (e) {
    await page.screenshot({ path: path.join(OUT, 'multi-label-failure.png') }).catch(() => undefined);
    throw e;
  }
});
