/**
 * BERT: Push Model to Hugging Face Hub in the real workbench (VS Code 1.100 in code-server, Chromium), against a
 * loopback Hub (test/helpers/hub-push-server.ts; HF_ENDPOINT and HF_TOKEN in the extension host's environment): pick
 * the workspace's run, name the repository, choose Public; the Hub receives one commit with the model and its card,
 * and the notification names the repository with an "Open on Hugging Face" button. Screenshots:
 * test-output/e2e/push-repo.png (the repository box), push-dark.png (the README's docs/images/push.png) and
 * push-light.png. Then the card that was pushed, the run's best/README.md, in VS Code's Markdown preview:
 * model-card.png (the README's docs/images/model-card.png).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { launchChromium, openPaletteAt, waitForBertContributions, type Browser } from './harness/browser';
import { REPO_ROOT, TEST_OUTPUT, startCodeServer, type CodeServer, devWorkbenchUrl } from './harness/codeServer';
import { runTrainingSession } from '../../src/core/finetune/session';
import { startHubPushServer, type HubPushServer } from '../helpers/hub-push-server';
import { TINY_RUN_SETTINGS } from '../helpers/tiny-run';
import { writeSentimentCsv } from '../unit/runner/fixtures';
import { tempFolder } from '../helpers/temp';

const OUT = path.join(TEST_OUTPUT, 'e2e');
const UI_TIMEOUT = 60_000;
const TOKEN = 'hf_PushE2e0123456789abcdefghijkl';

let server: CodeServer | undefined;
let browser: Browser | undefined;
let hub: HubPushServer | undefined;
const temps: string[] = [];

after(async () => {
  await browser?.close();
  await server?.stop();
  await hub?.close();
  for (const d of temps) fs.rmSync(d, { recursive: true, force: true });
});

test('Push Model to Hugging Face Hub: a run to a new repository of a loopback Hub, through the palette', async () => {
  fs.mkdirSync(OUT, { recursive: true });
  if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'extension.js'))) {
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build.mjs')], { cwd: REPO_ROOT, stdio: 'ignore' });
  }
  const ws = tempFolder('bertft-e2e-push-');
  temps.push(ws);
  const run = path.join(ws, '.bert', 'runs', 'reviews-tiny');
  await runTrainingSession(
    { ...TINY_RUN_SETTINGS, data: writeSentimentCsv(fs.mkdtempSync(path.join(ws, 'data-')), 96), out: run },
    { emit: () => {}, shouldStop: () => false },
  );
  hub = await startHubPushServer({ accounts: { [TOKEN]: { name: 'alice', role: 'write' } } });
  server = await startCodeServer({
    logFile: path.join(OUT, 'push-code-server.log'),
    env: { HF_ENDPOINT: hub.url, HF_TOKEN: TOKEN, HF_TOKEN_PATH: path.join(ws, 'no-token-file') },
  });
  browser = await launchChromium();
  const { page } = browser;
  await page.setViewportSize({ width: 1200, height: 600 });
  await page.goto(devWorkbenchUrl(server, ws));
  await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: UI_TIMEOUT });
  await waitForBertContributions(page, UI_TIMEOUT);
  // The Runs view, so the picture shows where the model comes from.
  await page.locator('.activitybar .action-item a[aria-label^="BERT Fine-tune"]').click();
  await page.locator('.pane .monaco-list-row', { hasText: 'reviews-tiny' }).first().waitFor({ timeout: UI_TIMEOUT });

  const quickInput = page.locator('.quick-input-widget');
  const box = quickInput.locator('.quick-input-box input');
  const row = (text: string | RegExp) => quickInput.locator('.quick-input-list .monaco-list-row', { hasText: text });
  const setTheme = async (name: string, themeClass: string): Promise<void> => {
    const themes = await openPaletteAt(page, '>Preferences: Color Theme', 'Preferences: Color Theme', UI_TIMEOUT);
    await themes.filter({ hasText: 'Preferences: Color Theme' }).first().click();
    await box.fill(name);
    await row(name).first().waitFor({ timeout: UI_TIMEOUT });
    await page.keyboard.press('Enter');
    await page.waitForFunction(
      `document.querySelector('.monaco-workbench')?.classList.contains(${JSON.stringify(themeClass)})`,
      undefined,
      { timeout: UI_TIMEOUT },
    );
  };
  await setTheme('Dark Modern', 'vs-dark');
  const title = 'BERT: Push Model to Hugging Face Hub';
  const rows = await openPaletteAt(page, `>${title}`, title, UI_TIMEOUT);
  await rows.filter({ hasText: title }).first().click();
  // The model: the workspace's run.
  await row('reviews-tiny').first().waitFor({ timeout: UI_TIMEOUT });
  await row('reviews-tiny').first().click();
  // The repository: the box suggests the run's name; a bad id is refused as it is typed.
  await quickInput
    .locator('.quick-input-title', { hasText: 'Hugging Face repository' })
    .waitFor({ timeout: UI_TIMEOUT });
  assert.equal(await box.inputValue(), 'reviews-tiny');
  await box.fill('alice/bad name');
  await quickInput.locator('.quick-input-message', { hasText: /\S/ }).first().waitFor({ timeout: UI_TIMEOUT });
  await box.fill('alice/reviews-tiny');
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(OUT, 'push-repo.png') });
  await page.keyboard.press('Enter');
  // Visibility of the new repository.
  await row('Public').first().waitFor({ timeout: UI_TIMEOUT });
  await row('Public').first().click();

  const done = page
    .locator('.notifications-toasts .notification-toast', { hasText: /BERT: pushed .* to alice\/reviews-tiny/ })
    .first();
  await done.waitFor({ timeout: UI_TIMEOUT });
  // The picture first (also the README's): an information toast hides after a while.
  await page.mouse.move(700, 200);
  await page.screenshot({ path: path.join(OUT, 'push-dark.png') });
  const text = await done.innerText();
  assert.match(text, /\(\d+ files, new repository\)/, text);
  assert.match(text, /Open on Hugging Face/, text);
  // What the Hub received: one commit with the model, its tokenizer and its card.
  const repo = hub.repos.get('alice/reviews-tiny');
  assert.ok(repo, 'the repository was created');
  assert.equal(repo.private, false);
  assert.equal(repo.commits.length, 1);
  const files = [...repo.commits[0].files.keys()];
  for (const f of ['README.md', 'config.json', 'model.safetensors', 'model.onnx']) assert.ok(files.includes(f), f);
  const local = fs.readFileSync(path.join(run, 'best', 'model.safetensors'));
  assert.ok(repo.commits[0].files.get('model.safetensors')?.equals(local), 'the weights arrived unchanged');

  await setTheme('Light Modern', 'vs');
  await page.mouse.move(700, 300);
  await page.screenshot({ path: path.join(OUT, 'push-light.png') });

  // The model card as it reads: best/README.md opened by its path (Quick Open), then Markdown: Open Preview.
  const card = path.join(run, 'best', 'README.md');
  await openPaletteAt(page, card, 'README.md', UI_TIMEOUT);
  await page.keyboard.press('Enter');
  await page.locator('.tab.active', { hasText: 'README.md' }).waitFor({ timeout: UI_TIMEOUT });
  const preview = 'Markdown: Open Preview';
  const previewRows = await openPaletteAt(page, `>${preview}`, preview, UI_TIMEOUT);
  await previewRows.filter({ hasText: preview, hasNotText: 'Side' }).first().click();
  const view = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
  await view.locator('h1', { hasText: 'reviews-tiny' }).waitFor({ timeout: UI_TIMEOUT });
  const shown = await view.locator('body').innerText();
  // The front matter is data for the Hub, not shown; the body's sections and the checkpoint's scores are.
  assert.doesNotMatch(shown, /library_name/, shown);
  for (const heading of ['Labels', 'Training', 'Evaluation', 'How to use']) {
    assert.ok(await view.locator('h2', { hasText: heading }).count(), `${heading} in:\n${shown}`);
  }
  for (const label of ['neg', 'pos']) assert.match(shown, new RegExp(`\\b${label}\\b`), shown);
  const evaluation = JSON.parse(fs.readFileSync(path.join(run, 'best', 'eval.json'), 'utf8')) as { accuracy?: number };
  assert.equal(typeof evaluation.accuracy, 'number', 'eval.json has the accuracy');
  assert.match(shown, new RegExp(`[Aa]ccuracy[^\\n]*${(evaluation.accuracy ?? NaN).toFixed(4)}`), shown);
  // How to use it three ways: transformers (Python), transformers.js and bertft predict, each as code.
  const code = (await view.locator('pre code').allInnerTexts()).join('\n');
  assert.match(code, /from transformers import pipeline/, code);
  assert.match(code, /@huggingface\/transformers/, code);
  assert.match(code, /bertft predict/, code);
  // The push's toast would cover the card; a taller window shows its labels and settings.
  const clear = 'Notifications: Clear All Notifications';
  await openPaletteAt(page, `>${clear}`, clear, UI_TIMEOUT);
  await page.keyboard.press('Enter');
  await page
    .locator('.notifications-toasts .notification-toast')
    .first()
    .waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
  await page.setViewportSize({ width: 1200, height: 760 });
  await page.mouse.move(1150, 700);
  await page.waitForTimeout(500);
  await page.screenshot({ path: path.join(OUT, 'model-card.png') });
});
