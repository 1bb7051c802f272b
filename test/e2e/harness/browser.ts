/** Debian's Chromium, driven headless through playwright-core, with a fresh profile per launch. */
import fs from 'node:fs';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { tempFolder } from '../../helpers/temp';

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
  const profile = tempFolder('bertft-chromium-');
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
export async function reloadWindow(page: Page, timeout: number): Promise<void> {
  await openPaletteAt(page, '>Developer: Reload Window', 'Developer: Reload Window', timeout);
  await Promise.all([page.waitForEvent('load', { timeout }), page.keyboard.press('Enter')]);
}

/**
 * Waits until the workbench has registered the extension's contributions (its view container is in the activity
 * bar), so a command palette opened next lists the BERT commands. The extension itself starts only when needed (a
 * command, a workspace with a dataset or a run), and shows no status bar item without a run or a model.
 */
export async function waitForBertContributions(page: Page, timeout: number): Promise<void> {
  await page.locator('.activitybar .action-item a[aria-label^="BERT Fine-tune"]').waitFor({ timeout });
}

/**
 * Opens the Command Palette with `query` in its box and resolves with its rows once one holds `rowText`. The text is
 * set with fill(), not typed: on a loaded machine keys typed right after F1 can reach the editor before the box has
 * focus, and the palette then lists every command, most of them unrendered. The list is taken when the palette
 * opens, so when the row does not come it is closed and opened again, until `timeout`.
 */
export async function openPaletteAt(
  page: Page,
  query: string,
  rowText: string | RegExp,
  timeout: number,
): Promise<Locator> {
  const input = page.locator('.quick-input-widget .quick-input-box input');
  const rows = page.locator('.quick-input-list .monaco-list-row');
  const deadline = Date.now() + timeout;
  for (;;) {
    await page.keyboard.press('F1');
    await input.waitFor({ state: 'visible', timeout });
    await input.fill(query);
    const listed = await rows
      .filter({ hasText: rowText })
      .first()
      .waitFor({ timeout: Math.max(1000, Math.min(10_000, deadline - Date.now())) })
      .then(() => true)
      .catch(() => false);
    if (listed) return rows;
    if (Date.now() >= deadline) {
      const shown = (await rows.allInnerTexts()).map((t) => t.split('\n')[0].trim());
      throw new Error(
        `the Command Palette at "${query}" never listed "${String(rowText)}"; it listed: ${shown.join(' | ')}`,
      );
    }
    await page.keyboard.press('Escape');
    await page.waitForTimeout(1000);
  }
}
