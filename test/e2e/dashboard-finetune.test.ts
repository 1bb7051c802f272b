/**
 * "BERT: Fine-tune BERT" end to end, as a user does it in VS Code 1.100 (code-server) through Chromium: the guided
 * quick picks (dataset, detected columns, model, preset, device, the estimate and Start training), the trainer child process starting, and the
 * dashboard following the run to its end (the first run asks for CUDA, absent here, and is told it trains on the CPU and
 * why). Screenshots: test-output/e2e/dashboard-finetune.png, dashboard-finetune-device-fallback.png.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import type { Page } from 'playwright-core';
import { launchChromium, reloadWindow, waitForBertContributions, type Browser } from './harness/browser';
import { REPO_ROOT, TEST_OUTPUT, startCodeServer, type CodeServer, devWorkbenchUrl } from './harness/codeServer';
import { workbenchActions, writeReviewsCsv } from './harness/workbench';
import { tempFolder } from '../helpers/temp';

const OUT = path.join(TEST_OUTPUT, 'e2e');
const UI_TIMEOUT = 60_000;
const { pick, runCommand } = workbenchActions(UI_TIMEOUT);
/** The trainer itself may take a while on 2 shared cores. */
const TRAIN_TIMEOUT = 240_000;

let server: CodeServer | undefined;
let browser: Browser | undefined;
let workspace = '';
const temps: string[] = [];

after(async () => {
  await browser?.close();
  await server?.stop();
  for (const d of temps) fs.rmSync(d, { recursive: true, force: true });
});

/** The settings step's Advanced…: each `label` (Epochs, Learning rate, …) set to its value, then Continue. */
async function advanced(page: Page, values: Record<string, string>): Promise<void> {
  await pick(page, /settings/, 'Advanced', 'Advanced');
  for (const [label, value] of Object.entries(values)) {
    await pick(page, /advanced settings/, label, new RegExp(`^${label}: `));
    await page.locator('.quick-input-widget .quick-input-title', { hasText: label.toLowerCase() }).waitFor({
      timeout: UI_TIMEOUT,
    });
    await page.locator('.quick-input-widget .quick-input-box input').fill(value);
    await page.keyboard.press('Enter');
    // Back in the list, the setting shows its new value, marked as changed.
    await page
      .locator('.quick-input-list .monaco-list-row', { hasText: `${label}: ${value}` })
      .first()
      .waitFor({ timeout: UI_TIMEOUT });
  }
  await pick(page, /advanced settings/, 'Continue', 'Continue with these settings');
}

/**
 * The flow with reviews.csv, the small random model and `device` (CPU unless given); `cancelEstimate` presses Cancel on
 * the estimate.
 */
async function startFineTune(
  page: Page,
  preset: () => Promise<void>,
  cancelEstimate = false,
  device: 'CPU' | 'CUDA' = 'CPU',
): Promise<void> {
  await runCommand(page, 'BERT: Fine-tune BERT');
  await pick(page, /dataset/, 'reviews.csv', 'reviews.csv');
  await pick(page, /columns/, '', /Text: "text", label: "label"/);
  await pick(page, /model/, 'Small random model', 'Small random model');
  await preset();
  await pick(page, /device/, device, device);
  // The run's estimate (a few warm-up steps in a trainer child), then Start training.
  if (cancelEstimate) {
    const progress = page.locator('.notifications-toasts .notification-toast', {
      hasText: /estimating the run's time and memory/,
    });
    await progress.locator('.monaco-button', { hasText: 'Cancel' }).click({ timeout: UI_TIMEOUT });
    await page
      .locator('.quick-input-widget .quick-input-title', { hasText: /start training/ })
      .waitFor({ timeout: UI_TIMEOUT });
    const prompt = await page.locator('.quick-input-widget .quick-input-box input').getAttribute('placeholder');
    assert.equal(prompt, 'Estimate skipped. Enter starts training.');
  }
  await pick(page, /start training/, '', 'Start training');
}

