/**
 * Starts and stops a real VS Code for the integration and e2e tests: code-server 4.100.3 (VS Code 1.100.3 server,
 * web workbench and Node extension host), installed by scripts/vscode/setup.sh, on a free loopback port.
 * Runs in plain Node, outside VS Code.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { tempFolder } from '../../helpers/temp';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..', '..');
export const VSCODE_HOME = process.env.BERTFT_VSCODE_HOME ?? path.join(REPO_ROOT, '.vscode-test');
export const CODE_SERVER_ENTRY = path.join(
  VSCODE_HOME,
  'code-server',
  'node_modules',
  'code-server',
  'out',
  'node',
  'entry.js',
);
/** Screenshots, VSIX and logs from test runs (gitignored). */
export const TEST_OUTPUT = path.join(REPO_ROOT, 'test-output');

/** Settings that keep the workbench quiet and deterministic: no welcome page, tips, telemetry or update checks. */
const QUIET_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'workbench.enableExperiments': false,
  'chat.disableAIFeatures': true,
};

export function assertCodeServerInstalled(): void {
  if (!fs.existsSync(CODE_SERVER_ENTRY)) {
    throw new Error(`code-server is not installed at ${CODE_SERVER_ENTRY}. Run: bash scripts/vscode/setup.sh`);
  }
}

/** Runs code-server's CLI (e.g. --install-extension) against the given extensions folder; returns its stdout. */
export function codeServerCli(extensionsDir: string, args: string[]): string {
  assertCodeServerInstalled();
  return execFileSync(
    process.execPath,
    [CODE_SERVER_ENTRY, '--config', '/dev/null', '--extensions-dir', extensionsDir, ...args],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
}

export interface CodeServer {
  url: string;
  extensionsDir: string;
  userDataDir: string;
  logFile: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Extensions folder; a fresh temporary one when absent. */
  extensionsDir?: string;
  /** Extra environment for the server and its extension host. */
  env?: NodeJS.ProcessEnv;
  /** Where the server's output goes (kept after stop). */
  logFile: string;
  /**
   * Workspace trust on, without the start-up prompt: a folder opens in Restricted Mode. Default off (every test
   * workspace trusted).
   */
  workspaceTrust?: boolean;
  /** More user settings (merged over the quiet ones). */
  userSettings?: Record<string, unknown>;
}

export async function startCodeServer(options: StartOptions): Promise<CodeServer> {
  assertCodeServerInstalled();
  const temps: string[] = [];
  const tempDir = (prefix: string): string => {
    const d = tempFolder(prefix);
    temps.push(d);
    return d;
  };
  const userDataDir = tempDir('bertft-vscode-user-');
  const extensionsDir = options.extensionsDir ?? tempDir('bertft-vscode-ext-');
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  const trust = options.workspaceTrust
    ? { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never' }
    : {};
  fs.writeFileSync(
    path.join(userDataDir, 'User', 'settings.json'),
    JSON.stringify({ ...QUIET_SETTINGS, ...trust, ...options.userSettings }, null, 2),
  );
  fs.mkdirSync(path.dirname(options.logFile), { recursive: true });
  const out = fs.openSync(options.logFile, 'w');
  const port = await freePort();
  const args = [
    CODE_SERVER_ENTRY,
    '--config',
    '/dev/null', // never read or write ~/.config/code-server/config.yaml
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    ...(options.workspaceTrust ? [] : ['--disable-workspace-trust']),
    '--disable-getting-started-override',
    '--ignore-last-opened',
    '--user-data-dir',
    userDataDir,
    '--extensions-dir',
    extensionsDir,
  ];
  // The VS Code server leaves IPC sockets in TMPDIR: give it a private one that stop() removes.
  const proc: ChildProcess = spawn(process.execPath, args, {
    env: { ...process.env, ...options.env, TMPDIR: tempDir('bertft-vscode-tmp-') },
    stdio: ['ignore', out, out],
  });
  const url = `http://127.0.0.1:${port}`;
  const started = Date.now();
  while ((await httpStatus(`${url}/healthz`)) !== 200) {
    if (proc.exitCode !== null)
      throw new Error(`code-server exited early (code ${proc.exitCode}); see ${options.logFile}`);
    if (Date.now() - started > 60_000)
      throw new Error(`code-server did not answer /healthz within 60 s; see ${options.logFile}`);
    await sleep(200);
  }

  async function stop(): Promise<void> {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGTERM'); // its server and extension host children exit with it
      const force = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(force);
    }
    fs.closeSync(out);
    // Grandchildren (tsserver, git, the storage flush) may still write into these folders for a moment after the
    // server exits: a file created mid-removal makes rmdir fail with ENOTEMPTY, which the retries absorb, and the
    // second pass removes what was written after the first.
    for (const wait of [300, 1500]) {
      await sleep(wait);
      for (const d of temps) fs.rmSync(d, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    }
  }
  return { url, extensionsDir, userDataDir, logFile: options.logFile, stop };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    http
      .get(url, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', () => resolve(0));
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The workbench URL that opens `folder` with this repository as the development extension (no welcome page, no
 * release notes): what every e2e test that runs the extension from source navigates to.
 */
export function devWorkbenchUrl(server: CodeServer, folder: string): string {
  const host = new URL(server.url).host;
  const payload = [
    ['extensionDevelopmentPath', `vscode-remote://${host}${REPO_ROOT}`],
    ['skipWelcome', 'true'],
    ['skipReleaseNotes', 'true'],
  ];
  return `${server.url}/?${new URLSearchParams({ folder, payload: JSON.stringify(payload) }).toString()}`;
}
