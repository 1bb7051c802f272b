/** Debian's Chromium, driven headless through playwright-core, with a fresh profile per launch. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

export function assertChromiumInstalled(): void {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}. Run .ci/run, or: apt-get install chromium (or set CHROMIUM=<path>)`,
    );
  }
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Browser> {
  assertChromiumInstalled();
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'bertft-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 850 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close().catch(() => undefined);
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Developer: Reload Window through the Command Palette, as a user would (the workbench saves its editors before
 * reloading; a bare page reload may cut that short). Resolves when the new page has loaded.
 */
export async function reloadWindow(page: import('playwright-core').Page, timeout: number): Promise<void> {
  await page.keyboard.press('F1');
  const paletteInput = page.locator('.quick-input-widget .quick-input-box input');
  await paletteInput.waitFor({ state: 'visible', timeout });
  await paletteInput.fill('>Developer: Reload Window');
  await page
    .locator('.quick-input-list .monaco-list-row', { hasText: 'Developer: Reload Window' })
    .first()
    .waitFor({ timeout });
  await Promise.all([page.waitForEvent('load', { timeout }), page.keyboard.press('Enter')]);
}

/**
 * Waits until the workbench has registered the extension's contributions (its view container is in the activity
 * bar), so a command palette opened next lists the BERT commands. The extension itself starts only when needed (a
 * command, a workspace with a dataset or a run), and shows no status bar item without a run or a model.
 */
export async function waitForBertContributions(page: import('playwright-core').Page, timeout: number): Promise<void> {
  await page.locator('.activitybar .action-item a[aria-label^="BERT Fine-tune"]').waitFor({ timeout });
}
