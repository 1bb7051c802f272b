/**
 * The Likely Mislabeled view in the real workbench (VS Code 1.100 in code-server, Chromium): with a review dataset
 * open whose every 10th label is flipped, BERT: Find Likely Mislabeled Rows trains its fold models in a trainer child,
 * then the view lists the suspects (given → suggested label, confidence, file:line, the text), and clicking one puts
 * the cursor on its row. Screenshots: test-output/e2e/suspects-{dark,light,high-contrast}.png and suspects-readme.png
 * (the README's docs/images/suspects.png).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { launchChromium, openPaletteAt, waitForBertContributions, type Browser } from './harness/browser';
import { REPO_ROOT, TEST_OUTPUT, startCodeServer, type CodeServer, devWorkbenchUrl } from './harness/codeServer';
import { readDataset } from '../../src/core/data/read';
import { writeSentimentCsv } from '../unit/runner/fixtures';
import { tempFolder } from '../helpers/temp';

const OUT = path.join(TEST_OUTPUT, 'e2e');
const UI_TIMEOUT = 60_000;
/** Five folds of training in a trainer child on a shared 2-core machine. */
const FINDER_TIMEOUT = 540_000;

let server: CodeServer | undefined;
let browser: Browser | undefined;
const temps: string[] = [];

after(async () => {
  await browser?.close();
  await server?.stop();
  for (const d of temps) fs.rmSync(d, { recursive: true, force: true });
});

