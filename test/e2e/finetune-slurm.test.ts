/**
 * "BERT: Fine-tune BERT" submitted to a real Slurm cluster, as a user does it in VS Code 1.100 (code-server) through
 * Chromium, on a host where sbatch is on PATH: a one-node cluster (scripts/slurm/setup.sh, ports 6857/6858 of
 * test/cluster/finetune-submit.test.ts, always taken down) whose SLURM_CONF the server has. The last step offers the
 * Slurm cluster beside Start training; the cluster's steps list the partitions from sinfo (the default first), the
 * GPU choices of the partition's GRES, and refuse a time limit in the wrong notation; the run is submitted
 * (job.sbatch, job.json), shows in the Runs view with its job, its dashboard opens and follows it until the job has
 * trained it. Screenshots of the steps: test-output/e2e/finetune-slurm-{partition,gpu,time}.png.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import type { Page } from 'playwright-core';
import { launchChromium, waitForBertContributions, type Browser } from './harness/browser';
import { REPO_ROOT, TEST_OUTPUT, startCodeServer, type CodeServer, devWorkbenchUrl } from './harness/codeServer';
import { workbenchActions, writeReviewsCsv } from './harness/workbench';
import { tempFolder } from '../helpers/temp';

const OUT = path.join(TEST_OUTPUT, 'e2e');
const UI_TIMEOUT = 60_000;
const { pick, runCommand } = workbenchActions(UI_TIMEOUT);
/** Queued, then trained by the job on 2 shared cores. */
const TRAIN_TIMEOUT = 300_000;
const SETUP = path.join(REPO_ROOT, 'scripts', 'slurm', 'setup.sh');
const WORK = tempFolder('bertft-e2e-slurm-');
const clusterEnv: NodeJS.ProcessEnv = {
  ...process.env,
  SLURM_SANDBOX: path.join(WORK, 'slurm'),
  SLURMCTLD_PORT: '6857',
  SLURMD_PORT: '6858',
};

let server: CodeServer | undefined;
let browser: Browser | undefined;
let clusterUp = false;

after(async () => {
  await browser?.close();
  await server?.stop();
  if (clusterUp) {
    const down = spawnSync('bash', [SETUP, 'down'], { env: clusterEnv, encoding: 'utf8', timeout: 120_000 });
    assert.equal(down.status, 0, down.stderr);
  }
  fs.rmSync(WORK, { recursive: true, force: true });
});

/** Whether this host can run the one-node cluster: Slurm's daemons installed, and root to start them. */
function clusterCanStart(): boolean {
  const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
  return process.getuid?.() === 0 && ['sbatch', 'sinfo', 'slurmctld', 'slurmd', 'munged'].every(has);
}

/** The rows a quick pick shows now, as text. */
async function rows(page: Page): Promise<string[]> {
  return (await page.locator('.quick-input-list .monaco-list-row').allInnerTexts()).map((t) =>
    t.replace(/\s+/g, ' ').trim(),
  );
}

