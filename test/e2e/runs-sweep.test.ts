/**
 * Sweeps and cluster jobs in the Runs view of the real workbench (VS Code 1.100 in code-server, Chromium): a sweep
 * folder is one row that expands to its trials in leaderboard order, the best marked; a run submitted to Slurm shows
 * the state `bertft jobs` last recorded, marked as last seen, since this machine cannot reach a cluster (SLURM_CONF
 * names an empty file; without Slurm's tools the same), so Cancel Cluster Job is not offered and no notification is
 * raised; a trial that finishes better moves to the top without a refresh (the view watches the trial folders).
 * Screenshots: test-output/e2e/runs-sweep-{dark,light,high-contrast}.png.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { launchChromium, waitForBertContributions, type Browser } from './harness/browser';
import { REPO_ROOT, TEST_OUTPUT, startCodeServer, type CodeServer, devWorkbenchUrl } from './harness/codeServer';
import type { JobRecord } from '../../src/core/scheduler/scheduler';
import { finishedRun, toJsonl } from '../unit/extension-ui/sampleRun';
import { writeSweep } from '../unit/extension-ui/sampleSweep';
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

function workspace(): string {
  const ws = tempFolder('bertft-e2e-runs-sweep-');
  temps.push(ws);
  const runs = path.join(ws, '.bert', 'runs');
  writeSweep(runs, 'sweep-lr');
  fs.mkdirSync(path.join(runs, 'reviews-base'), { recursive: true });
  fs.writeFileSync(path.join(runs, 'reviews-base', 'metrics.jsonl'), toJsonl(finishedRun()));
  const cluster = path.join(runs, 'reviews-cluster');
  fs.mkdirSync(cluster);
  const record: JobRecord = {
    scheduler: 'slurm',
    jobId: '4242',
    arrayIndex: null,
    submitted: '2026-12-06T11:00:00.000Z',
    restarts: 1,
    script: 'job.sbatch',
    previousJobIds: [],
    lastState: { jobId: '4242', phase: 'queued', state: 'PENDING', reason: 'Priority' },
    checked: '2026-12-06T11:05:00.000Z',
  };
  fs.writeFileSync(path.join(cluster, 'job.json'), JSON.stringify(record));
  return ws;
}

test('the Runs view: a sweep row with its ranked trials, a cluster job with its last state; three themes', async () => {
  fs.mkdirSync(OUT, { recursive: true });
  if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'extension.js'))) {
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build.mjs')], { cwd: REPO_ROOT, stdio: 'ignore' });
  }
  const ws = workspace();
  // A slurm.conf that names no cluster: Slurm's tools fail at once (a missing file makes them retry for 60 s).
  const emptyConf = path.join(tempFolder('bertft-e2e-no-cluster-'), 'slurm.conf');
  temps.push(path.dirname(emptyConf));
  fs.writeFileSync(emptyConf, '');
  server = await startCodeServer({
    logFile: path.join(OUT, 'runs-sweep-code-server.log'),
    env: { SLURM_CONF: emptyConf },
  });
  browser = await launchChromium();
  const { page } = browser;
  await page.setViewportSize({ width: 1200, height: 640 });
  await page.goto(devWorkbenchUrl(server, ws));
  await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: UI_TIMEOUT });
  await waitForBertContributions(page, UI_TIMEOUT);
  await page.locator('.activitybar .action-item a[aria-label^="BERT Fine-tune"]').click();

  const row = (text: string | RegExp) => page.locator('.pane .monaco-list-row', { hasText: text }).first();
  const sweep = row('sweep-lr');
  await sweep.waitFor({ timeout: UI_TIMEOUT });
  assert.match(await sweep.innerText(), /sweep · 2\/4 done · best accuracy 0\.950 · 1 failed/);
  assert.equal(await sweep.getAttribute('aria-expanded'), 'false');
  await sweep.click();
  await row('★ best').waitFor({ timeout: UI_TIMEOUT });
  const trials = page.locator('.pane .monaco-list-row[aria-level="2"]');
  // Each row's label, then its description (VS Code draws them side by side).
  const shown = async (rows: typeof trials): Promise<string[]> => {
    const lines: string[] = [];
    for (let i = 0; i < (await rows.count()); i++) {
      const name = await rows.nth(i).locator('.label-name').innerText();
      const description = await rows.nth(i).locator('.label-description').innerText();
      lines.push(`${name.trim()} | ${description.trim()}`);
    }
    return lines;
  };
  assert.deepEqual(await shown(trials), [
    'lr=0.002 · truncation=[x] (command:workbench.action.quit) | ★ best · accuracy 0.950 · done',
    'lr=0.001 · truncation=head | #2 · accuracy 0.800 · done',
    'lr=0.005 · truncation=head | #3 · failed',
    'lr=0.01 · truncation=head | #4 · waiting',
  ]);
  assert.equal(await trials.first().locator('.codicon-star-full').count(), 1, 'the best trial is starred');

  const cluster = row('reviews-cluster');
  await cluster
    .locator('.label-description', { hasText: /not reachable here/ })
    .waitFor({ timeout: UI_TIMEOUT })
    .catch(async (e: unknown) => {
      await page.screenshot({ path: path.join(OUT, 'runs-sweep-failure.png') });
      const rows = await shown(page.locator('.pane .monaco-list-row'));
      throw new Error(`the cluster run's row never said Slurm is not reachable: ${rows.join(' / ')}; ${String(e)}`);
    });
  assert.match(
    (await shown(page.locator('.pane .monaco-list-row', { hasText: 'reviews-cluster' })))[0],
    /^reviews-cluster \| waiting · 2026-12-06 11:00 · Slurm PENDING \(last seen; Slurm not reachable here\)$/,
  );
  // Its menu offers Cancel Cluster Job (a job still queued as far as anyone knows can be cancelled on the cluster).
  await cluster.click({ button: 'right' });
  const menu = page.locator('.monaco-menu');
  await menu.waitFor({ timeout: UI_TIMEOUT });
  const items = (await menu.locator('.action-label').allInnerTexts()).map((t) => t.trim());
  await page.keyboard.press('Escape');
  assert.ok(!items.includes('Cancel Cluster Job'), `not offered while its state is unknown here: ${items.join(', ')}`);
  assert.equal(
    await page.locator('.notifications-toasts .notification-toast').count(),
    0,
    'no notification from a machine without Slurm',
  );

  // A wider side bar, so the descriptions show whole: drag its edge.
  const edge = await page.locator('.part.sidebar').boundingBox();
  if (edge) {
    await page.mouse.move(edge.x + edge.width, edge.y + 200);
    await page.mouse.down();
    await page.mouse.move(edge.x + edge.width + 420, edge.y + 200, { steps: 8 });
    await page.mouse.up();
  }
  const settings = path.join(ws, '.vscode', 'settings.json');
  fs.mkdirSync(path.dirname(settings), { recursive: true });
  for (const [theme, kind, file] of [
    ['Default Dark Modern', 'vs-dark', 'runs-sweep-dark.png'],
    ['Default Light Modern', 'vs', 'runs-sweep-light.png'],
    ['Default High Contrast', 'hc-black', 'runs-sweep-high-contrast.png'],
  ]) {
    fs.writeFileSync(settings, JSON.stringify({ 'workbench.colorTheme': theme }));
    await page.locator(`.monaco-workbench.${kind}`).waitFor({ timeout: UI_TIMEOUT });
    await page.mouse.move(900, 5);
    await page.waitForTimeout(500);
    await page.screenshot({ path: path.join(OUT, file), clip: { x: 0, y: 0, width: 880, height: 300 } });
  }

  // The view watches the trial folders: a trial that finishes better moves to the top without a refresh.
  const sweepDir = path.join(ws, '.bert', 'runs', 'sweep-lr');
  const best = fs.readFileSync(path.join(sweepDir, 'trial-001', 'metrics.jsonl'), 'utf8');
  fs.mkdirSync(path.join(sweepDir, 'trial-003'));
  fs.writeFileSync(
    path.join(sweepDir, 'trial-003', 'metrics.jsonl'),
    best.replace(/"best_metric":0\.95/, '"best_metric":0.99').replace(/"accuracy":0\.95/, '"accuracy":0.99'),
  );
  await trials.first().filter({ hasText: 'lr=0.01 · truncation=head' }).waitFor({ timeout: UI_TIMEOUT });
  assert.match(await trials.first().innerText(), /★ best · accuracy 0\.990 · done/);
});
