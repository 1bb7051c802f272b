/**
 * The first five minutes, as a new user walks them in the real workbench (VS Code 1.100 in code-server, Chromium),
 * offline: an empty workspace → Fine-tune BERT → the bundled example → every default accepted (Enter at each step;
 * the last one shows the run's estimated time and peak memory, also screenshotted in the dark theme) → the dashboard shows a validation accuracy of at least 0.90 → Classify with this model → Classify Selection on an
 * obvious spam sentence says "spam" → the hover (switched on in the settings) says so too. No network: the Hub is
 * pointed at a closed loopback port, as on a machine without internet. Screenshots of every step
 * (test-output/e2e/newcomer-*.png); the time each step took is printed.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, test } from 'node:test';
import type { Page } from 'playwright-core';
import { launchChromium, openPaletteAt, type Browser } from './harness/browser';
import { REPO_ROOT, TEST_OUTPUT, startCodeServer, type CodeServer, devWorkbenchUrl } from './harness/codeServer';
import { tempFolder } from '../helpers/temp';

const OUT = path.join(TEST_OUTPUT, 'e2e');
const UI_TIMEOUT = 60_000;
// The defaults train a seed ensemble: three models, one after another.
const TRAIN_TIMEOUT = 600_000;
const SPAM =
  'Congratulations! You have won a FREE prize. Click here now to claim your cash reward, limited time offer, order today!!!';

let server: CodeServer | undefined;
let browser: Browser | undefined;
const temps: string[] = [];

after(async () => {
  await browser?.close();
  await server?.stop();
  for (const d of temps) fs.rmSync(d, { recursive: true, force: true });
});

/** A loopback port nothing listens on: connections to it are refused at once, like a machine without a network. */
/**
 * Where the walkthrough's step pictures come from: element screenshots of this journey. Copy them to media/walkthrough/
 * when the UI changes.
 */
const WALKTHROUGH_SHOTS = path.join(OUT, 'walkthrough');

/** Help: Open Walkthrough…, ours; resolves with the number of its steps marked done. */
async function openWalkthrough(page: Page): Promise<number> {
  const quickInput = page.locator('.quick-input-widget');
  await page.keyboard.press('F1');
  await quickInput.locator('.quick-input-box input').fill('>Welcome: Open Walkthrough');
  await quickInput.locator('.quick-input-list .monaco-list-row', { hasText: 'Open Walkthrough' }).first().click();
  await quickInput
    .locator('.quick-input-list .monaco-list-row', { hasText: 'Fine-tune a BERT classifier' })
    .first()
    .click();
  const steps = page.locator('.getting-started-step');
  await steps.nth(4).waitFor({ timeout: UI_TIMEOUT });
  assert.equal(await steps.count(), 5, 'pick, check, fine-tune, dashboard, classify');
  // The open step's picture (media/walkthrough/, made by this test) is there.
  const picture = page.locator('.getting-started-media img').first();
  await picture.waitFor({ timeout: UI_TIMEOUT });
  await page.waitForTimeout(500);
  const width = await picture.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth);
  assert.ok(width > 0, 'the step picture loads');
  return page.locator('.getting-started-step .codicon-getting-started-step-checked').count();
}

async function closeEditors(page: Page): Promise<void> {
  const quickInput = page.locator('.quick-input-widget');
  await page.keyboard.press('F1');
  await quickInput.locator('.quick-input-box input').fill('>View: Close All Editors');
  await quickInput.locator('.quick-input-list .monaco-list-row', { hasText: 'Close All Editors' }).first().click();
}

async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const THEME_KINDS = ['vs', 'vs-dark', 'hc-black', 'hc-light'];

/**
 * Runs `act` in a colour theme set in the workspace settings (the palette would close an open quick pick), then goes
 * back to the theme before. `kind` is the workbench's class for the theme: vs, vs-dark, hc-black or hc-light.
 */