test(
  'Fine-tune BERT → Slurm cluster: partition, GPU and time limit from the real cluster; the job trains the run',
  { skip: !clusterCanStart() && "no Slurm daemons here, or not root (the cluster's daemons run as root)" },
  async () => {
    fs.mkdirSync(OUT, { recursive: true });
    if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'cli.js'))) {
      execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build.mjs')], {
        cwd: REPO_ROOT,
        stdio: 'ignore',
      });
    }
    const up = spawnSync('bash', [SETUP, 'up'], { env: clusterEnv, encoding: 'utf8', timeout: 600_000 });
    clusterUp = true;
    assert.equal(up.status, 0, `the cluster did not start:\n${up.stdout}\n${up.stderr}`);
    const conf = /export SLURM_CONF=(\S+)/.exec(up.stdout)?.[1];
    assert.ok(conf, up.stdout);

    const ws = path.join(WORK, 'ws');
    fs.mkdirSync(ws);
    writeReviewsCsv(path.join(ws, 'reviews.csv'));
    server = await startCodeServer({
      logFile: path.join(OUT, 'finetune-slurm-code-server.log'),
      env: { SLURM_CONF: conf },
    });
    browser = await launchChromium();
    const { page } = browser;
    try {
      await page.goto(devWorkbenchUrl(server, ws));
      await waitForBertContributions(page, UI_TIMEOUT);
      await runCommand(page, 'BERT: Fine-tune BERT');
      const input = page.locator('.quick-input-widget .quick-input-box input');
      await pick(page, /dataset/, 'reviews.csv', 'reviews.csv');
      await pick(page, /columns/, '', /Text: "text", label: "label"/);
      await pick(page, /model/, 'Small random model', 'Small random model');
      await pick(page, /settings/, 'Fast', 'Fast');
      await pick(page, /device/, 'CPU', 'CPU');

      // The last step: this machine first (Enter), the cluster beside it.
      await page
        .locator('.quick-input-widget .quick-input-title', { hasText: /on this machine or on the Slurm cluster/ })
        .waitFor({ timeout: TRAIN_TIMEOUT });
      const last = await rows(page);
      assert.match(last[0], /^Start training/);
      assert.match(last[1], /^Slurm cluster: submit a job…/);
      await pick(page, /Slurm cluster/, 'Slurm', 'Slurm cluster');

      // The partitions from sinfo, the default first; then the GPU choices of its GRES (gpu:1, untyped).
      await page.locator('.quick-input-widget .quick-input-title', { hasText: /Slurm partition/ }).waitFor({
        timeout: UI_TIMEOUT,
      });
      const partitions = await rows(page);
      assert.equal(partitions.length, 2, partitions.join('\n'));
      assert.match(partitions[0], /^batch ?default · up · no time limit · gpu:1 ?1 node: idle$/);
      assert.match(partitions[1], /^urgent ?up · no time limit · gpu:1 ?1 node: idle$/);
      await page.screenshot({ path: path.join(OUT, 'finetune-slurm-partition.png') });
      await pick(page, /Slurm partition/, '', 'batch');
      await page.locator('.quick-input-widget .quick-input-title', { hasText: /GPU on batch/ }).waitFor({
        timeout: UI_TIMEOUT,
      });
      const gpus = await rows(page);
      assert.equal(gpus.length, 2, gpus.join('\n'));
      assert.match(gpus[0], /^1 GPU ?1 per node/);
      assert.match(gpus[1], /^No GPU/);
      await page.screenshot({ path: path.join(OUT, 'finetune-slurm-gpu.png') });
      // The cluster's GPU is a stand-in (File=/dev/null): the job trains on the node's CPUs.
      await pick(page, /GPU on batch/, 'No GPU', 'No GPU');

      // The time limit: a wrong notation is refused in the box, then 10 minutes.
      await page.locator('.quick-input-widget .quick-input-title', { hasText: /time limit on batch/ }).waitFor({
        timeout: UI_TIMEOUT,
      });
      await input.fill('2h');
      await page
        // The validation message (the prompt names the notation too, without this example).
        .locator('.quick-input-widget .quick-input-message', { hasText: /HH:MM:SS \(01:30:00\)/ })
        .waitFor({ timeout: UI_TIMEOUT });
      await page.screenshot({ path: path.join(OUT, 'finetune-slurm-time.png') });
      await input.fill('10');
      await page.keyboard.press('Enter');

      // Submitted: the dashboard opens, the Runs view lists the run; the job trains it to the end.
      await page.locator('.tab', { hasText: /BERT: \d{8}-\d{6}-reviews/ }).waitFor({ timeout: UI_TIMEOUT });
      const runs = path.join(ws, '.bert', 'runs');
      const [name] = fs.readdirSync(runs);
      const run = path.join(runs, name);
      const record = JSON.parse(fs.readFileSync(path.join(run, 'job.json'), 'utf8')) as { jobId: string };
      assert.match(record.jobId, /^\d+$/);
      const script = fs.readFileSync(path.join(run, 'job.sbatch'), 'utf8');
      for (const line of ['#SBATCH --partition=batch', '#SBATCH --time=10']) assert.ok(script.includes(`${line}\n`));
      assert.match(script, /args=\(train --data \S+reviews\.csv .*--preset fast.* --out "\$RUN" --device cpu\)/);
      await page.locator('.activitybar .action-item a[aria-label^="BERT Fine-tune"]').click();
      await page.locator('.pane .monaco-list-row', { hasText: name }).first().waitFor({ timeout: UI_TIMEOUT });

      const view = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
      await view.locator('#phase', { hasText: /^(finished|failed)$/ }).waitFor({ timeout: TRAIN_TIMEOUT });
      assert.equal(await view.locator('#phase').innerText(), 'finished');
      assert.ok(fs.existsSync(path.join(run, 'best', 'model.onnx')), 'the job trained the model');
      await page.screenshot({ path: path.join(OUT, 'finetune-slurm-done.png') });
    } catch (error) {
      await page.screenshot({ path: path.join(OUT, 'finetune-slurm-failure.png') }).catch(() => undefined);
      throw error;
    }
  },
);
