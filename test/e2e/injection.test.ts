/**
 * The injection battery in the real workbench (VS Code 1.100 in code-server, Chromium): a dataset whose labels, texts,
 * column names and file name are payloads (test/helpers/payloads.ts) goes through Fine-tune BERT as a user would; then
 * the dashboard, Classify Selection (with the trained model, then with a copy in a payload-named folder), the hover,
 * the Runs view and Predict Dataset's error show that data. After each surface the test inspects the workbench DOM:
 * no anchor, image, script, iframe or event handler may come from the data, no icon may be drawn from it, and no
 * payload's loopback URL may ever be requested. A click on the classification toast (the original repro: a label that
 * is a command link) must run nothing. A second workbench opens a planted workspace in Restricted Mode.
 * Screenshots: test-output/e2e/injection-*.png.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { launchChromium, waitForBertContributions, type Browser } from './harness/browser';
import { REPO_ROOT, TEST_OUTPUT, startCodeServer, type CodeServer, devWorkbenchUrl } from './harness/codeServer';
import { LoopbackServer } from '../helpers/loopback-server';
import { isPosixFileName, payloads } from '../helpers/payloads';
import { csvField } from '../helpers/csv';
import { workbenchActions } from './harness/workbench';
import { tempFolder } from '../helpers/temp';

const OUT = path.join(TEST_OUTPUT, 'e2e');
const UI_TIMEOUT = 60_000;
const { runCommand } = workbenchActions(UI_TIMEOUT);
const TRAIN_TIMEOUT = 240_000;

let server: CodeServer | undefined;
let browser: Browser | undefined;
let loopback: LoopbackServer | undefined;
const temps: string[] = [];
/** A trained payload model, kept for the Restricted Mode test (outside any workspace). */
let modelOutside = '';

