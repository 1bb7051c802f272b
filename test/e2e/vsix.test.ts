/**
 * End to end, as a user gets it: package the linux-x64 VSIX with `npm run package`'s script (into dist-vsix/), install
 * it into code-server (VS Code 1.100.3) with its CLI, open a workspace in Debian's Chromium and use the workbench.
 * Screenshots go to test-output/e2e/. Every target's VSIX contents are checked by test/unit/packaging/vsix.test.ts.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { launchChromium, openPaletteAt, waitForBertContributions, type Browser } from './harness/browser';
import { REPO_ROOT, TEST_OUTPUT, codeServerCli, startCodeServer, type CodeServer } from './harness/codeServer';
import { Vsix, buildVsixes, vsixPath } from '../helpers/vsix';
import { tempFolder } from '../helpers/temp';

const OUT = path.join(TEST_OUTPUT, 'e2e');
const VSIX = vsixPath('linux-x64');
const EXTENSION_ID = 'bertft.bert-finetune';
const UI_TIMEOUT = 60_000;

const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
const temps: string[] = [];
let extensionsDir: string;
let server: CodeServer | undefined;
let browser: Browser | undefined;

before(() => {
  fs.mkdirSync(OUT, { recursive: true });
  // Always afresh: the installed extension runs these bundles (the script builds them in a stage of its own).
  buildVsixes(['linux-x64']);
  extensionsDir = tempFolder('bertft-e2e-ext-');
  temps.push(extensionsDir);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  for (const d of temps) fs.rmSync(d, { recursive: true, force: true });
});

test('the VSIX holds the bundle, the manifest and only the linux-x64 runtime of onnxruntime-node', () => {
  const { entries } = new Vsix(VSIX);
  for (const needed of [
    'extension/package.json',
    'extension/readme.md',
    'extension/LICENSE.txt',
    'extension/dist/extension.js',
    'extension/dist/trainer.js',
    'extension/dist/cli.js',
    'extension/dist/webview.js',
    'extension/assets/vocab.txt',
    'extension/examples/spam-ham.csv',
    'extension/node_modules/onnxruntime-node/dist/index.js',
    'extension/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node',
    'extension/node_modules/onnxruntime-common/dist/cjs/index.js',
  ]) {
    assert.ok(entries.includes(needed), `${needed} missing from the VSIX`);
  }
  const unwanted = entries.filter(
    (e) =>
      /\/(darwin|win32)\/|\/linux\/arm64\/|\.map$|\.ts$|^extension\/(src|test|out|scripts|bench|webview)\/|^extension\/examples\/(?!spam-ham\.csv$|README\.md$)/.test(
        e,
      ) ||
      (e.startsWith('extension/node_modules/') && !/^extension\/node_modules\/onnxruntime-(node|common)\//.test(e)),
  );
  assert.deepEqual(unwanted, []);
  const mebibytes = fs.statSync(VSIX).size / 2 ** 20;
  assert.ok(mebibytes <= 20, `VSIX is ${mebibytes.toFixed(1)} MiB (budget 20 MiB, README "Platforms")`);
});

test('the VSIX installs into code-server', () => {
  codeServerCli(extensionsDir, ['--install-extension', VSIX]);
  const listed = codeServerCli(extensionsDir, ['--list-extensions', '--show-versions']);
  assert.match(listed, new RegExp(`^${EXTENSION_ID.replace('.', '\\.')}@${manifest.version}$`, 'm'));
});

test('in a workspace with a dataset the extension activates: BERT commands in the palette and the editor menu, BERT log channel, and no status bar item without a run or a model', async () => {
  const workspace = tempFolder('bertft-e2e-ws-');
  temps.push(workspace);
  fs.copyFileSync(
    path.join(REPO_ROOT, 'test', 'integration', 'workspace', 'reviews.csv'),
    path.join(workspace, 'reviews.csv'),
  );
  server = await startCodeServer({ extensionsDir, logFile: path.join(OUT, 'code-server.log') });
  browser = await launchChromium();
  const { page } = browser;
  try {
    await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`);
    await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: UI_TIMEOUT });
    // A palette opened before the contributions are registered lists no BERT command and does not refresh.
    await waitForBertContributions(page, UI_TIMEOUT);

    // Command palette: the commands that can act in a workspace without runs are listed under the BERT category; those
    // that cannot (no run to stop or show, no selection to classify) are not.
    const rows = await openPaletteAt(page, '>BERT:', 'BERT: Fine-tune BERT', UI_TIMEOUT);
    const input = page.locator('.quick-input-widget .quick-input-box input');
    const labels = (await rows.allInnerTexts()).map((t) => t.split('\n')[0].trim());
    for (const title of ['BERT: Fine-tune BERT', 'BERT: Select Model', 'BERT: Predict Dataset']) {
      assert.ok(
        labels.some((l) => l.startsWith(title)),
        `"${title}" not in the palette: ${labels.join(' | ')}`,
      );
    }
    for (const title of [
      'BERT: Classify Selection',
      'BERT: Stop Training',
      'BERT: Open Training Dashboard',
      'BERT: Make Int8 Model',
      'BERT: Refresh Runs',
    ]) {
      assert.ok(
        !labels.some((l) => l.startsWith(title)),
        `"${title}" listed where it cannot act: ${labels.join(' | ')}`,
      );
    }
    await page.screenshot({ path: path.join(OUT, 'command-palette.png') });

    await page.keyboard.press('Escape');

    // Classify Selection is offered in the editor's context menu once text is selected.
    await page.keyboard.press('Control+P');
    await input.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await input.fill('reviews.csv');
    await rows.filter({ hasText: 'reviews.csv' }).first().waitFor({ timeout: UI_TIMEOUT });
    await page.keyboard.press('Enter');
    const word = page.locator('.view-lines .view-line span span', { hasText: 'soundtrack' }).first();
    await word.waitFor({ timeout: UI_TIMEOUT });
    const box = await word.boundingBox();
    assert.ok(box, 'the editor line with "soundtrack" is not rendered');
    await page.mouse.click(box.x + 4, box.y + box.height / 2);
    await page.keyboard.press('Shift+End');
    await page.mouse.click(box.x + 40, box.y + box.height / 2, { button: 'right' });
    const menuItem = page.locator('.monaco-menu .action-label', { hasText: 'Classify Selection' });
    await menuItem.waitFor({ timeout: UI_TIMEOUT });
    await page.screenshot({ path: path.join(OUT, 'editor-context-menu.png') });

    await page.keyboard.press('Escape');

    // The extension's log channel "BERT" is listed in the Output view and holds the activation line. The channel
    // list is taken when the picker opens, and on a loaded machine activation (workspaceContains) can come later:
    // open the picker again until the channel is there, within the UI timeout.
    const bertChannel = rows.filter({ hasText: /^BERT$/ }).first();
    const deadline = Date.now() + UI_TIMEOUT;
    for (;;) {
      await openPaletteAt(page, '>Output: Show Output Channels', 'Show Output Channels', UI_TIMEOUT);
      await page.keyboard.press('Enter');
      const listed = await bertChannel
        .waitFor({ timeout: 3000 })
        .then(() => true)
        .catch(() => false);
      if (listed) break;
      assert.ok(Date.now() < deadline, 'the BERT output channel never appeared: the extension did not activate');
      await page.keyboard.press('Escape');
      await page.waitForTimeout(2000);
    }
    await bertChannel.click();
    // The editor renders spaces as no-break spaces: match them with \s.
    const logLine = page.locator('.part.panel .view-line', { hasText: /BERT\sFine-tune\s[\d.]+\sactivated/ });
    await logLine.waitFor({ timeout: UI_TIMEOUT });
    // Activated (workspaceContains: a CSV), with no run and no model: nothing to say in the status bar.
    assert.equal(await page.locator('.statusbar-item', { hasText: /BERT/ }).count(), 0, 'no BERT status bar item');
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(OUT, 'workbench.png') });
  } catch (e) {
    await page.screenshot({ path: path.join(OUT, 'failure.png') }).catch(() => undefined);
    throw e;
  }
});
