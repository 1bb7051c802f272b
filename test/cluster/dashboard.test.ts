/**
 * The editor side of a cluster run, end to end: a real one-node Slurm cluster (scripts/slurm/setup.sh, on ports of its
 * own), the real workbench (VS Code 1.100 in code-server, driven by Chromium) with this repository as the development
 * extension, and a run submitted with `bertft submit --slurm` (random:tiny on the example data). Its dashboard, opened
 * from the Runs view, and the status bar go through the job's states as the scheduler and the job script's events
 * give them: queued (held: JobHeldUser) → running on the node → preempted by a job of the urgent partition and
 * requeued → running again, resumed at the checkpoint's step → done. The dashboard's Open job log opens the job's
 * slurm-<id>.out; the Runs view's menu offers Open Job Log. A second held run shows that Stop means scancel: its
 * job is cancelled. Screenshots of each state (Dark Modern) and of the resumed run in dark, light and high-contrast
 * themes go to test-output/e2e/cluster-dashboard-*.png.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FrameLocator, Locator, Page } from 'playwright-core';
import { launchChromium, waitForBertContributions, type Browser } from '../e2e/harness/browser';
import {
  CODE_SERVER_ENTRY,
  REPO_ROOT,
  TEST_OUTPUT,
  devWorkbenchUrl,
  startCodeServer,
  type CodeServer,
} from '../e2e/harness/codeServer';
import { DATA, lastStep, useSlurmCluster } from '../helpers/slurm-cluster';

const OUT = path.join(TEST_OUTPUT, 'e2e');
// Long enough that each state outlasts the 10 s between the scheduler's polls, also on a quiet machine, where the job
// trains about 6 steps a second and is preempted near step 50: 8 epochs are 184 steps (4 were 92, and the resumed job
// could end before a poll showed it resumed).
// One model (--ensemble 1): the timings above are a single model's; a seed ensemble's stop and resume are tested in
// test/unit/runner/ensemble.test.ts and its kill -9 in the crash battery.
const TRAIN = ['--data', DATA, '--model', 'random:tiny', '--epochs', '8', '--seed', '7', '--ensemble', '1'];
/** A state shows within this: the scheduler is asked every 10 s, a job starts or requeues within seconds. */
const STATE_TIMEOUT = 240_000;
const UI_TIMEOUT = 60_000;

let server: CodeServer | undefined;
let browser: Browser | undefined;

before(() => {
  // The workbench loads the extension's bundles and runs code-server: what the e2e layer builds and installs.
  if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'extension.js'))) {
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build.mjs')], { cwd: REPO_ROOT, stdio: 'ignore' });
  }
  if (!fs.existsSync(CODE_SERVER_ENTRY)) {
    execFileSync('bash', [path.join(REPO_ROOT, 'scripts', 'vscode', 'setup.sh')], { cwd: REPO_ROOT, stdio: 'ignore' });
  }
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

// The cluster, on ports of its own (the other cluster test files' clusters may be up at the same time): its hooks are
// registered after the workbench's, so it starts once the workbench is set up and is taken down after it closed.
const cluster = useSlurmCluster('bertft-cluster-dashboard-', { slurmctld: 6867, slurmd: 6868 });
const { env, work: WORK } = cluster;

/** Submits a held run (it waits in the queue until released) and returns its job id. */
async function submitHeld(run: string): Promise<string> {
  const submit = await cluster.bertft([
    'submit',
    '--slurm',
    ...TRAIN,
    '--out',
    run,
    '--partition',
    'batch',
    // The node has 2 CPUs: a job that asks for both is preempted by any job of the urgent partition.
    '--cpus',
    '2',
    '--sbatch-arg=--hold',
    '--json',
  ]);
  assert.equal(submit.code, 0, submit.err);
  return (JSON.parse(submit.out) as { jobId: string }).jobId;
}

