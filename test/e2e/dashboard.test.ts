/**
 * The training dashboard, end to end in VS Code 1.100 (code-server) driven by Chromium, with this repository loaded
 * as the development extension. The workspace holds two runs written from the trainer's event types: a "live" one
 * whose pid is a process this test owns, and a finished one whose labels include HTML. Checks: reattach after
 * (re)load, status bar, live updates from metrics.jsonl, interrupted when the process dies, Runs view, confusion
 * matrix examples opening the dataset at the line, untrusted labels rendered as text, no CSP violations, the text
 * alternatives of the charts and the keyboard path through the page and the confusion matrix; screenshots in dark,
 * light and high-contrast themes (and of the keyboard focus in each) go to test-output/e2e/.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import type { FrameLocator, Page } from 'playwright-core';
import { launchChromium, reloadWindow, type Browser } from './harness/browser';
import { REPO_ROOT, TEST_OUTPUT, startCodeServer, type CodeServer, devWorkbenchUrl } from './harness/codeServer';
import { LABELS, evaluation, finishedRun, mlmRun, started, step, toJsonl } from '../unit/extension-ui/sampleRun';
import { workbenchActions } from './harness/workbench';
import { tempFolder } from '../helpers/temp';

const OUT = path.join(TEST_OUTPUT, 'e2e');
const UI_TIMEOUT = 60_000;
const { setTheme } = workbenchActions(UI_TIMEOUT);
const LIVE_RUN = '20261125-090000-live';
const DONE_RUN = '20261125-080000-done';
const MLM_RUN = '20261125-070000-notes-pretrain';

let server: CodeServer | undefined;
let browser: Browser | undefined;
let sleeper: ChildProcess | undefined;
const temps: string[] = [];

after(async () => {
  if (sleeper && sleeper.exitCode === null) sleeper.kill('SIGKILL');
  await browser?.close();
  await server?.stop();
  for (const d of temps) fs.rmSync(d, { recursive: true, force: true });
});

function makeWorkspace(ws: string, livePid: number): string {
  const data = path.join(ws, 'data.csv');
  fs.writeFileSync(
    data,
    [
      'text,label',
      'hello there,ham',
      'win money now,ham',
      'meeting at noon,ham',
      ...Array.from({ length: 40 }, (_, i) => `row ${i},spam`),
      '<b>bold</b>,x',
    ].join('\n') + '\n',
  );
  const runs = path.join(ws, '.bert', 'runs');
  const write = (name: string, text: string) => {
    fs.mkdirSync(path.join(runs, name), { recursive: true });
    fs.writeFileSync(path.join(runs, name, 'metrics.jsonl'), text);
  };
  // The finished run's misclassified examples point into this workspace's data.csv.
  const done = finishedRun().map((e) =>
    e.event === 'eval'
      ? { ...e, misclassified: e.misclassified.map((m) => ({ ...m, file: data, line: m.line === 12 ? 3 : 45 })) }
      : e.event === 'started'
        ? { ...e, dataset: { ...e.dataset, files: [data] }, run_dir: path.join(runs, DONE_RUN) }
        : e,
  );
  write(DONE_RUN, toJsonl(done));
  fs.mkdirSync(path.join(runs, DONE_RUN, 'best'));
  write(
    MLM_RUN,
    toJsonl(
      mlmRun().map((e) =>
        e.event === 'started' ? { ...e, time: '2026-11-25T07:00:00.000Z', run_dir: path.join(runs, MLM_RUN) } : e,
      ),
    ),
  );
  fs.mkdirSync(path.join(runs, MLM_RUN, 'best'));
  write(
    LIVE_RUN,
    toJsonl([
      started({ pid: livePid, time: '2026-11-25T09:00:00.000Z', run_dir: path.join(runs, LIVE_RUN) }),
      ...Array.from({ length: 37 }, (_, i) => step(i + 1, { loss: 0.41, eta_s: 720 })),
    ]),
  );
  fs.writeFileSync(path.join(runs, LIVE_RUN, '.bertft-run'), '{"tool":"bertft"}\n');
  return ws;
}

function dashboard(page: Page): FrameLocator {
  return page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
}

/** The little of the page's DOM that the functions evaluated in the page use (the Node tsconfig has no DOM types). */
interface PageNode {
  tagName: string;
  textContent: string | null;
  children: ArrayLike<PageNode> & Iterable<PageNode>;
  parentElement: PageNode | null;
  ownerDocument: {
    activeElement: PageNode | null;
    defaultView: { getComputedStyle(node: PageNode): { display: string; visibility: string } } | null;
  };
  getAttribute(name: string): string | null;
  closest(selector: string): PageNode | null;
  getBoundingClientRect(): { width: number; height: number };
}

