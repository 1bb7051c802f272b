/**
 * Token explanations in the real workbench (VS Code 1.100 in code-server, Chromium): a tiny model trained here is the
 * active model; BERT: Explain Selection on a sentence colours its tokens (theme colours, both signs: exactly the
 * tokens and levels of the same explanation computed in-process) with a legend, says the top tokens in a
 * notification; Classify Selection and the hover over the sentence add "toward <label>: …". Screenshots:
 * test-output/e2e/explain-dark.png, explain-light.png (the same decorations in a light theme), explain-hover.png and
 * explain-readme.png (the README's docs/images/explain.png). Then the README's transformers.js usage on the same run's
 * best/: a script with `pipeline('text-classification', …)` run with node in the integrated terminal prints our
 * predictor's label and score (transformers-js.png, the README's docs/images/transformers-js.png).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { launchChromium, openPaletteAt, type Browser } from './harness/browser';
import { REPO_ROOT, TEST_OUTPUT, startCodeServer, type CodeServer, devWorkbenchUrl } from './harness/codeServer';
import { runTrainingSession } from '../../src/core/finetune/session';
import { loadExplainer } from '../../src/core/infer/explain';
import { loadPredictor } from '../../src/core/infer/predictor';
import { attributionLevel } from '../../src/extension/inference/text';
import { writeSentimentCsv } from '../unit/runner/fixtures';
import { TINY_RUN_SETTINGS } from '../helpers/tiny-run';
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

test('Explain Selection colours the tokens with a legend; Classify Selection and the hover name the top tokens', async () => {
  fs.mkdirSync(OUT, { recursive: true });
  if (
    !fs.existsSync(path.join(REPO_ROOT, 'dist', 'inferenceWorker.js')) ||
    !fs.existsSync(path.join(REPO_ROOT, 'dist', 'extension.js'))
  ) {
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build.mjs')], { cwd: REPO_ROOT, stdio: 'ignore' });
  }
  const ws = tempFolder('bertft-e2e-explain-');
  temps.push(ws);
  const data = writeSentimentCsv(fs.mkdtempSync(path.join(ws, 'data-')), 96);
  await runTrainingSession(
    { data, out: path.join(ws, '.bert', 'runs', 'explain-run'), ...TINY_RUN_SETTINGS },
    { emit: () => {}, shouldStop: () => false },
  );
  fs.mkdirSync(path.join(ws, '.vscode'));
  const settings = {
    'bert.activeModel': '.bert/runs/explain-run',
    'bert.hover.enabled': true,
    // Generous: the first explanation also builds the explanation session in the worker.
    'bert.hover.timeBudgetMs': 5000,
    // The terminal of the transformers.js step: drawn as DOM (its text can be read), a plain bash with a short prompt.
    'terminal.integrated.gpuAcceleration': 'off',
    'terminal.integrated.shellIntegration.enabled': false,
    'terminal.integrated.profiles.linux': {
      bash: { path: 'bash', args: ['--norc', '--noprofile'], env: { PS1: '$ ' } },
    },
    'terminal.integrated.defaultProfile.linux': 'bash',
  };
  fs.writeFileSync(path.join(ws, '.vscode', 'settings.json'), JSON.stringify(settings));
  const SENTENCE = 'The acting was awful and boring, but the music was superb.';
  fs.writeFileSync(path.join(ws, 'notes.txt'), `${SENTENCE}\n\nMore notes.\n`);
  // The README's transformers.js usage, as a user runs it in the workspace (@huggingface/transformers from ours).
  fs.writeFileSync(
    path.join(ws, 'classify.mjs'),
    [
      "import { env, pipeline } from '@huggingface/transformers';",
      '',
      "env.localModelPath = '.bert/runs/explain-run';",
      'env.allowRemoteModels = false;',
      "const classify = await pipeline('text-classification', 'best');",
      `console.log(await classify(${JSON.stringify(SENTENCE)}));`,
      '',
    ].join('\n'),
  );
  fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(ws, 'node_modules'), 'junction');
  // What the colours must show: the levels of the same explanation computed here, in-process.
  const explainer = await loadExplainer(path.join(ws, '.bert', 'runs', 'explain-run'));
  const expected = await explainer.explain(SENTENCE);
  await explainer.dispose();
  const maxAbs = Math.max(...expected.tokens.map((t) => Math.abs(t.score)));
  const levels = new Set(expected.tokens.map((t) => attributionLevel(t.score, maxAbs)).filter((l) => l !== undefined));
  // The premise of "both signs": this sentence has tokens coloured toward the label and against it.
  assert.ok([...levels].some((l) => l.startsWith('toward')) && [...levels].some((l) => l.startsWith('against')));
  const colouredTokens = expected.tokens.filter((t) => attributionLevel(t.score, maxAbs) !== undefined).length;
  console.log(
    `explanation: ${expected.label}; ${expected.tokens.map((t) => `${t.token} ${t.score.toFixed(3)}`).join(', ')}`,
  );

  server = await startCodeServer({ logFile: path.join(OUT, 'explain-code-server.log') });
  browser = await launchChromium();
  const { page } = browser;
  await page.setViewportSize({ width: 1400, height: 700 });
  await page.goto(devWorkbenchUrl(server, ws));
  await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: UI_TIMEOUT });
  await page.locator('.statusbar-item', { hasText: /BERT/ }).first().waitFor({ timeout: UI_TIMEOUT });

  const quickInput = page.locator('.quick-input-widget');
  const openFile = async (name: string): Promise<void> => {
    await page.keyboard.press('Control+P');
    await quickInput.locator('.quick-input-box input').fill(name);
    await quickInput
      .locator('.quick-input-list .monaco-list-row', { hasText: name })
      .first()
      .waitFor({ timeout: UI_TIMEOUT });
    await page.keyboard.press('Enter');
    await page.locator('.tab.active', { hasText: name }).waitFor({ timeout: UI_TIMEOUT });
  };
  await openFile('notes.txt');

  const selectSentence = async (): Promise<void> => {
    await page.locator('.view-lines .view-line', { hasText: 'acting' }).first().click();
    await page.keyboard.press('Home');
    await page.keyboard.press('Shift+End');
  };
  const runCommand = async (title: string): Promise<void> => {
    await selectSentence();
    const rows = await openPaletteAt(page, `>${title}`, title, UI_TIMEOUT);
    await rows.filter({ hasText: title }).first().click();
  };
  const setTheme = async (name: string, themeClass: string): Promise<void> => {
    await page.locator('.part.statusbar').hover();
    await page.keyboard.press('F1');
    await quickInput.locator('.quick-input-box input').fill('>Preferences: Color Theme');
    await quickInput
      .locator('.quick-input-list .monaco-list-row', { hasText: 'Preferences: Color Theme' })
      .first()
      .click();
    await quickInput.locator('.quick-input-box input').fill(name);
    await quickInput
      .locator('.quick-input-list .monaco-list-row', { hasText: name })
      .first()
      .waitFor({ timeout: UI_TIMEOUT });
    await page.keyboard.press('Enter');
    await page.waitForFunction(
      `document.querySelector('.monaco-workbench')?.classList.contains(${JSON.stringify(themeClass)})`,
      undefined,
      { timeout: UI_TIMEOUT },
    );
  };
  await setTheme('Dark Modern', 'vs-dark');
  const toast = (text: RegExp) => page.locator('.notifications-toasts .notification-toast', { hasText: text }).first();
  const clearNotifications = async (): Promise<void> => {
    await page.keyboard.press('F1');
    await quickInput.locator('.quick-input-box input').fill('>Notifications: Clear All Notifications');
    await page.keyboard.press('Enter');
  };

  // Classify Selection: the label, then the tokens pushing toward it.
  await runCommand('BERT: Classify Selection');
  const classified = toast(/BERT explain-run: (pos|neg) \(/);
  await classified.waitFor({ timeout: UI_TIMEOUT });
  const classifiedText = await classified.innerText();
  assert.match(classifiedText, /— toward (pos|neg): \S+ \+\d\.\d{3}/, classifiedText);
  await clearNotifications();

  // Explain Selection: coloured tokens, the legend, the notification with the top tokens.
  await runCommand('BERT: Explain Selection');
  const explained = toast(/BERT explain-run: (pos|neg)\. Toward it:/);
  await explained.waitFor({ timeout: UI_TIMEOUT });
  const label = /: (pos|neg)\./.exec(await explained.innerText())![1];
  const COLOURED = '.monaco-editor .view-overlays .cdr[class*="ced-"]';
  const coloured = page.locator(COLOURED);
  // Evaluated in the page (a string: this file is compiled without the DOM's types).
  const backgroundsOf = () =>
    page.evaluate<string[]>(
      `[...document.querySelectorAll(${JSON.stringify(COLOURED)})].map((e) => getComputedStyle(e).backgroundColor)`,
    );
  await coloured.first().waitFor({ timeout: UI_TIMEOUT });
  const count = await coloured.count();
  // Every token whose level is set is coloured (plus the legend's anchor), in one colour per level.
  assert.equal(count, colouredTokens + 1, `${count} decorations for ${colouredTokens} tokens`);
  const backgrounds = new Set((await backgroundsOf()).filter((b) => b !== 'rgba(0, 0, 0, 0)'));
  assert.equal(
    backgrounds.size,
    levels.size,
    `backgrounds ${[...backgrounds].join(', ')} for ${[...levels].join(', ')}`,
  );
  // The legend is drawn after the selection (a decoration's CSS content).
  const legend = await page.evaluate<string | undefined>(
    `[...document.querySelectorAll('.view-lines .view-line span')]
      .map((e) => getComputedStyle(e, '::after').content)
      .find((c) => c.includes('green toward it'))`,
  );
  assert.ok(legend?.includes(`BERT → ${label}: green toward it`), `legend: ${legend}`);
  assert.equal(label, expected.label);
  // Collapse the selection so the colours show as they are; hide the side bar so the legend shows whole.
  await page.keyboard.press('Escape');
  await page.keyboard.press('End');
  await page.keyboard.press('Control+B');
  await page.mouse.move(5, 5);
  await page.screenshot({ path: path.join(OUT, 'explain-dark.png') });
  const darkBackgrounds = (await backgroundsOf()).sort();

  // The same decorations in a light theme: theme colours, so they follow it.
  await setTheme('Light Modern', 'vs');
  const lightBackgrounds = (await backgroundsOf()).sort();
  assert.equal(lightBackgrounds.length, darkBackgrounds.length);
  assert.notDeepEqual(lightBackgrounds, darkBackgrounds, 'the light theme has its own colours');
  await page.screenshot({ path: path.join(OUT, 'explain-light.png') });

  // The hover over the sentence adds the tokens pushing toward the label.
  await page.keyboard.press('Escape');
  const word = page.locator('.view-lines .view-line span span', { hasText: 'acting' }).first();
  const box = await word.boundingBox();
  assert.ok(box);
  const hover = page.locator('.monaco-hover', { hasText: '█' }).first();
  for (let attempt = 0; attempt < 10 && !(await hover.isVisible()); attempt++) {
    await page.mouse.move(5, 5);
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 4 });
    await hover.waitFor({ state: 'visible', timeout: 3000 }).catch(() => undefined);
  }
  await hover.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  const hoverText = await hover.innerText();
  assert.match(hoverText, new RegExp(`Toward ${label}: \\S+ \\+\\d\\.\\d{3}`), hoverText);
  // Only tokens that Explain Selection colours are named (no +0.001 noise).
  const named = hoverText.slice(hoverText.indexOf('Toward')).split('\n')[0];
  for (const m of named.matchAll(/\+(\d\.\d{3})/g)) assert.ok(Number(m[1]) >= 0.1 * maxAbs - 5e-4, named);
  await page.screenshot({ path: path.join(OUT, 'explain-hover.png') });
  // The README's picture (docs/images/explain.png): the coloured line, its legend and the hover.
  await page.screenshot({
    path: path.join(OUT, 'explain-readme.png'),
    clip: { x: 48, y: 70, width: 1180, height: 180 },
  });

  // transformers.js on the same best/, in the integrated terminal: the label and score of our predictor.
  const predictor = await loadPredictor(path.join(ws, '.bert', 'runs', 'explain-run'), { device: 'cpu' });
  const [ours] = await predictor.predict([SENTENCE]);
  await predictor.dispose();
  await page.mouse.move(5, 5);
  await openFile('classify.mjs');
  await page.keyboard.press('F1');
  await quickInput.locator('.quick-input-box input').fill('>Terminal: Create New Terminal');
  await quickInput
    .locator('.quick-input-list .monaco-list-row', { hasText: 'Terminal: Create New Terminal' })
    .first()
    .click();
  const terminal = page.locator('.terminal-wrapper.active .xterm-rows');
  const terminalText = async (): Promise<string> => (await terminal.innerText()).replace(/\u00a0/g, ' ');
  await page.waitForFunction(
    `document.querySelector('.terminal-wrapper.active .xterm-rows')?.textContent.includes('$')`,
    undefined,
    { timeout: UI_TIMEOUT },
  );
  await page.keyboard.type('node classify.mjs');
  await page.keyboard.press('Enter');
  await page.waitForFunction(
    `/score: [0-9]/.test(document.querySelector('.terminal-wrapper.active .xterm-rows')?.textContent ?? '')`,
    undefined,
    { timeout: UI_TIMEOUT },
  );
  const printed = await terminalText();
  const m = /\[ \{ label: '([^']+)', score: ([0-9.e-]+) \} \]/.exec(printed);
  assert.ok(m, printed);
  assert.equal(m[1], ours.label, printed);
  assert.ok(Math.abs(Number(m[2]) - ours.score) < 1e-4, `transformers.js ${m[2]} vs bertft ${ours.score}`);
  await page.mouse.move(5, 5);
  await page.screenshot({ path: path.join(OUT, 'transformers-js.png') });
});