test('Find Likely Mislabeled Rows lists the suspects in the Likely Mislabeled view; a click opens the row', async () => {
  fs.mkdirSync(OUT, { recursive: true });
  if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'extension.js'))) {
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build.mjs')], { cwd: REPO_ROOT, stdio: 'ignore' });
  }
  const ws = tempFolder('bertft-e2e-suspects-');
  temps.push(ws);
  const source = tempFolder('bertft-e2e-suspects-source-');
  temps.push(source);
  const { examples } = await readDataset(writeSentimentCsv(source, 400));
  const flipped = new Set<number>();
  const lines = examples.map((e, i) => {
    const flip = i % 10 === 5;
    if (flip) flipped.add(i + 1);
    const label = flip ? (e.label === 'pos' ? 'neg' : 'pos') : e.label;
    return JSON.stringify({ text: e.text, label });
  });
  fs.writeFileSync(path.join(ws, 'reviews.jsonl'), lines.join('\n') + '\n');

  server = await startCodeServer({ logFile: path.join(OUT, 'suspects-code-server.log') });
  browser = await launchChromium();
  const { page } = browser;
  await page.setViewportSize({ width: 1400, height: 760 });
  await page.goto(devWorkbenchUrl(server, ws));
  await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: UI_TIMEOUT });
  await waitForBertContributions(page, UI_TIMEOUT);

  const quickInput = page.locator('.quick-input-widget');
  await page.keyboard.press('Control+P');
  await quickInput.locator('.quick-input-box input').fill('reviews.jsonl');
  await quickInput
    .locator('.quick-input-list .monaco-list-row', { hasText: 'reviews.jsonl' })
    .first()
    .waitFor({ timeout: UI_TIMEOUT });
  await page.keyboard.press('Enter');
  await page.locator('.tab.active', { hasText: 'reviews.jsonl' }).waitFor({ timeout: UI_TIMEOUT });

  // The open dataset is the one the command takes.
  const title = 'BERT: Find Likely Mislabeled Rows';
  const rows = await openPaletteAt(page, `>${title}`, title, UI_TIMEOUT);
  await rows.filter({ hasText: title }).first().click();
  // Its progress notification, with the fold being trained.
  const progress = page.locator('.notifications-toasts .notification-toast', {
    hasText: /finding likely mislabeled rows in reviews\.jsonl/,
  });
  await progress
    .first()
    .waitFor({ timeout: UI_TIMEOUT })
    .catch(async (e: unknown) => {
      await page.screenshot({ path: path.join(OUT, 'suspects-failure.png') });
      throw e;
    });

  const view = page.locator('.pane', { has: page.locator('.pane-header', { hasText: /Likely Mislabeled/i }) });
  const items = view.locator('.monaco-list-row');
  // The finder's rows, or its error: either ends the wait (a screenshot shows which).
  const failed = page.locator('.notifications-toasts .notification-toast', {
    hasText: /failed|error|cannot|No likely mislabeled/i,
  });
  await Promise.race([
    items.first().waitFor({ timeout: FINDER_TIMEOUT }),
    failed.first().waitFor({ timeout: FINDER_TIMEOUT }),
  ]).catch(() => undefined);
  if (!(await items.first().isVisible())) {
    await page.screenshot({ path: path.join(OUT, 'suspects-failure.png') });
    assert.fail(`no Likely Mislabeled rows; notifications: ${(await failed.allInnerTexts()).join(' | ')}`);
  }
  const texts = await items.allInnerTexts();
  console.log(`the view lists:\n${texts.join('\n')}`);
  const parsed = texts.map((t) => {
    const m = /^(pos|neg) → (pos|neg)\s*(\d+)% · reviews\.jsonl:(\d+) · the \w+ was/.exec(t.replace(/\n/g, ' '));
    assert.ok(m, `a row of the view: ${t}`);
    assert.notEqual(m[1], m[2], t);
    assert.ok(Number(m[3]) > 50, `the suggested label is the models' choice: ${t}`);
    return { line: Number(m[4]) };
  });
  // Most of what it lists was flipped (the tiny fold models learn these words quickly).
  const hits = parsed.filter((r) => flipped.has(r.line)).length;
  assert.ok(hits >= Math.ceil(parsed.length / 2), `${hits} of ${parsed.length} listed rows were flipped`);
  // The view's message names the file and counts.
  await view.locator('.message', { hasText: /likely mislabeled rows of 400 in reviews\.jsonl/ }).waitFor();

  // A click opens the row: the cursor is on its line. The command focuses the view once the rows are listed, so the
  // click waits for its progress to end; a click that still lands while the view is being revealed is tried again.
  await progress.first().waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
  const second = parsed[Math.min(1, parsed.length - 1)];
  const cursorOnRow = page.locator('.statusbar-item', { hasText: new RegExp(`Ln ${second.line}, Col 1\\b`) });
  for (let attempt = 1; ; attempt++) {
    await items.nth(Math.min(1, parsed.length - 1)).click();
    const opened = await cursorOnRow
      .waitFor({ timeout: UI_TIMEOUT / 3 })
      .then(() => true)
      .catch(() => false);
    if (opened) break;
    if (attempt === 3) {
      await page.screenshot({ path: path.join(OUT, 'suspects-failure.png') });
      const status = await page.locator('.statusbar-item').allInnerTexts();
      assert.fail(
        `a click on line ${second.line}'s row did not put the cursor there; status bar: ${status.join(' | ')}`,
      );
    }
  }

  const setTheme = async (name: string, themeClass: string): Promise<void> => {
    const themes = await openPaletteAt(page, '>Preferences: Color Theme', 'Preferences: Color Theme', UI_TIMEOUT);
    await themes.filter({ hasText: 'Preferences: Color Theme' }).first().click();
    await quickInput.locator('.quick-input-box input').fill(name);
    await quickInput
      .locator('.quick-input-list .monaco-list-row', { hasText: name })
      .first()
      .waitFor({ timeout: UI_TIMEOUT });
    await page.keyboard.press('Enter');
    await page.waitForFunction(
      `document.querySelector('.monaco-workbench')?.classList.contains(${JSON.stringify(themeClass)})`,
      undefined,
      { timeout: UI_TIMEOUT },
    );
  };
  // Close notifications so the view and the row show whole.
  await openPaletteAt(page, '>Notifications: Clear All Notifications', 'Clear All Notifications', UI_TIMEOUT);
  await page.keyboard.press('Enter');
  const shoot = async (file: string): Promise<void> => {
    // Away from anything with a hover (the title bar has one).
    await page.mouse.move(24, 560);
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(OUT, file) });
  };
  // Room for the view: the Runs view collapsed, the side bar widened by its sash.
  await page.locator('.pane-header', { hasText: 'Runs' }).first().click();
  const sidebar = await page.locator('.part.sidebar').boundingBox();
  assert.ok(sidebar);
  await page.mouse.move(sidebar.x + sidebar.width + 1, sidebar.y + 300);
  await page.mouse.down();
  await page.mouse.move(sidebar.x + sidebar.width + 280, sidebar.y + 300, { steps: 8 });
  await page.mouse.up();
  await setTheme('Dark Modern', 'vs-dark');
  await shoot('suspects-dark.png');
  await page.screenshot({
    path: path.join(OUT, 'suspects-readme.png'),
    clip: { x: 0, y: 0, width: 1180, height: 460 },
  });
  await setTheme('Light Modern', 'vs');
  await shoot('suspects-light.png');
  await setTheme('Dark High Contrast', 'hc-black');
  await shoot('suspects-high-contrast.png');
});
