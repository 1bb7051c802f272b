/**
 * The classification hover in the real workbench (VS Code 1.100 in code-server, Chromium), with this repository as
 * the development extension: a tiny model trained here is the active model, the hover is switched on in the
 * workspace settings, and hovering over a sentence of a .txt file shows the label, the bars, the model and the
 * dashboard link. Screenshot: test-output/e2e/hover.png.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { launchChromium, type Browser } from './harness/browser';
import { REPO_ROOT, TEST_OUTPUT, startCodeServer, type CodeServer, devWorkbenchUrl } from './harness/codeServer';
import { runTrainingSession } from '../../src/core/finetune/session';
import { writeSentimentCsv } from '../unit/runner/fixtures';
import { TINY_RUN_SETTINGS } from '../helpers/tiny-run';
import { tempFolder } from '../helpers/temp';

const OUT = path.join(TEST_OUTPUT, 'e2e');
const UI_TIMEOUT = 60_000;

let server: CodeServer | undefined;
let browser: Browser | undefined;
const temps: string[] = [];

after(async () => {
  await browser?.close();
  await server?.stop();
  for (const d of temps) fs.rmSync(d, { recursive: true, force: true });
});

test('hover over a sentence shows label, probability bars, model name and dashboard link', async () => {
  fs.mkdirSync(OUT, { recursive: true });
  if (
    !fs.existsSync(path.join(REPO_ROOT, 'dist', 'inferenceWorker.js')) ||
    !fs.existsSync(path.join(REPO_ROOT, 'dist', 'extension.js'))
  ) {
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build.mjs')], { cwd: REPO_ROOT, stdio: 'ignore' });
  }
  const ws = tempFolder('bertft-e2e-hover-');
  temps.push(ws);
  const data = writeSentimentCsv(fs.mkdtempSync(path.join(ws, 'data-')), 96);
  await runTrainingSession(
    {
      data,
      out: path.join(ws, '.bert', 'runs', 'hover-run'),
      ...TINY_RUN_SETTINGS,
    },
    { emit: () => {}, shouldStop: () => false },
  );
  fs.mkdirSync(path.join(ws, '.vscode'));
  // A generous budget: the first hover also loads the model into the worker.
  fs.writeFileSync(
    path.join(ws, '.vscode', 'settings.json'),
    JSON.stringify({
      'bert.activeModel': '.bert/runs/hover-run',
      'bert.hover.enabled': true,
      'bert.hover.timeBudgetMs': 5000,
    }),
  );
  fs.writeFileSync(
    path.join(ws, 'notes.txt'),
    'The ending was wonderful and superb, truly lovely.\n\nThe acting was awful and boring.\n',
  );

  server = await startCodeServer({ logFile: path.join(OUT, 'hover-code-server.log') });
  browser = await launchChromium();
  const { page } = browser;
  await page.goto(devWorkbenchUrl(server, ws));
  await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: UI_TIMEOUT });
  await page.locator('.statusbar-item', { hasText: /BERT/ }).first().waitFor({ timeout: UI_TIMEOUT });

  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  await page.keyboard.type('notes.txt');
  await page
    .locator('.quick-input-list .monaco-list-row', { hasText: 'notes.txt' })
    .first()
    .waitFor({ timeout: UI_TIMEOUT });
  await page.keyboard.press('Enter');

  const hover = page.locator('.monaco-hover', { hasText: '█' });
  const hoverWord = async (word: string): Promise<string> => {
    const span = page.locator('.view-lines .view-line span span', { hasText: word }).first();
    await span.waitFor({ timeout: UI_TIMEOUT });
    const box = await span.boundingBox();
    assert.ok(box, `"${word}" is not rendered`);
    const x = box.x + box.width / 2;
    // Move away and back: the workbench shows a hover after the mouse rests on a word.
    await page.mouse.move(5, 5);
    await page.mouse.move(x, box.y + box.height / 2, { steps: 4 });
    await hover.first().waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    return hover.first().innerText();
  };

  const first = await hoverWord('ending');
  assert.match(first, /pos\s+\d+\.\d%/);
  assert.match(first, /hover-run/);
  assert.match(first, /Dashboard/);
  await page.screenshot({ path: path.join(OUT, 'hover.png') });
});