/** The focused element of the dashboard, by its focus key (ours: `cell-1-2`, `chart-loss`, `stop`…) or tag name. */
async function focusedKey(view: FrameLocator): Promise<string> {
  return view.locator('body').evaluate((body: PageNode) => {
    const active = body.ownerDocument.activeElement;
    return active?.getAttribute('data-focus-key') ?? active?.tagName ?? '';
  });
}

/** Clicks the run's heading, then presses Tab until the confusion matrix has focus; returns the keys Tab visited. */
async function tabToMatrix(page: Page, view: FrameLocator): Promise<string[]> {
  await view.locator('h1').click();
  const visited: string[] = [];
  while (visited.length < 12 && !visited.at(-1)?.startsWith('cell-')) {
    await page.keyboard.press('Tab');
    visited.push(await focusedKey(view));
  }
  return visited;
}

test('dashboard: reattach, live updates, interrupted run, confusion examples, untrusted labels, themes', async () => {
  fs.mkdirSync(OUT, { recursive: true });
  if (
    !fs.existsSync(path.join(REPO_ROOT, 'dist', 'webview.js')) ||
    !fs.existsSync(path.join(REPO_ROOT, 'dist', 'extension.js'))
  ) {
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build.mjs')], { cwd: REPO_ROOT, stdio: 'ignore' });
  }
  const ws = tempFolder('bertft-e2e-dash-');
  temps.push(ws);
  // The live run's stand-in trainer: it exits with 130 once the run's stop request file appears.
  const stopRequest = path.join(ws, '.bert', 'runs', LIVE_RUN, '.stop-request');
  const standIn = `setInterval(() => { if (require('fs').existsSync(process.argv[1])) process.exit(130); }, 100);`;
  sleeper = spawn(process.execPath, ['-e', standIn, stopRequest], { stdio: 'ignore' });
  makeWorkspace(ws, sleeper.pid!);
  const liveMetrics = path.join(ws, '.bert', 'runs', LIVE_RUN, 'metrics.jsonl');

  server = await startCodeServer({ logFile: path.join(OUT, 'dashboard-code-server.log') });
  browser = await launchChromium();
  const { page } = browser;
  const cspViolations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to (load|apply|execute|connect)/.test(m.text()))
      cspViolations.push(`${m.location().url}: ${m.text()}`);
  });
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  try {
    await page.goto(devWorkbenchUrl(server, ws));
    await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: UI_TIMEOUT });

    // Reattach: the live run (its pid is alive) drives the status bar as soon as the extension activates.
    const status = page.locator('.statusbar-item', { hasText: /BERT: \d+%/ });
    await status.waitFor({ timeout: UI_TIMEOUT });
    await setTheme(page, 'Dark Modern');
    assert.match(await status.innerText(), /BERT: 37% · loss 0\.41 · ETA 12m/);

    // Clicking the item opens that run's dashboard.
    await status.click();
    const view = dashboard(page);
    await view.locator('#phase', { hasText: 'training' }).waitFor({ timeout: UI_TIMEOUT });
    assert.match(await view.locator('h1').innerText(), new RegExp(LIVE_RUN));
    await view.locator('#facts', { hasText: 'step 37 / 100' }).waitFor({ timeout: UI_TIMEOUT });
    // The loss chart's text alternative names its latest values, and follows the run (below).
    const lossSummary = (summary: string) =>
      view.locator(`figure.chart[data-chart="loss"][aria-label="${summary}"]`).waitFor({ timeout: UI_TIMEOUT });
    await lossSummary('Loss chart: 37 steps, train loss 0.410 at step 37, no validation loss yet');

    // Live: lines appended to metrics.jsonl reach the dashboard and the status bar.
    fs.appendFileSync(
      liveMetrics,
      toJsonl([
        ...Array.from({ length: 23 }, (_, i) => step(38 + i, { loss: 0.3, eta_s: 300 })),
        evaluation(60, 0.75, true),
      ]),
    );
    await view.locator('#facts', { hasText: 'step 60 / 100' }).waitFor({ timeout: UI_TIMEOUT });
    await page
      .locator('.statusbar-item', { hasText: /BERT: 60% · loss 0\.30 · ETA 5m/ })
      .waitFor({ timeout: UI_TIMEOUT });
    await view.locator('#evals td', { hasText: '0.750' }).first().waitFor({ timeout: UI_TIMEOUT });
    await lossSummary('Loss chart: 60 steps, train loss 0.300 at step 60, validation loss 0.500 at step 60');
    assert.equal(await view.locator('#stop').getAttribute('disabled'), null, 'Stop is enabled while training');

    // Stop on a run this window did not start writes the run's stop request file (no signal: on Windows it would end
    // the trainer without a checkpoint; the real trainer's answer is tested in test/unit/runner/stop-request.test.ts).
    // The stand-in ends without a `done`, so the run shows as interrupted, with Resume offered.
    const sleeperExit = new Promise<number | null>((resolve) => sleeper!.once('exit', (code) => resolve(code)));
    await view.locator('#stop').click();
    assert.equal(await sleeperExit, 130);
    await view.locator('#phase', { hasText: 'interrupted' }).waitFor({ timeout: UI_TIMEOUT });
    await page.locator('.statusbar-item', { hasText: 'BERT: training interrupted' }).waitFor({ timeout: UI_TIMEOUT });
    assert.equal(await view.locator('#resume').getAttribute('disabled'), null, 'Resume is enabled');
    assert.notEqual(await view.locator('#stop').getAttribute('disabled'), null, 'Stop is disabled');

    // The Runs view lists both runs; clicking the finished one opens its dashboard.
    await page.locator('.activitybar .action-item a[aria-label^="BERT Fine-tune"]').click();
    const row = page.locator('.monaco-list-row', { hasText: DONE_RUN });
    await row.waitFor({ timeout: UI_TIMEOUT });
    assert.match(await row.innerText(), /done · acc 0\.90/);
    assert.match(await page.locator('.monaco-list-row', { hasText: LIVE_RUN }).innerText(), /interrupted/);
    await row.click();
    await page.locator('.tab', { hasText: `BERT: ${DONE_RUN}` }).waitFor({ timeout: UI_TIMEOUT });
    const done = dashboard(page);
    await done.locator('#phase', { hasText: 'finished' }).waitFor({ timeout: UI_TIMEOUT });

    // An HTML label is text: the header cell reads it literally and the page holds no <img>.
    const evil = LABELS[2];
    await done.locator('#confusion th', { hasText: evil }).first().waitFor({ timeout: UI_TIMEOUT });
    assert.equal(await done.locator('img').count(), 0);
    assert.deepEqual(dialogs, [], 'no script ran from a label');

    // Each chart is a figure named by its latest values, with a visually hidden table of them; the canvases and the
    // rest of uPlot's drawing are hidden from screen readers.
    const summaries = [
      ['loss', 'Loss chart: 100 steps, train loss 0.010 at step 100, validation loss 0.500 at step 100'],
      [
        'quality',
        'Validation accuracy / macro-F1 chart: 2 evaluations, accuracy 0.800 at step 100, macro-F1 0.750 at step 100',
      ],
      ['lr', 'Learning rate chart: 100 steps, learning rate 0 at step 100'],
    ];
    for (const [key, summary] of summaries)
      assert.equal(await done.locator(`figure.chart[data-chart="${key}"]`).getAttribute('aria-label'), summary, key);
    const lossTable = done.locator('figure.chart[data-chart="loss"] .visually-hidden table');
    assert.equal(await lossTable.locator('caption').innerText(), 'Loss: latest values');
    assert.deepEqual(
      await lossTable
        .locator('tbody tr')
        .evaluateAll((rows: PageNode[]) => rows.map((row) => [...row.children].map((cell) => cell.textContent))),
      [
        ['train loss', '0.010', '100'],
        ['validation loss', '0.500', '100'],
      ],
    );
    assert.deepEqual(
      await lossTable.evaluate((table: PageNode) => {
        const style = table.ownerDocument.defaultView?.getComputedStyle(table);
        const box = table.parentElement?.getBoundingClientRect();
        return {
          display: style?.display,
          visibility: style?.visibility,
          clipped: !!box && box.width <= 1 && box.height <= 1,
        };
      }),
      { display: 'table', visibility: 'visible', clipped: true },
      'the table is clipped, not display: none (screen readers skip that)',
    );
    const canvases = await done
      .locator('figure.chart canvas')
      .evaluateAll((all: PageNode[]) =>
        all.map((c) => c.getAttribute('aria-hidden') === 'true' && !!c.closest('[aria-hidden]')),
      );
    assert.ok(
      canvases.length >= 3 && canvases.every(Boolean),
      `canvases hidden from screen readers: ${canvases.join(', ')}`,
    );

    // The keyboard: from the heading, Tab visits the enabled buttons (Stop and Resume are disabled on a finished
    // run), the charts, then the confusion matrix's one tab stop; the arrows move between cells, each named by its
    // labels and count; Enter does what a click does (lists the cell's examples) and focus stays on the cell.
    assert.deepEqual(await tabToMatrix(page, done), [
      'classify',
      'open-model',
      'chart-loss',
      'chart-quality',
      'chart-lr',
      'cell-0-0',
    ]);
    assert.equal(await done.locator('#confusion').getAttribute('role'), 'grid');
    assert.equal(await done.locator('#confusion .cell[tabindex="0"]').count(), 1, 'one tab stop in the matrix');
    const focusedName = () =>
      done.locator('body').evaluate((body: PageNode) => body.ownerDocument.activeElement?.getAttribute('aria-label'));
    assert.equal(await focusedName(), 'true ham, predicted ham: 5 examples');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    assert.equal(await focusedKey(done), 'cell-2-0');
    assert.equal(await focusedName(), `true ${evil}, predicted ham: 1 example`);
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('ArrowUp'); // stops at the edge
    assert.equal(await focusedKey(done), 'cell-0-1');
    assert.equal(await focusedName(), 'true ham, predicted spam: 1 example');
    await page.keyboard.press('Enter');
    await done.locator('#examples li', { hasText: 'win money now' }).waitFor({ timeout: UI_TIMEOUT });
    assert.equal(await done.locator('[data-focus-key="cell-0-1"]').getAttribute('aria-pressed'), 'true');
    assert.equal(await focusedKey(done), 'cell-0-1', 'focus stays on the cell the redraw replaced');
    // The focus ring (outer, VS Code's focus colour) beside the selected cell (inner ring).
    await page.keyboard.press('ArrowRight');
    assert.equal(await focusedKey(done), 'cell-0-2');
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(OUT, 'dashboard-focus-dark.png') });
    // Space on the selected cell clears the selection, as a second click does.
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press(' ');
    await done.locator('#examples').waitFor({ state: 'detached', timeout: UI_TIMEOUT });
    assert.equal(await focusedKey(done), 'cell-0-1');

    // A confusion cell lists its misclassified examples; a link opens the dataset at the example's line.
    await done.locator('#confusion tbody tr').nth(2).locator('button.cell').nth(0).click();
    const example = done.locator('#examples li', { hasText: '<b>bold</b>' });
    await example.waitFor({ timeout: UI_TIMEOUT });
    assert.equal(await done.locator('#examples b').count(), 0, 'example text is not parsed as HTML');
    assert.equal(await done.locator('body.vscode-dark').count(), 1, 'the dark theme is on');
    await example.scrollIntoViewIfNeeded();
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(OUT, 'dashboard-dark.png') });
    await example.locator('a.location').click();
    await page.locator('.tab', { hasText: 'data.csv' }).waitFor({ timeout: UI_TIMEOUT });
    await page.locator('.statusbar-item', { hasText: /Ln 45, Col 1/ }).waitFor({ timeout: UI_TIMEOUT });

    // A window reload brings the dashboard back (serializer + saved state) with its run.
    await reloadWindow(page, UI_TIMEOUT);
    await page.locator('.tab', { hasText: `BERT: ${DONE_RUN}` }).waitFor({ timeout: UI_TIMEOUT });
    await page.locator('.tab', { hasText: `BERT: ${DONE_RUN}` }).click();
    await dashboard(page).locator('#phase', { hasText: 'finished' }).waitFor({ timeout: UI_TIMEOUT });
    // The selected confusion cell was saved with the webview state, so its examples are listed again.
    await dashboard(page).locator('#examples li', { hasText: '<b>bold</b>' }).waitFor({ timeout: UI_TIMEOUT });

    // Hidden behind another editor and shown again, it restores the same way; then the light and high-contrast themes.
    await page.locator('.tab', { hasText: `BERT: ${LIVE_RUN}` }).click();
    await dashboard(page).locator('#phase', { hasText: 'interrupted' }).waitFor({ timeout: UI_TIMEOUT });
    await page.locator('.tab', { hasText: `BERT: ${DONE_RUN}` }).click();
    await dashboard(page).locator('#examples li', { hasText: '<b>bold</b>' }).waitFor({ timeout: UI_TIMEOUT });
    for (const [theme, file, bodyClass] of [
      ['Light Modern', 'dashboard-light.png', 'vscode-light'],
      ['Dark High Contrast', 'dashboard-hc.png', 'vscode-high-contrast'],
    ]) {
      await setTheme(page, theme);
      // VS Code puts the theme kind on the webview's body; the charts rebuild in the new colours.
      await dashboard(page).locator(`body.${bodyClass}`).waitFor({ timeout: UI_TIMEOUT });
      await page.waitForTimeout(800);
      await page.screenshot({ path: path.join(OUT, file) });
      // The keyboard focus in this theme: Tab into the matrix, then one cell to the right of the selected one.
      assert.match((await tabToMatrix(page, dashboard(page))).at(-1) ?? '', /^cell-/);
      await page.keyboard.press('ArrowRight');
      await page.waitForTimeout(300);
      await page.screenshot({ path: path.join(OUT, file.replace('dashboard-', 'dashboard-focus-')) });
    }
    assert.deepEqual(cspViolations, [], 'no Content-Security-Policy violations');

    // Delete asks first, then removes the run folder and its row.
    const liveRow = page.locator('.monaco-list-row', { hasText: LIVE_RUN });
    // The activity bar item toggles the side bar: click it only when the Runs view is not showing.
    if (!(await liveRow.isVisible()))
      await page.locator('.activitybar .action-item a[aria-label^="BERT Fine-tune"]').click();
    await liveRow.click({ button: 'right' });
    // Monaco menus act on keyboard selection reliably under automation: hover the item, then Enter.
    await page.locator('.monaco-menu .action-label', { hasText: 'Delete Run…' }).hover();
    await page.keyboard.press('Enter');
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: UI_TIMEOUT });
    assert.match(await dialog.innerText(), /cannot be undone/);
    await dialog.locator('.monaco-button', { hasText: /^Delete$/ }).click();
    await liveRow.waitFor({ state: 'detached', timeout: UI_TIMEOUT });
    assert.equal(fs.existsSync(path.join(ws, '.bert', 'runs', LIVE_RUN)), false);
    assert.equal(fs.existsSync(path.join(ws, '.bert', 'runs', DONE_RUN)), true);

    // A pre-training run: marked in the Runs view; its dashboard shows perplexity and masked accuracy, no confusion
    // matrix, and offers fine-tuning from its model instead of classifying with it.
    await setTheme(page, 'Dark Modern');
    await page.locator('.tab', { hasText: `BERT: ${DONE_RUN}` }).waitFor({ timeout: UI_TIMEOUT });
    await dashboard(page).locator('body.vscode-dark').waitFor({ timeout: UI_TIMEOUT });
    const mlmRow = page.locator('.monaco-list-row', { hasText: MLM_RUN });
    await mlmRow.waitFor({ timeout: UI_TIMEOUT });
    assert.match(await mlmRow.innerText(), /pre-train · done · perplexity 403/);
    await mlmRow.click();
    await page.locator('.tab.active', { hasText: `BERT: ${MLM_RUN}` }).waitFor({ timeout: UI_TIMEOUT });
    const mlm = dashboard(page);
    await mlm.locator('#task', { hasText: 'masked-LM pre-training' }).waitFor({ timeout: UI_TIMEOUT });
    await mlm
      .locator('#facts', { hasText: 'best perplexity 403 (MLM loss 6.000) at step 10' })
      .waitFor({ timeout: UI_TIMEOUT });
    assert.equal(await mlm.locator('#confusion').count(), 0, 'no confusion matrix for a pre-training run');
    assert.equal(await mlm.locator('#per-class table').count(), 0, 'no per-class table');
    assert.equal(await mlm.locator('.chart[data-chart="perplexity"]').count(), 1, 'a perplexity chart');
    const mlmSummaries = await mlm
      .locator('figure.chart')
      .evaluateAll((all: PageNode[]) => all.map((figure) => figure.getAttribute('aria-label')));
    assert.deepEqual(mlmSummaries, [
      'MLM loss chart: 20 steps, train MLM loss 5.000 at step 20, held-out MLM loss 6.500 at step 20',
      'Masked-token accuracy (held-out) chart: 2 evaluations, masked-token accuracy 0.200 at step 20',
      `Perplexity (held-out) chart: 2 evaluations, perplexity ${Math.exp(6.5).toFixed(0)} at step 20`,
      'Learning rate chart: 20 steps, learning rate 4.00e-5 at step 20',
    ]);
    assert.equal(await mlm.locator('#classify').count(), 0);
    assert.equal(
      await mlm.locator('#fine-tune').getAttribute('disabled'),
      null,
      'Fine-tune from this model is enabled',
    );
    assert.match(await mlm.locator('#evals thead').innerText(), /MLM loss\s+perplexity\s+masked acc\./);
    await page.waitForTimeout(800);
    await page.screenshot({ path: path.join(OUT, 'dashboard-mlm.png') });
  } catch (e) {
    await page.screenshot({ path: path.join(OUT, 'dashboard-failure.png') }).catch(() => undefined);
    throw e;
  }
});
