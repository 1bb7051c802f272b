/**
 * Runs the mocha suite in test/integration/suite INSIDE the extension host of a real VS Code (code-server), with this
 * repository loaded as the development extension, the way @vscode/test-electron does for desktop VS Code.
 *
 * How: code-server's workbench reads a `payload` URL parameter ([["extensionDevelopmentPath", uri],
 * ["extensionTestsPath", uri]]). The Node extension host loads the extension from the repository, requires the test
 * module and awaits its run(); when that settles the workbench calls window.codeAutomationExit(code), which we
 * expose to the page with playwright and turn into this process's exit code.
 *
 * usage (after `npm run compile && npm run build`): node out/test/integration/runInVsCode.js
 */
import fs from 'node:fs';
import path from 'node:path';
import util from 'node:util';
import { launchChromium } from '../e2e/harness/browser';
import { REPO_ROOT, TEST_OUTPUT, startCodeServer } from '../e2e/harness/codeServer';
import { tempFolder } from '../helpers/temp';

// The suites take 1.5-4 min on this 2-core machine, quiet to loaded (the pre-training stop/resume test alone up to 2
// min); the bound is well above that, since it costs time only when something hangs.
const TIMEOUT_MS = Number(process.env.BERTFT_INTEGRATION_TIMEOUT_MS ?? 900_000);
/** Workbench chatter that is expected offline or under automation (BERTFT_VERBOSE=1 shows it). */
const NOISE =
  /^(Creation of workbench contribution|Creating a socket|Resolv(ing|ed) connection token|Updating additional builtin|ChatSessionStore|Overwriting extension|The web worker extension host is started|An iframe which has both|Found unexpected service worker|\[Service Worker\] registered)|Failed to load resource|open-vsx\.org/;

async function main(): Promise<number> {
  const started = Date.now();
  const say = (...m: unknown[]): void =>
    console.log(`[integration +${((Date.now() - started) / 1000).toFixed(1)}s]`, ...m);
  if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'extension.js'))) {
    throw new Error('dist/extension.js is missing. Run: npm run build');
  }
  const testsPath = path.join(__dirname, 'suite', 'index.js');
  const outputDir = path.join(TEST_OUTPUT, 'integration');
  fs.mkdirSync(outputDir, { recursive: true });
  const workspace = tempFolder('bertft-integration-ws-');
  fs.copyFileSync(
    path.join(REPO_ROOT, 'test', 'integration', 'workspace', 'reviews.csv'),
    path.join(workspace, 'reviews.csv'),
  );

  const server = await startCodeServer({ logFile: path.join(outputDir, 'code-server.log') });
  say('code-server up at', server.url);
  const browser = await launchChromium();
  try {
    const { page } = browser;
    const exitCode = new Promise<number>((resolve) => {
      void page.exposeFunction('codeAutomationExit', (code: number) => resolve(code));
    });
    // The extension host forwards its console (mocha's spec reporter) to the page as console.log('%c INFO', css, ...).
    page.on('console', async (message) => {
      let text: string;
      try {
        let values: unknown[] = await Promise.all(message.args().map((a) => a.jsonValue()));
        if (typeof values[0] === 'string' && values[0].startsWith('%c') && values.length >= 3) values = values.slice(2);
        text = util.format(...values);
      } catch {
        text = message.text();
      }
      text = text.replace(/^\s*(INFO|WARN|ERR|TRACE|DEBUG)\s?/, '');
      if (text.trim() && (process.env.BERTFT_VERBOSE || !NOISE.test(text))) console.log(`  ${text}`);
    });
    page.on('pageerror', (e) => say('page error:', String(e)));

    const host = new URL(server.url).host;
    const remote = (p: string): string => `vscode-remote://${host}${p}`;
    const payload = [
      ['extensionDevelopmentPath', remote(REPO_ROOT)],
      ['extensionTestsPath', remote(testsPath)],
      ['skipWelcome', 'true'],
      ['skipReleaseNotes', 'true'],
    ];
    const query = new URLSearchParams({ folder: workspace, payload: JSON.stringify(payload) });
    await page.goto(`${server.url}/?${query.toString()}`);
    const code = await Promise.race([
      exitCode,
      new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), TIMEOUT_MS).unref()),
    ]);
    if (code === 'timeout') {
      say(`no result after ${TIMEOUT_MS} ms`);
      await page.screenshot({ path: path.join(outputDir, 'timeout.png') }).catch(() => undefined);
      return 1;
    }
    say(`extension host tests finished with exit code ${code}`);
    return code;
  } finally {
    await browser.close();
    await server.stop();
    fs.rmSync(workspace, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`integration: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