test('Fine-tune BERT: guided flow → trainer child → live dashboard until the run ends', async () => {
  fs.mkdirSync(OUT, { recursive: true });
  if (
    !fs.existsSync(path.join(REPO_ROOT, 'dist', 'trainer.js')) ||
    !fs.existsSync(path.join(REPO_ROOT, 'dist', 'webview.js'))
  ) {
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build.mjs')], { cwd: REPO_ROOT, stdio: 'ignore' });
  }
  const ws = tempFolder('bertft-e2e-finetune-');
  workspace = ws;
  temps.push(ws);
  writeReviewsCsv(path.join(ws, 'reviews.csv'));
  server = await startCodeServer({ logFile: path.join(OUT, 'finetune-code-server.log') });
  browser = await launchChromium();
  const { page } = browser;
  try {
    await page.goto(devWorkbenchUrl(server, ws));
    await waitForBertContributions(page, UI_TIMEOUT);

    // CUDA, which onnxruntime-node's CUDA provider (never installed by npm ci) cannot give here: the run falls back to
    // the CPU, and the user is told why rather than only the output channel.
    await startFineTune(page, async () => pick(page, /settings/, 'Fast', 'Fast'), false, 'CUDA');
    const fallback = page.locator('.notifications-toasts .notification-toast', {
      hasText: /BERT: \d{8}-\d{6}-reviews trains on cpu: not using cuda: \S+ is missing: fetch the CUDA provider/,
    });
    await fallback.waitFor({ timeout: TRAIN_TIMEOUT });
    await page.screenshot({ path: path.join(OUT, 'dashboard-finetune-device-fallback.png') });
    // The same warning in the dark theme (set in the workspace settings; the palette would take the focus).
    const settings = path.join(ws, '.vscode', 'settings.json');
    fs.mkdirSync(path.dirname(settings), { recursive: true });
    fs.writeFileSync(settings, JSON.stringify({ 'workbench.colorTheme': 'Default Dark Modern' }));
    await page.locator('.monaco-workbench.vs-dark').waitFor({ timeout: UI_TIMEOUT });
    await page.waitForTimeout(500);
    await page.screenshot({ path: path.join(OUT, 'dashboard-finetune-device-fallback-dark.png') });
    fs.writeFileSync(settings, '{}');
    await page.locator('.monaco-workbench.vs').waitFor({ timeout: UI_TIMEOUT });

    // The dashboard opens on the new run and follows it to its end.
    await page.locator('.tab', { hasText: /BERT: \d{8}-\d{6}-reviews/ }).waitFor({ timeout: UI_TIMEOUT });
    const view = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
    await view.locator('#config td', { hasText: 'random:tiny' }).first().waitFor({ timeout: UI_TIMEOUT });
    await view.locator('#phase', { hasText: /^(finished|failed)$/ }).waitFor({ timeout: TRAIN_TIMEOUT });
    await page.waitForTimeout(500);
    await page.screenshot({ path: path.join(OUT, 'dashboard-finetune.png') });
    const problem = await view.locator('#problem').innerText();
    assert.equal(problem, '', `the run failed: ${problem}`);
    assert.equal(await view.locator('#phase').innerText(), 'finished');

    const runs = fs.readdirSync(path.join(ws, '.bert', 'runs'));
    assert.equal(runs.length, 1, 'one run folder under the default bert.runsDirectory');
    const runDir = path.join(ws, '.bert', 'runs', runs[0]);
    assert.match(fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8'), /"event":"done"/);
    await page.locator('.statusbar-item', { hasText: /BERT: acc \d\.\d\d/ }).waitFor({ timeout: UI_TIMEOUT });
    assert.ok((await view.locator('#evals tbody tr').count()) >= 1, 'the eval table has rows');
    assert.ok((await view.locator('#confusion button.cell').count()) >= 4, 'a confusion matrix of at least 2×2');

    // The buttons: the model folder shows in the Explorer; Classify with this model makes it the active model.
    await view.locator('#open-model').click();
    await page
      .locator('.explorer-folders-view .monaco-list-row', { hasText: /^best$/ })
      .waitFor({ timeout: UI_TIMEOUT });
    await view.locator('#classify').click();
    await page
      .locator('.notifications-toasts .notification-toast', { hasText: 'classifying with' })
      .waitFor({ timeout: UI_TIMEOUT });
  } catch (e) {
    await page.screenshot({ path: path.join(OUT, 'dashboard-finetune-failure.png') }).catch(() => undefined);
    throw e;
  }
});

test('Stop, then Resume: the run stops at a checkpoint and continues to the end (its estimate cancelled)', async () => {
  assert.ok(server && browser, 'the first test started the workbench');
  const { page } = browser;
  try {
    // Advanced settings: enough epochs that there is time to press Stop. Cancelling the estimate still lets it start.
    // From scratch the run is a seed ensemble: three models of 7 epochs × 8 steps, 168 steps in all.
    await startFineTune(page, () => advanced(page, { Epochs: '7', 'Learning rate': '5e-5' }), true);
    const runs = () => fs.readdirSync(path.join(workspace, '.bert', 'runs')).sort();
    const view = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
    await view.locator('#phase', { hasText: 'training' }).waitFor({ timeout: TRAIN_TIMEOUT });
    await view.locator('#facts', { hasText: /step ([5-9]|\d\d+) \/ 168/ }).waitFor({ timeout: TRAIN_TIMEOUT });
    await view.locator('#stop').click();
    await view.locator('#phase', { hasText: 'stopped' }).waitFor({ timeout: TRAIN_TIMEOUT });
    await page.locator('.statusbar-item', { hasText: /BERT: stopped/ }).waitFor({ timeout: UI_TIMEOUT });
    const runDir = path.join(workspace, '.bert', 'runs', runs().at(-1)!);
    const stoppedAt = JSON.parse(
      fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').at(-1)!,
    ) as { event: string; stopped: boolean; final_step: number };
    assert.deepEqual([stoppedAt.event, stoppedAt.stopped], ['done', true]);
    assert.ok(stoppedAt.final_step < 168);

    await view.locator('#resume').click();
    await view.locator('#phase', { hasText: 'training' }).waitFor({ timeout: UI_TIMEOUT });
    await view.locator('#phase', { hasText: 'finished' }).waitFor({ timeout: TRAIN_TIMEOUT });
    await view.locator('#config td', { hasText: 'resumed from step' }).waitFor({ timeout: UI_TIMEOUT });
    const events = fs
      .readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; final_step?: number });
    assert.equal(events.filter((e) => e.event === 'started').length, 2, 'started, then started again on resume');
    assert.equal(events.at(-1)?.event, 'done');
    assert.equal(events.at(-1)?.final_step, 168);
    await page.screenshot({ path: path.join(OUT, 'dashboard-resumed.png') });
  } catch (e) {
    await page.screenshot({ path: path.join(OUT, 'dashboard-resume-failure.png') }).catch(() => undefined);
    throw e;
  }
});

