/** What the e2e tests do in the workbench as a user would: quick picks, Command Palette commands, colour themes. */
import * as fs from 'node:fs';
import type { Page } from 'playwright-core';
import { openPaletteAt } from './browser';

export interface WorkbenchActions {
  /** Waits for the quick input titled `title`, types `typed` and picks the first row showing `row`. */
  pick: (page: Page, title: RegExp, typed: string, row: string | RegExp) => Promise<void>;
  /** Runs a command by its title from the Command Palette. */
  runCommand: (page: Page, title: string) => Promise<void>;
  /** Picks a colour theme the way a user does: Command Palette → Preferences: Color Theme. */
  setTheme: (page: Page, theme: string) => Promise<void>;
}

/** The actions, each waiting at most `timeout` ms for what it needs to see. */
export function workbenchActions(timeout: number): WorkbenchActions {
  const input = (page: Page) => page.locator('.quick-input-widget .quick-input-box input');
  const chooseRow = async (page: Page, row: string | RegExp) => {
    await page.locator('.quick-input-list .monaco-list-row', { hasText: row }).first().waitFor({ timeout });
    await page.keyboard.press('Enter');
  };
  // Through openPaletteAt: it opens the palette again until the command is listed (the list is taken when it opens,
  // which can be before the extension's commands are registered).
  const runCommand = async (page: Page, title: string) => {
    await page.locator('.part.statusbar').hover();
    const rows = await openPaletteAt(page, `>${title}`, title, timeout);
    await rows.filter({ hasText: title }).first().click();
  };
  return {
    pick: async (page, title, typed, row) => {
      await page.locator('.quick-input-widget .quick-input-title', { hasText: title }).waitFor({ timeout });
      await input(page).fill(typed);
      await chooseRow(page, row);
    },
    runCommand,
    setTheme: async (page, theme) => {
      await runCommand(page, 'Preferences: Color Theme');
      await input(page).fill(theme);
      await chooseRow(page, theme);
    },
  };
}

/** 128 short film reviews, "positive" and "negative" alternating, deterministic: a CSV the flow trains on quickly. */
export function writeReviewsCsv(file: string): void {
  const good = ['great', 'wonderful', 'funny', 'warm', 'brilliant', 'lovely'];
  const bad = ['awful', 'boring', 'flat', 'dull', 'terrible', 'weak'];
  const rows = ['text,label'];
  for (let i = 0; i < 128; i++) {
    const positive = i % 2 === 0;
    const words = positive ? good : bad;
    rows.push(`"a ${words[i % 6]} and ${words[(i + 2) % 6]} film number ${i}",${positive ? 'positive' : 'negative'}`);
  }
  fs.writeFileSync(file, rows.join('\n') + '\n');
}