after(async () => {
  await browser?.close();
  await server?.stop();
  await loopback?.close();
  for (const d of temps) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const d = tempFolder(prefix);
  temps.push(d);
  return d;
}

/** The part of the DOM's Element these page functions use (the tests compile without the DOM library). */
interface DomElement {
  tagName: string;
  textContent: string | null;
  attributes: ArrayLike<{ name: string; value: string }> & Iterable<{ name: string; value: string }>;
  children: ArrayLike<DomElement> & Iterable<DomElement>;
  shadowRoot: { children: ArrayLike<DomElement> & Iterable<DomElement> } | null;
  matches(selector: string): boolean;
}

/** What the battery found on one surface. */
interface Finding {
  surface: string;
  payloadsShown: number;
  foreign: string[];
}

/**
 * Elements and attributes in `root` (and its shadow roots) that could act: links, images, scripts, iframes,
 * objects, svg, any `on*` attribute, and any URL attribute naming the loopback origin or a command/javascript URL.
 * `allowed` describes the elements that are ours (e.g. the dashboard's `a.location[href="#"]`).
 */
async function foreignElements(root: Locator, origin: string, allowed: string[]): Promise<string[]> {
  return root.evaluate(
    (node: DomElement, { origin, allowed }) => {
      const out: string[] = [];
      const visit = (el: DomElement) => {
        const tag = el.tagName.toLowerCase();
        const isAllowed = allowed.some((sel) => el.matches(sel));
        // VS Code draws its buttons and labels as <a> without a target: only an anchor that can navigate is a link.
        const isLink = tag === 'a' && [...el.attributes].some((a) => a.name === 'href' || a.name === 'data-href');
        if (
          (isLink || ['img', 'script', 'iframe', 'object', 'embed', 'svg', 'video', 'audio', 'form'].includes(tag)) &&
          !isAllowed
        ) {
          out.push(`<${tag} ${[...el.attributes].map((a) => `${a.name}="${a.value.slice(0, 80)}"`).join(' ')}>`);
        }
        for (const a of [...el.attributes]) {
          if (/^on/i.test(a.name)) out.push(`${tag}[${a.name}]`);
          if (
            ['href', 'src', 'data-href', 'action', 'formaction', 'xlink:href'].includes(a.name) &&
            (a.value.includes(origin) || /^(javascript|command):/i.test(a.value)) &&
            !isAllowed
          ) {
            out.push(`${tag}[${a.name}=${a.value.slice(0, 80)}]`);
          }
        }
        for (const child of [...el.children]) visit(child);
        if (el.shadowRoot) for (const child of [...el.shadowRoot.children]) visit(child);
      };
      visit(node);
      return out;
    },
    { origin, allowed },
  );
}

/** How many of `texts` appear (at least their first 20 characters, as text) in the element's rendered text. */
async function shownCount(root: Locator, texts: string[]): Promise<number> {
  const rendered = await root.innerText();
  return texts.filter((t) => rendered.includes(t.slice(0, 20))).length;
}

/** Runs a palette command if the palette offers it (a disabled command may be hidden); either way nothing else. */
async function runIfOffered(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  await input.fill(`>${title}`);
  await page.waitForTimeout(800);
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
  if (await row.count()) await row.click();
  else await page.keyboard.press('Escape');
  await page.waitForTimeout(1500);
}

async function openFile(page: Page, name: string): Promise<void> {
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  await input.fill(name);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor({ timeout: UI_TIMEOUT });
  await page.keyboard.press('Enter');
  await page.locator('.tab.active', { hasText: name }).waitFor({ timeout: UI_TIMEOUT });
}

async function clearNotifications(page: Page): Promise<void> {
  await runCommand(page, 'Notifications: Clear All Notifications');
  await page.waitForTimeout(300);
}

const terminals = (page: Page) => page.locator('.terminal-outer-container, .xterm').count();

test('payload dataset → Fine-tune BERT → every surface shows the data as inert text', async () => {
  fs.mkdirSync(OUT, { recursive: true });
  if (
    !fs.existsSync(path.join(REPO_ROOT, 'dist', 'extension.js')) ||
    !fs.existsSync(path.join(REPO_ROOT, 'dist', 'webview.js'))
  ) {
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build.mjs')], { cwd: REPO_ROOT, stdio: 'ignore' });
  }
  loopback = await new LoopbackServer({ root: tempDir('bertft-e2e-loopback-') }).start();
  const origin = loopback.url;
  const all = payloads(origin);
  const labels = all.filter((p) => p.label).map((p) => p.text);
  const findings: Finding[] = [];

  // The dataset: payload labels, payload texts, payload column names, a payload file name.
  const ws = tempDir('bertft-e2e-injection-');
  const textColumn = '[t](command:workbench.action.terminal.new) $(zap)';
  const labelColumn = `<img src="${origin}/column" onerror="fetch('${origin}/column-onerror')">`;
  const rows = [[textColumn, labelColumn].map(csvField).join(',')];
  labels.forEach((label, i) => {
    for (let k = 0; k < 4; k++)
      rows.push([csvField(`${all[(i + k) % all.length].text} example ${i}-${k}`), csvField(label)].join(','));
  });
  const dataName = '[spam](command:workbench.action.terminal.new) $(zap) \u202Egnp';
  assert.ok(isPosixFileName(dataName));
  fs.writeFileSync(path.join(ws, `${dataName}.csv`), rows.join('\n') + '\n');
  fs.writeFileSync(path.join(ws, 'sample.txt'), 'please classify this sentence about money and prizes.\n');
  // The workspace settings file exists from the start, so that the change written later is seen at once.
  fs.mkdirSync(path.join(ws, '.vscode'));
  fs.writeFileSync(path.join(ws, '.vscode', 'settings.json'), '{}\n');

  server = await startCodeServer({ logFile: path.join(OUT, 'injection-code-server.log') });
  browser = await launchChromium();
  const { page } = browser;
  try {
    await page.goto(devWorkbenchUrl(server, ws));
    await waitForBertContributions(page, UI_TIMEOUT);

    // Fine-tune BERT: the dataset quick pick shows the payload file name.
    await runCommand(page, 'BERT: Fine-tune BERT');
    const quickInput = page.locator('.quick-input-widget');
    await quickInput.locator('.quick-input-title', { hasText: /dataset/ }).waitFor({ timeout: UI_TIMEOUT });
    const dataRow = quickInput.locator('.quick-input-list .monaco-list-row', { hasText: '[spam]' }).first();
    await dataRow.waitFor({ timeout: UI_TIMEOUT });
    findings.push({
      surface: 'dataset quick pick',
      payloadsShown: 1,
      foreign: [
        ...(await foreignElements(dataRow, origin, [])),
        ...((await dataRow.locator('.codicon-zap').count()) ? ['a $(zap) icon from the file name'] : []),
      ],
    });
    await page.screenshot({ path: path.join(OUT, 'injection-dataset-pick.png') });
    await dataRow.click();

    // The columns cannot be detected: the input box's prompt lists the payload column names.
    await quickInput.locator('.quick-input-title', { hasText: /text column/ }).waitFor({ timeout: UI_TIMEOUT });
    const message = quickInput.locator('.quick-input-message');
    await message.waitFor({ timeout: UI_TIMEOUT });
    assert.match(await message.innerText(), /\[t\] \(command:workbench\.action\.terminal\.new\) \$\(zap\)/);
    findings.push({
      surface: 'input box prompt',
      payloadsShown: 2,
      foreign: [
        ...(await foreignElements(quickInput, origin, [])),
        ...((await message.locator('.codicon').count()) ? ['an icon in the prompt'] : []),
      ],
    });
    await page.screenshot({ path: path.join(OUT, 'injection-column-prompt.png') });
    const typeAnswer = async (text: string) => {
      await quickInput.locator('.quick-input-box input').fill(text);
      await page.keyboard.press('Enter');
      await page.waitForTimeout(300);
    };
    await typeAnswer(textColumn);
    await quickInput.locator('.quick-input-title', { hasText: /label column/ }).waitFor({ timeout: UI_TIMEOUT });
    await typeAnswer(labelColumn);

    // The dataset check warns (few examples per class): a modal dialog lists labels.
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: UI_TIMEOUT });
    findings.push({
      surface: 'dataset check dialog',
      payloadsShown: await shownCount(dialog, labels),
      foreign: await foreignElements(dialog, origin, ['a.monaco-button']),
    });
    await page.screenshot({ path: path.join(OUT, 'injection-check-dialog.png') });
    await dialog.locator('.monaco-button', { hasText: 'Train Anyway' }).click();

    const pick = async (title: RegExp, row: string) => {
      await quickInput.locator('.quick-input-title', { hasText: title }).waitFor({ timeout: UI_TIMEOUT });
      await quickInput.locator('.quick-input-box input').fill(row);
      await quickInput
        .locator('.quick-input-list .monaco-list-row', { hasText: row })
        .first()
        .waitFor({ timeout: UI_TIMEOUT });
      await page.keyboard.press('Enter');
    };
    await pick(/model/, 'Small random model');
    await pick(/settings/, 'Fast');
    await pick(/device/, 'CPU');
    await pick(/start training/, 'Start training');

    // The dashboard: every label in the confusion matrix, the per-class table and the configuration.
    const view = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
    await view.locator('#phase', { hasText: /^(finished|failed)$/ }).waitFor({ timeout: TRAIN_TIMEOUT });
    assert.equal(await view.locator('#problem').innerText(), '', 'the run finished');
    const body = view.locator('body');
    findings.push({
      surface: 'dashboard',
      payloadsShown: await shownCount(body, labels),
      foreign: await foreignElements(body, origin, ['a.location[href="#"]', 'script[nonce]']),
    });
    const perClass = await view
      .locator('#per-class tbody')
      .evaluate((tbody: DomElement) =>
        [...tbody.children].map((tr) => [...tr.children].map((td) => td.textContent ?? '')),
      );
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const row = perClass.find((cells) => cells[0] === name);
      assert.ok(row, `the ${name} label has its own row`);
      assert.ok(!row.includes('–'), `the ${name} label has metrics: ${row.join(' | ')}`);
    }
    // A cell with misclassified examples lists payload texts.
    const offDiagonal = view.locator('#confusion button.cell.off').filter({ hasNotText: /^0$/ }).first();
    if (await offDiagonal.count()) {
      await offDiagonal.click();
      await view.locator('#examples').waitFor({ timeout: UI_TIMEOUT });
      findings.push({
        surface: 'misclassified examples',
        payloadsShown: await shownCount(
          view.locator('#examples'),
          all.map((p) => p.text),
        ),
        foreign: await foreignElements(view.locator('#examples'), origin, ['a.location[href="#"]']),
      });
    }
    await page.screenshot({ path: path.join(OUT, 'injection-dashboard.png') });
    await view.locator('#per-class').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(OUT, 'injection-dashboard-labels.png') });
    const longCell = view.locator('#per-class .label', { hasText: 'long-xxx' }).first();
    const box = await longCell.boundingBox();
    assert.ok(box && box.width < 600, `the 5000-character label is cut (${box?.width}px wide)`);

    // Classify with this model, then Classify Selection on a sentence: the toast names payload labels.
    await view.locator('#classify').click();
    await page
      .locator('.notifications-toasts .notification-toast', { hasText: 'classifying with' })
      .waitFor({ timeout: UI_TIMEOUT });
    await clearNotifications(page);
    await openFile(page, 'sample.txt');
    await page.locator('.monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+A');
    await runCommand(page, 'BERT: Classify Selection');
    const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'BERT ' }).first();
    await toast.waitFor({ timeout: UI_TIMEOUT });
    findings.push({
      surface: 'Classify Selection toast',
      payloadsShown: await shownCount(toast, labels),
      foreign: await foreignElements(toast.locator('.notification-list-item-message'), origin, []),
    });
    await page.waitForTimeout(800); // the toast slides in
    await page.screenshot({ path: path.join(OUT, 'injection-classify-toast.png') });
    // The original repro: click what looks like the label. Nothing may run.
    const terminalsBefore = await terminals(page);
    await toast.locator('.notification-list-item-message').click();
    await page.waitForTimeout(1500);
    assert.equal(await terminals(page), terminalsBefore, 'clicking the classification toast opened no terminal');
    await clearNotifications(page);

    // The same model in a folder whose name is a payload, as the active model with the hover on.
    const runsRoot = path.join(ws, '.bert', 'runs');
    const [runName] = fs.readdirSync(runsRoot);
    const modelDirName = '[m](command:workbench.action.terminal.new) $(zap) \u202Eledom';
    fs.cpSync(path.join(runsRoot, runName, 'best'), path.join(ws, modelDirName), { recursive: true });
    modelOutside = path.join(tempDir('bertft-e2e-model-'), 'payload-model');
    fs.cpSync(path.join(runsRoot, runName, 'best'), modelOutside, { recursive: true });
    fs.writeFileSync(
      path.join(ws, '.vscode', 'settings.json'),
      JSON.stringify({
        'bert.activeModel': modelDirName,
        'bert.hover.enabled': true,
        'bert.hover.timeBudgetMs': 5000,
      }),
    );
    const toast2 = page.locator('.notifications-toasts .notification-toast', { hasText: '[m]' }).first();
    // Classify until the workbench has read the new setting (the toast then names the payload-named model).
    for (let attempt = 0; attempt < 8 && !(await toast2.isVisible()); attempt++) {
      await page.waitForTimeout(1500);
      await clearNotifications(page);
      await page.locator('.monaco-editor .view-lines').first().click();
      await page.keyboard.press('Control+A');
      await runCommand(page, 'BERT: Classify Selection');
      await toast2.waitFor({ timeout: 5000 }).catch(() => undefined);
    }
    await toast2.waitFor({ timeout: UI_TIMEOUT });
    findings.push({
      surface: 'Classify Selection toast (payload model folder)',
      payloadsShown: 1 + (await shownCount(toast2, labels)),
      foreign: await foreignElements(toast2.locator('.notification-list-item-message'), origin, []),
    });
    await clearNotifications(page);

    // The hover: label, bars, model name (a payload), and our dashboard link only.
    await page.keyboard.press('Escape');
    const word = page.locator('.view-lines .view-line span span', { hasText: 'money' }).first();
    const wordBox = await word.boundingBox();
    assert.ok(wordBox);
    await page.mouse.move(5, 5);
    await page.mouse.move(wordBox.x + wordBox.width / 2, wordBox.y + wordBox.height / 2, { steps: 4 });
    const hover = page.locator('.monaco-hover', { hasText: '█' }).first();
    await hover.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    findings.push({
      surface: 'hover',
      payloadsShown: 1 + (await shownCount(hover, labels)),
      foreign: await foreignElements(hover, origin, ['a[data-href^="command:bert.openDashboard?"]']),
    });
    assert.match(
      await hover.innerText(),
      /\[m\]\(command:workbench\.action\.terminal\.new\) \$\(zap\) \\u202Eledom/,
      'the model folder name shows as text',
    );
    await page.screenshot({ path: path.join(OUT, 'injection-hover.png') });
    await page.mouse.move(5, 5);

    // The Runs view: a run folder named with a payload, its row and its tooltip.
    const runPayloadName = '$(zap) [r](command:workbench.action.terminal.new) \u202Enur';
    fs.cpSync(path.join(runsRoot, runName), path.join(runsRoot, runPayloadName), { recursive: true });
    // The Runs view watches its folder: the copied run appears without a refresh.
    await page
      .locator('.activitybar .action-item a[aria-label*="BERT"]')
      .first()
      .click()
      .catch(() => undefined);
    const runRow = page.locator('.monaco-list-row', { hasText: '[r] (command' }).first();
    await runRow.waitFor({ timeout: UI_TIMEOUT });
    findings.push({
      surface: 'Runs view row',
      payloadsShown: 1,
      foreign: [
        ...(await foreignElements(runRow, origin, [])),
        ...((await runRow.locator('.codicon-zap').count()) ? ['a $(zap) icon from the run name'] : []),
      ],
    });
    await runRow.hover();
    const tooltip = page.locator('.monaco-hover, .workbench-hover', { hasText: 'Status:' }).first();
    if (
      await tooltip.waitFor({ timeout: 10_000 }).then(
        () => true,
        () => false,
      )
    ) {
      findings.push({
        surface: 'Runs view tooltip',
        payloadsShown: 1,
        foreign: await foreignElements(tooltip, origin, []),
      });
      await page.screenshot({ path: path.join(OUT, 'injection-runs-view.png') });
    }
    await page.mouse.move(5, 5);

    // Predict Dataset on a file whose columns cannot be detected: a quick pick offers its payload column names.
    fs.writeFileSync(
      path.join(ws, 'unlabelled.csv'),
      `${[textColumn, labelColumn].map(csvField).join(',')}\n"a","b"\n`,
    );
    await runCommand(page, 'View: Show Explorer');
    const fileRow = page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'unlabelled.csv' }).first();
    await fileRow.waitFor({ timeout: UI_TIMEOUT });
    await fileRow.click({ button: 'right' });
    const menuItem = page.locator('.monaco-menu .action-item', { hasText: 'Predict Dataset' }).first();
    await menuItem.hover();
    await page.keyboard.press('Enter');
    await quickInput.locator('.quick-input-title', { hasText: /text column/ }).waitFor({ timeout: UI_TIMEOUT });
    const columnList = quickInput.locator('.quick-input-list');
    await columnList.locator('.monaco-list-row', { hasText: '[t] (command' }).first().waitFor({ timeout: UI_TIMEOUT });
    findings.push({
      surface: 'Predict Dataset column pick',
      payloadsShown: await shownCount(
        columnList,
        [textColumn, labelColumn].map((c) => c.replace('](', '] (')),
      ),
      foreign: [
        ...(await foreignElements(columnList, origin, [])),
        ...((await columnList.locator('.codicon-zap').count()) ? ['a $(zap) icon from a column name'] : []),
      ],
    });
    await page.screenshot({ path: path.join(OUT, 'injection-predict-columns.png') });
    await page.keyboard.press('Escape');

    const pairs = findings.reduce((n, f) => n + f.payloadsShown, 0);
    const foreign = findings.flatMap((f) => f.foreign.map((e) => `${f.surface}: ${e}`));
    console.log(
      `injection battery (workbench): ${all.length} payloads, ${findings.length} surfaces, ${pairs} payload × surface showings; ` +
        `elements from data: ${foreign.length}; loopback requests: ${loopback.requests.length}`,
    );
    for (const f of findings) console.log(`  ${f.surface}: ${f.payloadsShown} shown, ${f.foreign.length} foreign`);
    assert.deepEqual(foreign, []);
    assert.deepEqual(
      loopback.requests.map((r) => r.path),
      [],
      'no payload URL was requested',
    );
    assert.ok(
      findings.find((f) => f.surface === 'dashboard')!.payloadsShown >= 25,
      'the dashboard showed the payload labels',
    );
  } catch (e) {
    await page.screenshot({ path: path.join(OUT, 'injection-failure.png') }).catch(() => undefined);
    throw e;
  }
});

