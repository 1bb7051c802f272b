/**
 * `npm run bench:activation` (#18): what the extension costs a window, by the extension host's own figure (the
 * "Developer: Show Running Extensions" editor: code loading + activate() call, in ms), before and after activation
 * moved off `onStartupFinished`.
 *
 * Each window loads our extension as its development extension, from a copy of this repository's manifest whose
 * activation events are either the old ones (`onStartupFinished`) or today's (package.json); the reference is the
 * built-in Merge Conflict extension in the same window, activated on start-up everywhere. Two workspaces: an empty folder (a window where
 * nothing of ours is needed) and a folder holding a CSV. Each cell is the median of `repeats` fresh windows.
 * Ratio = ours ÷ reference in the same window; its last stdout line is one JSON object.
 *
 * usage: npm run bench:activation [-- '{"repeats":3}']
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { launchChromium } from '../test/e2e/harness/browser';
import { REPO_ROOT, sleep, startCodeServer } from '../test/e2e/harness/codeServer';

const args = { repeats: 3, ...(JSON.parse(process.argv[2] ?? '{}') as { repeats?: number }) };
const UI_TIMEOUT = 90_000;
/**
 * The reference: VS Code's built-in Merge Conflict extension, activated on start-up in every window, with a small
 * activate(). (code-server loads one development extension per window, so the reference cannot be a second one.)
 */
const REFERENCE_ID = 'Merge Conflict';

interface Manifest {
  publisher: string;
  name: string;
  activationEvents: string[];
}

/** A development copy of our extension: its manifest with `activationEvents`, the rest linked from the repository. */
function ourExtension(dir: string, activationEvents: string[]): string {
  fs.mkdirSync(dir);
  const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as Manifest;
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ ...manifest, activationEvents }, null, 2));
  for (const entry of ['dist', 'media', 'assets', 'node_modules', 'examples', 'LICENSE', 'README.md']) {
    if (fs.existsSync(path.join(REPO_ROOT, entry))) fs.symlinkSync(path.join(REPO_ROOT, entry), path.join(dir, entry));
  }
  return dir;
}

/** Activation times (ms) by extension identifier, read from the Running Extensions editor. */
async function runningExtensions(page: Page): Promise<Map<string, number | 'activating'>> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  await input.fill('>Developer: Show Running Extensions');
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Show Running Extensions' }).first();
  await row.waitFor({ timeout: UI_TIMEOUT });
  await row.click();
  const rows = page.locator('.runtime-extensions-editor .monaco-list-row');
  await rows.first().waitFor({ timeout: UI_TIMEOUT });
  await sleep(500);
  const times = new Map<string, number | 'activating'>();
  for (const r of await rows.all()) {
    const name = (await r.locator('.name').first().innerText()).trim();
    const text = (await r.locator('.activation-time').first().innerText()).trim();
    const ms = /(\d+)ms/.exec(text);
    times.set(name, ms ? Number(ms[1]) : 'activating');
  }
  return times;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function measureWindow(
  ours: string,
  workspace: string,
  work: string,
): Promise<{ ours: number | undefined; reference: number }> {
  const server = await startCodeServer({
    logFile: process.env.BENCH_DEBUG
      ? path.join(os.tmpdir(), 'bench-activation-code-server.log')
      : path.join(work, 'code-server.log'),
  });
  const browser = await launchChromium();
  try {
    const host = new URL(server.url).host;
    const payload = [
      ['extensionDevelopmentPath', `vscode-remote://${host}${ours}`],
      ['skipWelcome', 'true'],
      ['skipReleaseNotes', 'true'],
    ];
    const url = `${server.url}/?${new URLSearchParams({ folder: workspace, payload: JSON.stringify(payload) }).toString()}`;
    await browser.page.goto(url);
    await browser.page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: UI_TIMEOUT });
    // Start-up activations (the reference's, and ours where its events fire) settle within seconds.
    for (let i = 0; i < 60; i++) {
      const times = await runningExtensions(browser.page);
      const ref = times.get(REFERENCE_ID);
      const mine = times.get(ourName);
      if (typeof ref === 'number' && mine !== 'activating') {
        await sleep(2000); // late events (workspaceContains searches) get their chance; then read once more
        const settled = await runningExtensions(browser.page);
        const oursMs = settled.get(ourName);
        return {
          ours: typeof oursMs === 'number' ? oursMs : undefined,
          reference: settled.get(REFERENCE_ID) as number,
        };
      }
      await sleep(1000);
    }
    await browser.page.screenshot({ path: path.join(os.tmpdir(), 'bench-activation-failure.png') });
    throw new Error(
      `the reference extension never activated; running: ${JSON.stringify([...(await runningExtensions(browser.page))])}`,
    );
  } finally {
    await browser.close();
    await server.stop();
  }
}

const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as Manifest;
const ourName = `${manifest.publisher}.${manifest.name}`;

async function main(): Promise<void> {
  if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'extension.js'))) {
    throw new Error('dist/extension.js is missing: run `node scripts/build.mjs` first (npm run bench:activation does)');
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bertft-bench-activation-'));
  const today = manifest.activationEvents;
  const variants = {
    before: ['onStartupFinished', 'onWebviewPanel:bert.dashboard'],
    after: today,
  };
  const workspaces = { empty: path.join(work, 'empty'), dataset: path.join(work, 'dataset') };
  fs.mkdirSync(workspaces.empty);
  fs.mkdirSync(workspaces.dataset);
  fs.copyFileSync(path.join(REPO_ROOT, 'examples', 'spam-ham.csv'), path.join(workspaces.dataset, 'spam-ham.csv'));
  const results: Record<string, Record<string, unknown>> = {};
  try {
    for (const [variant, events] of Object.entries(variants)) {
      const ours = ourExtension(path.join(work, `ours-${variant}`), events);
      results[variant] = {};
      for (const [name, folder] of Object.entries(workspaces)) {
        const windows: { ours: number | undefined; reference: number }[] = [];
        for (let i = 0; i < args.repeats; i++) windows.push(await measureWindow(ours, folder, work));
        const activated = windows.filter((w) => w.ours !== undefined);
        const cell = {
          activated_in: `${activated.length}/${windows.length} windows`,
          ours_ms: activated.length ? median(activated.map((w) => w.ours as number)) : 0,
          reference_ms: median(windows.map((w) => w.reference)),
          ratio: activated.length ? median(activated.map((w) => (w.ours as number) / Math.max(1, w.reference))) : 0,
          windows,
        };
        results[variant][name] = cell;
        console.error(`${variant} / ${name}: ${JSON.stringify({ ...cell, windows: undefined })}`);
      }
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  console.log('\n| activation events | workspace | activated in | ours (ms, median) | reference (ms) | ratio |');
  console.log('|---|---|---|---:|---:|---:|');
  for (const [variant, cells] of Object.entries(results)) {
    for (const [name, c] of Object.entries(cells) as [string, Record<string, number | string>][]) {
      console.log(
        `| ${variant} | ${name} | ${c.activated_in} | ${c.ours_ms} | ${c.reference_ms} | ${Number(c.ratio).toFixed(1)} |`,
      );
    }
  }
  console.log(JSON.stringify({ bench: 'activation', repeats: args.repeats, results }));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