async function inTheme(
  page: Page,
  ws: string,
  theme: string,
  kind: string,
  act: () => Promise<unknown>,
): Promise<void> {
  const workbench = page.locator('.monaco-workbench');
  const before = ((await workbench.getAttribute('class')) ?? '').split(/\s+/).find((c) => THEME_KINDS.includes(c));
  assert.ok(before && before !== kind, `the workbench is in another theme kind than ${kind}`);
  const settings = path.join(ws, '.vscode', 'settings.json');
  fs.mkdirSync(path.dirname(settings), { recursive: true });
  fs.writeFileSync(settings, JSON.stringify({ 'workbench.colorTheme': theme }));
  await page.locator(`.monaco-workbench.${kind}`).waitFor({ timeout: UI_TIMEOUT });
  await page.waitForTimeout(500);
  await act();
  fs.writeFileSync(settings, '{}');
  await page.locator(`.monaco-workbench.${before}`).waitFor({ timeout: UI_TIMEOUT });
}

test('a new user, offline: bundled example, all defaults, accuracy ≥ 0.90, Classify Selection and the hover say spam', async () => {
  fs.mkdirSync(OUT, { recursive: true });
  if (
    !fs.existsSync(path.join(REPO_ROOT, 'dist', 'extension.js')) ||
    !fs.existsSync(path.join(REPO_ROOT, 'dist', 'webview.js'))
  ) {
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build.mjs')], { cwd: REPO_ROOT, stdio: 'ignore' });
  }
  const ws = tempFolder('bertft-e2e-newcomer-');
  temps.push(ws);
  const hfHome = tempFolder('bertft-e2e-hf-');
  temps.push(hfHome);
  server = await startCodeServer({
    logFile: path.join(OUT, 'newcomer-code-server.log'),
    env: { HF_ENDPOINT: `http://127.0.0.1:${await closedPort()}`, HF_HOME: hfHome },
  });
  browser = await launchChromium();
  const { page } = browser;
  const timings: [string, number][] = [];
  let stepStart = Date.now();
  let shot = 0;
  const done = async (name: string) => {
    timings.push([name, (Date.now() - stepStart) / 1000]);
    await page.screenshot({ path: path.join(OUT, `newcomer-${String(++shot).padStart(2, '0')}-${name}.png`) });
    stepStart = Date.now();
  };
  const quickInput = page.locator('.quick-input-widget');
  const acceptDefault = async (title: RegExp, expectFirst?: RegExp) => {
    await quickInput.locator('.quick-input-title', { hasText: title }).waitFor({ timeout: UI_TIMEOUT });
    const first = quickInput.locator('.quick-input-list .monaco-list-row').first();
    await first.waitFor({ timeout: UI_TIMEOUT });
    if (expectFirst) assert.match(await first.innerText(), expectFirst);
    await page.waitForTimeout(300);
  };
  try {
    await page.goto(devWorkbenchUrl(server, ws));
    await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: UI_TIMEOUT });
    await done('empty-workspace');
    // The getting-started walkthrough is there before the extension has started, every step still to do.
    fs.mkdirSync(WALKTHROUGH_SHOTS, { recursive: true });
    assert.equal(await openWalkthrough(page), 0, 'no step done yet');
    await done('walkthrough');
    await closeEditors(page);
    const bertStatus = page.locator('.statusbar-item', { hasText: /BERT/ });

    const fineTuneRows = await openPaletteAt(page, '>BERT: Fine-tune BERT', 'BERT: Fine-tune BERT', UI_TIMEOUT);
    await fineTuneRows.filter({ hasText: 'BERT: Fine-tune BERT' }).first().click();
    // No dataset in the workspace: the step says which formats it reads and offers the bundled example.
    await quickInput.locator('.quick-input-title', { hasText: /dataset/ }).waitFor({ timeout: UI_TIMEOUT });
    const placeholder = (await quickInput.locator('.quick-input-box input').getAttribute('placeholder')) ?? '';
    assert.match(placeholder, /CSV, TSV, JSONL or JSON/);
    const example = quickInput.locator('.quick-input-list .monaco-list-row', { hasText: 'Use the bundled example' });
    await example.waitFor({ timeout: UI_TIMEOUT });
    // The command activated the extension; with no run and no model it has nothing to say in the status bar.
    assert.equal(await bertStatus.count(), 0, 'no BERT status bar item before a run');
    await done('dataset-step');
    await quickInput.screenshot({ path: path.join(WALKTHROUGH_SHOTS, 'dataset.png') });
    await example.click();

    await acceptDefault(/columns/, /Text: "text", label: "label"/);
    await done('columns-step');
    await quickInput.screenshot({ path: path.join(WALKTHROUGH_SHOTS, 'check.png') });
    await page.keyboard.press('Enter');

    // Offline: what works without a download comes first.
    await acceptDefault(/model/, /Small random model/);
    assert.match((await quickInput.locator('.quick-input-box input').getAttribute('placeholder')) ?? '', /Offline/);
    await done('model-step-offline');
    await page.keyboard.press('Enter');

    // The long-text step (most mails are longer than the default length), its default first.
    await acceptDefault(/long texts|settings/);
    if (await quickInput.locator('.quick-input-title', { hasText: /long texts/ }).count()) {
      await done('long-text-step');
      await page.keyboard.press('Enter');
      await acceptDefault(/settings/);
    }
    await done('settings-step');
    // A from-scratch run averages three seeds' models and draws its batches at random, and the Fast detail says so
    // (in the dark theme too).
    await quickInput
      .locator('.monaco-list-row', {
        hasText: /^Fast.*3 seeds' models averaged, 12 epochs each, lr 0\.002, batches in random order/,
      })
      .waitFor({ timeout: UI_TIMEOUT });
    await inTheme(page, ws, 'Default Dark Modern', 'vs-dark', () =>
      page.screenshot({ path: path.join(OUT, 'newcomer-settings-step-dark.png') }),
    );
    await page.keyboard.press('Enter');
    await acceptDefault(/device/);
    await done('device-step');
    await page.keyboard.press('Enter');

    // Before the run starts: its expected time and peak memory, from a few warm-up steps in a trainer child (with
    // cancellable progress meanwhile); Enter starts training.
    const estimating = page.locator('.notifications-toasts .notification-toast', {
      hasText: /estimating the run's time and memory/,
    });
    await estimating.waitFor({ timeout: UI_TIMEOUT });
    assert.equal(
      await estimating.locator('.monaco-button', { hasText: 'Cancel' }).count(),
      1,
      'the estimate can be cancelled',
    );
    await page.waitForTimeout(800);
    await done('estimating');
    await acceptDefault(/start training/, /Start training\s*about \d+ (s|min), \d+(\.\d)? (MB|GB) peak/);
    const prompt = (await quickInput.locator('.quick-input-box input').getAttribute('placeholder')) ?? '';
    assert.match(
      prompt,
      /^About \d+ (s|min) on CPU, peak memory about \d+(\.\d)? (MB|GB) \(measured from \d+ warm-up steps\)$/,
    );
    await done('confirm-step');
    await quickInput.screenshot({ path: path.join(WALKTHROUGH_SHOTS, 'finetune.png') });
    // The workbench's default here is light (headless Chromium prefers it): the same step in the dark theme.
    await inTheme(page, ws, 'Default Dark Modern', 'vs-dark', () =>
      page.screenshot({ path: path.join(OUT, 'newcomer-confirm-step-dark.png') }),
    );
    await page.keyboard.press('Enter');

    const view = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
    await view.locator('#phase', { hasText: 'training' }).waitFor({ timeout: UI_TIMEOUT });
    // During the run the status bar shows it, with an accessible name a screen reader can read.
    await bertStatus.first().waitFor({ timeout: UI_TIMEOUT });
    assert.match((await bertStatus.first().getAttribute('aria-label')) ?? '', /BERT/);
    await done('training');
    await view.locator('#phase', { hasText: /^(finished|failed)$/ }).waitFor({ timeout: TRAIN_TIMEOUT });
    assert.equal(await view.locator('#problem').innerText(), '', 'the run finished');
    const facts = await view.locator('#facts').innerText();
    const accuracy = Number(/best accuracy (\d\.\d+)/.exec(facts)?.[1]);
    assert.ok(accuracy >= 0.9, `validation accuracy ${accuracy} (${facts})`);
    // Trained from scratch: the dashboard says how much of that number is the seed's doing, for a seed ensemble of
    // three models (the default), and which model the run ended on.
    assert.match(
      await view.locator('#seed-note').innerText(),
      /depends on its seed; this run averaged 3 seeds' models.* varied by [\d.]+–[\d.]+ points/,
    );
    assert.match(facts, /seed ensemble: model 3 of 3/);
    await done('dashboard-finished');
    await page
      .locator('iframe.webview.ready')
      .first()
      .screenshot({ path: path.join(WALKTHROUGH_SHOTS, 'dashboard.png') });

    await view.locator('#classify').click();
    await page
      .locator('.notifications-toasts .notification-toast', { hasText: 'classifying with' })
      .waitFor({ timeout: UI_TIMEOUT });
    await page.keyboard.press('F1');
    await quickInput.locator('.quick-input-box input').fill('>Notifications: Clear All Notifications');
    await page.keyboard.press('Enter');

    // An obvious spam sentence in a text file, selected, classified.
    fs.writeFileSync(path.join(ws, 'mail.txt'), `${SPAM}\n`);
    await page.keyboard.press('Control+P');
    await quickInput.locator('.quick-input-box input').fill('mail.txt');
    await quickInput
      .locator('.quick-input-list .monaco-list-row', { hasText: 'mail.txt' })
      .first()
      .waitFor({ timeout: UI_TIMEOUT });
    await page.keyboard.press('Enter');
    await page.locator('.tab.active', { hasText: 'mail.txt' }).waitFor({ timeout: UI_TIMEOUT });
    await page.locator('.monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+A');
    const classifyRows = await openPaletteAt(page, '>BERT: Classify Selection', 'BERT: Classify Selection', UI_TIMEOUT);
    await classifyRows.filter({ hasText: 'BERT: Classify Selection' }).first().click();
    const toast = page
      .locator('.notifications-toasts .notification-toast', { hasText: /BERT .*: (spam|ham) \(/ })
      .first();
    await toast.waitFor({ timeout: UI_TIMEOUT });
    await page.waitForTimeout(600);
    assert.match(await toast.innerText(), /: spam \(/, 'the obvious spam sentence is classified as spam');
    await done('classify-selection');
    await toast.screenshot({ path: path.join(WALKTHROUGH_SHOTS, 'classify.png') });

    // The hover, once switched on.
    fs.mkdirSync(path.join(ws, '.vscode'), { recursive: true });
    fs.writeFileSync(
      path.join(ws, '.vscode', 'settings.json'),
      JSON.stringify({ 'bert.hover.enabled': true, 'bert.hover.timeBudgetMs': 5000 }),
    );
    await page.keyboard.press('Escape');
    const word = page.locator('.view-lines .view-line span span', { hasText: 'prize' }).first();
    const box = await word.boundingBox();
    assert.ok(box);
    const hover = page.locator('.monaco-hover', { hasText: '█' }).first();
    // The settings file is new: hover again until the workbench has read it and the provider is registered.
    for (let attempt = 0; attempt < 10 && !(await hover.isVisible()); attempt++) {
      await page.mouse.move(5, 5);
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 4 });
      await hover.waitFor({ state: 'visible', timeout: 3000 }).catch(() => undefined);
    }
    await hover.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    assert.match(await hover.innerText(), /^spam \d+\.\d%/, 'the hover says spam');
    await done('hover');

    // The journey did every step of the walkthrough: each is marked done.
    await page.keyboard.press('Escape');
    assert.equal(await openWalkthrough(page), 5, 'every walkthrough step done');
    await done('walkthrough-done');
    console.log(
      `newcomer journey: ${timings.map(([n, s]) => `${n} ${s.toFixed(1)} s`).join(' · ')}; validation accuracy ${accuracy}`,
    );
  } catch (e) {
    await page.screenshot({ path: path.join(OUT, 'newcomer-failure.png') }).catch(() => undefined);
    throw e;
  }
});