test('a dataset the trainer would refuse stops the flow with its problems, and opens the first one at its line', async () => {
  assert.ok(server && browser, 'the first test started the workbench');
  const { page } = browser;
  const bad = path.join(workspace, 'broken.csv');
  fs.writeFileSync(
    bad,
    'text,label\n"a fine film",positive\n"a dull film",\n"a warm film",positive\n"a flat film",negative\n',
  );
  try {
    await runCommand(page, 'BERT: Fine-tune BERT');
    await pick(page, /dataset/, 'broken.csv', 'broken.csv');
    await pick(page, /columns/, '', /Text: "text", label: "label"/);
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: UI_TIMEOUT });
    const text = await dialog.innerText();
    assert.match(text, /broken\.csv cannot be trained on yet/);
    assert.match(text, /broken\.csv:3/);
    await page.screenshot({ path: path.join(OUT, 'finetune-check-problems.png') });
    await dialog.locator('.monaco-button', { hasText: 'Open First Problem' }).click();
    await page.locator('.tab', { hasText: 'broken.csv' }).waitFor({ timeout: UI_TIMEOUT });
    await page.locator('.statusbar-item', { hasText: /Ln 3, Col 1/ }).waitFor({ timeout: UI_TIMEOUT });
    assert.equal(fs.readdirSync(path.join(workspace, '.bert', 'runs')).length, 2, 'no run was started');
  } catch (e) {
    await page.screenshot({ path: path.join(OUT, 'finetune-check-failure.png') }).catch(() => undefined);
    throw e;
  }
});