test('Restricted Mode: a planted workspace is not read; classifying with a model from the user settings works', async () => {
  assert.ok(modelOutside, 'the first test trained a model');
  await browser?.close();
  await server?.stop();
  browser = undefined;
  server = undefined;
  // A planted run whose metrics.jsonl names a process of ours as its trainer: Stop would kill it if it were read.
  const victim = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)'], { stdio: 'ignore' });
  const ws = tempDir('bertft-e2e-restricted-');
  const planted = path.join(ws, '.bert', 'runs', 'planted');
  fs.mkdirSync(planted, { recursive: true });
  fs.writeFileSync(
    path.join(planted, 'metrics.jsonl'),
    `${JSON.stringify({
      event: 'started',
      time: new Date().toISOString(),
      run_dir: planted,
      pid: victim.pid,
      config: {},
      device: 'cpu',
      device_notes: [],
      dataset: { train_rows: 1, valid_rows: 1, labels: [], label_counts: {}, files: [] },
      total_steps: 1000,
    })}\n`,
  );
  fs.writeFileSync(path.join(ws, 'data.csv'), 'text,label\na,x\nb,y\nc,x\nd,y\n');
  fs.writeFileSync(path.join(ws, 'sample.txt'), 'some words to classify\n');
  server = await startCodeServer({
    logFile: path.join(OUT, 'restricted-code-server.log'),
    workspaceTrust: true,
    userSettings: { 'bert.activeModel': modelOutside },
  });
  browser = await launchChromium();
  const { page } = browser;
  try {
    await page.goto(devWorkbenchUrl(server, ws));
    await waitForBertContributions(page, UI_TIMEOUT);
    await page
      .locator('.statusbar-item', { hasText: /Restricted Mode/ })
      .first()
      .waitFor({ timeout: UI_TIMEOUT });
    await page.waitForTimeout(2000);
    assert.doesNotMatch(
      await page.locator('.statusbar').innerText(),
      /BERT: \d+%|training/,
      'the planted run is not followed',
    );

    // Fine-tune BERT is not offered (or refuses); no run is started.
    await runIfOffered(page, 'BERT: Fine-tune BERT');
    assert.equal(
      await page.locator('.quick-input-widget .quick-input-title', { hasText: /dataset/ }).count(),
      0,
      'the flow did not start',
    );
    assert.deepEqual(fs.readdirSync(path.join(ws, '.bert', 'runs')), ['planted']);

    // Stop Training through the palette (if offered) does not reach the planted pid.
    await runIfOffered(page, 'BERT: Stop Training');
    assert.equal(victim.exitCode, null, 'the planted pid is alive');
    assert.equal(victim.signalCode, null);

    // Classifying with the model from the user settings works.
    await openFile(page, 'sample.txt');
    await page.locator('.monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+A');
    await runCommand(page, 'BERT: Classify Selection');
    await page
      .locator('.notifications-toasts .notification-toast', { hasText: 'BERT payload-model' })
      .first()
      .waitFor({ timeout: UI_TIMEOUT });
    await page.screenshot({ path: path.join(OUT, 'injection-restricted.png') });
  } catch (e) {
    await page.screenshot({ path: path.join(OUT, 'injection-restricted-failure.png') }).catch(() => undefined);
    throw e;
  } finally {
    victim.kill();
  }
});