function slurm(tool: string, args: string[]): string {
  const r = spawnSync(tool, args, { env, encoding: 'utf8' });
  assert.equal(r.status, 0, `${tool} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** What a state that never showed leaves behind: the job script's events, the queue, the page. */
async function explain(page: Page, run: string, what: string, error: unknown): Promise<Error> {
  await page.screenshot({ path: path.join(OUT, 'cluster-dashboard-failure.png') }).catch(() => undefined);
  const events = path.join(run, 'slurm-events.jsonl');
  const squeue = spawnSync('squeue', ['-h', '-o', '%i|%T|%r|%N|%P'], { env, encoding: 'utf8' });
  const status = await page
    .locator('.statusbar-item', { hasText: 'BERT' })
    .allInnerTexts()
    .catch(() => []);
  return new Error(
    [
      `${what} never showed: ${String(error)}`,
      `status bar: ${status.join(' | ')}`,
      `slurm-events.jsonl:\n${fs.existsSync(events) ? fs.readFileSync(events, 'utf8') : '(none)'}`,
      `squeue:\n${squeue.stdout}${squeue.stderr}`,
      `last step: ${lastStep(run)}`,
    ].join('\n'),
  );
}

async function shows(page: Page, run: string, what: string, locator: Locator): Promise<void> {
  await locator.waitFor({ timeout: STATE_TIMEOUT }).catch(async (e: unknown) => {
    throw await explain(page, run, what, e);
  });
}

test('a cluster run in the dashboard and the status bar: queued → running → requeued → resumed → done', async () => {
  fs.mkdirSync(OUT, { recursive: true });
  const ws = path.join(WORK, 'ws');
  const runs = path.join(ws, '.bert', 'runs');
  const run = path.join(runs, 'spam-on-slurm');
  const other = path.join(runs, 'spam-stopped');
  fs.mkdirSync(runs, { recursive: true });
  const jobId = await submitHeld(run);
  const otherJobId = await submitHeld(other);

  server = await startCodeServer({ logFile: path.join(OUT, 'cluster-dashboard-code-server.log'), env });
  browser = await launchChromium();
  const { page } = browser;
  await page.goto(devWorkbenchUrl(server, ws));
  await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: UI_TIMEOUT });
  await waitForBertContributions(page, UI_TIMEOUT);
  await page.locator('.activitybar .action-item a[aria-label^="BERT Fine-tune"]').click();
  const row = (name: string) => page.locator('.pane .monaco-list-row', { hasText: name }).first();
  // The visible dashboard (a hidden one keeps no page).
  const view: FrameLocator = page.frameLocator('iframe.webview.ready >> visible=true').frameLocator('#active-frame');
  const clusterState = (text: string | RegExp) => view.locator('#cluster-state', { hasText: text });
  const statusBar = (text: string | RegExp) => page.locator('.statusbar-item', { hasText: text });
  const snap = (name: string) => page.screenshot({ path: path.join(OUT, `cluster-dashboard-${name}.png`) });

  // Stop means scancel: the other run's job, held in the queue, is cancelled from its dashboard.
  await row('spam-stopped').waitFor({ timeout: UI_TIMEOUT });
  await row('spam-stopped').click();
  await shows(page, other, 'the held job as queued', clusterState('queued (JobHeldUser)'));
  assert.equal(await view.locator('#cluster .cluster-job').innerText(), `Slurm job ${otherJobId}`);
  assert.equal(await view.locator('#phase').innerText(), 'queued');
  await view.locator('#stop').click();
  await shows(page, other, 'the cancelled job', clusterState(/^cancelled$/));
  assert.match(slurm('scontrol', ['show', 'job', '-o', otherJobId]), /JobState=CANCELLED/);
  assert.equal(await view.locator('#stop').getAttribute('disabled'), '', 'nothing left to stop');

  // The run followed through its states: queued, held.
  await row('spam-on-slurm').click();
  await shows(page, run, 'queued (JobHeldUser)', clusterState('queued (JobHeldUser)'));
  await shows(page, run, 'the status bar queued', statusBar('BERT: queued on Slurm (JobHeldUser)'));
  assert.equal(await view.locator('#cluster .cluster-job').innerText(), `Slurm job ${jobId}`);
  await snap('queued');

  // Running on the node.
  slurm('scontrol', ['release', jobId]);
  const node = slurm('scontrol', ['show', 'job', '-o', jobId]);
  await shows(page, run, 'running on the node', clusterState(/^running on \S+$/));
  await shows(page, run, 'the status bar on the node', statusBar(/BERT: (\d+% · .* · )?on \S+|BERT: starting on \S+…/));
  await shows(page, run, 'training steps', view.locator('#phase', { hasText: 'training' }));
  const deadline = Date.now() + STATE_TIMEOUT;
  while (lastStep(run) < 8 && Date.now() < deadline) await page.waitForTimeout(500);
  await snap('running');

  // Preempted by a job of the urgent partition that asks for the whole node for 40 s: checkpoint, requeue, wait.
  slurm('sbatch', ['--parsable', '-p', 'urgent', '-c', '2', '-o', '/dev/null', '--wrap', 'sleep 40']);
  await shows(page, run, 'preempted → requeued', clusterState(/^preempted → requeued/));
  await shows(page, run, 'the status bar requeued', statusBar(/BERT: preempted, requeued on Slurm/));
  assert.equal(await view.locator('#phase').innerText(), 'requeued');
  assert.equal(await view.locator('#resume').getAttribute('disabled'), '', 'not resumed here while queued there');
  await snap('requeued');

  // Resumed from its checkpoint on the node.
  await shows(page, run, 'resumed at step N', clusterState(/^running on \S+ · requeued 1× · resumed at step \d+$/));
  const resumedAt = Number(/resumed at step (\d+)/.exec(await view.locator('#cluster-state').innerText())![1]);
  assert.ok(resumedAt >= 8, `resumed from the checkpoint written when preempted (step ${resumedAt})`);
  await shows(page, run, 'the status bar resumed', statusBar(`resumed at step ${resumedAt}`));
  await snap('resumed');
  // The Runs view follows on its own polls (every 10 s): the row trains again too.
  await row('spam-on-slurm')
    .locator('.label-description', { hasText: /^(training|done)/ })
    .waitFor({ timeout: UI_TIMEOUT });
  // Three themes while it trains on.
  const settings = path.join(ws, '.vscode', 'settings.json');
  fs.mkdirSync(path.dirname(settings), { recursive: true });
  for (const [theme, kind, file] of [
    ['Default Dark Modern', 'vs-dark', 'dark'],
    ['Default Light Modern', 'vs', 'light'],
    ['Default High Contrast', 'hc-black', 'high-contrast'],
  ]) {
    fs.writeFileSync(settings, JSON.stringify({ 'workbench.colorTheme': theme }));
    await page.locator(`.monaco-workbench.${kind}`).waitFor({ timeout: UI_TIMEOUT });
    await page.waitForTimeout(800);
    await snap(file);
  }
  fs.writeFileSync(settings, JSON.stringify({ 'workbench.colorTheme': 'Default Dark Modern' }));

  // Done: the scheduler says COMPLETED; the run's best accuracy in the status bar.
  await shows(page, run, 'done', clusterState(/^done on \S+ · requeued 1× · resumed at step \d+$/));
  await shows(page, run, 'the status bar done', statusBar(/BERT: acc \d\.\d\d/));
  assert.equal(await view.locator('#phase').innerText(), 'finished');
  assert.match(slurm('scontrol', ['show', 'job', '-o', jobId]), /JobState=COMPLETED/);
  assert.match(node, /JobId=/);
  await snap('done');

  // Open job log: the job's slurm-<id>.out in an editor.
  await view.locator('#job-log').click();
  await page.locator('.tab', { hasText: `slurm-${jobId}.out` }).waitFor({ timeout: UI_TIMEOUT });
  // The Runs view's menu has it too.
  await row('spam-on-slurm').click({ button: 'right' });
  const menu = page.locator('.monaco-menu');
  await menu.waitFor({ timeout: UI_TIMEOUT });
  const items = (await menu.locator('.action-label').allInnerTexts()).map((t) => t.trim());
  await page.keyboard.press('Escape');
  assert.ok(items.includes('Open Job Log'), items.join(', '));
});