test('a window reload mid-run: the trainer keeps training, the status bar and dashboard reattach; Stop still works', async () => {
  assert.ok(server && browser, 'the first test started the workbench');
  const { page } = browser;
  const runsRoot = path.join(workspace, '.bert', 'runs');
  const before = new Set(fs.readdirSync(runsRoot));
  try {
    await startFineTune(page, () => advanced(page, { Epochs: '40', 'Learning rate': '5e-5' }));
    const view = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
    // Three models of 40 epochs × 8 steps (a seed ensemble, the from-scratch default).
    await view.locator('#facts', { hasText: /step ([5-9]|\d\d+) \/ 960/ }).waitFor({ timeout: TRAIN_TIMEOUT });
    const runName = fs.readdirSync(runsRoot).find((d) => !before.has(d));
    assert.ok(runName, 'a new run folder');
    const metricsFile = path.join(runsRoot, runName, 'metrics.jsonl');
    const readEvents = () =>
      fs
        .readFileSync(metricsFile, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { event: string; pid?: number; step?: number; stopped?: boolean });
    const pid = readEvents().find((e) => e.event === 'started')?.pid;
    assert.ok(pid, 'the started event names the trainer pid');
    const lastStep = () =>
      Math.max(
        0,
        ...readEvents()
          .filter((e) => e.event === 'step')
          .map((e) => e.step ?? 0),
      );

    await reloadWindow(page, UI_TIMEOUT);
    const stepAtReload = lastStep();

    // The same trainer process goes on stepping after the extension host that started it is gone.
    await page.locator('.statusbar-item', { hasText: /BERT: \d+%/ }).waitFor({ timeout: UI_TIMEOUT });
    const until = Date.now() + TRAIN_TIMEOUT;
    while (lastStep() <= stepAtReload + 3 && Date.now() < until) await page.waitForTimeout(500);
    assert.ok(
      lastStep() > stepAtReload + 3,
      `training went on after the reload (step ${stepAtReload} → ${lastStep()})`,
    );
    process.kill(pid, 0); // throws if the trainer died
    const started = readEvents().filter((e) => e.event === 'started');
    assert.equal(started.length, 1, 'not restarted: the original trainer kept going');
    await page
      .locator('.tab', { hasText: `BERT: ${runName}` })
      .first()
      .click();
    await view.locator('#phase', { hasText: 'training' }).waitFor({ timeout: UI_TIMEOUT });
    await page.screenshot({ path: path.join(OUT, 'dashboard-after-reload.png') });

    // Stop from the new window reaches the trainer by pid: checkpoint, done stopped:true.
    await view.locator('#stop').click();
    await view.locator('#phase', { hasText: 'stopped' }).waitFor({ timeout: TRAIN_TIMEOUT });
    const done = readEvents().at(-1);
    assert.deepEqual([done?.event, done?.stopped], ['done', true]);
  } catch (e) {
    await page.screenshot({ path: path.join(OUT, 'dashboard-reload-failure.png') }).catch(() => undefined);
    throw e;
  }
});
