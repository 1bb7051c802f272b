/**
 * "BERT: Set Hugging Face Token" / "Clear Hugging Face Token" in the real extension host: the token goes to
 * SecretStorage, a run started afterwards downloads a gated model from the loopback Hub in the trainer child (the Hub
 * answers 401 unless the Authorization header carries the token), and the token is in no file of the run folder and
 * not in the BERT log. After clearing it, a gated model fails with the command named in the error.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { BertExtensionApi } from '../../../src/extension/extension';
import type { HubTokenChange } from '../../../src/extension/network';
import { readMetricsLog } from '../../../src/core/run/metrics-log';
import { runTrainingSession } from '../../../src/core/finetune/session';
import { startLoopbackServer, type LoopbackServer } from '../../helpers/loopback-server';
import { writeSentimentCsv } from '../../unit/runner/fixtures';
import { eventually } from '../eventually';
import { tempFolder } from '../../helpers/temp';

const TOKEN = 'hf_IntegrationSecret0123456789abcdefXYZ';
const GATED = ['org/gated-a', 'org/gated-b', 'org/gated-c'];
const HUB_VARS = ['HF_ENDPOINT', 'HF_HUB_CACHE', 'HF_HOME', 'HF_TOKEN', 'HF_TOKEN_PATH', 'HF_HUB_OFFLINE'];
const SETTINGS: [string, unknown][] = [
  ['maxLength', 16],
  ['batchSize', 2],
  ['device', 'cpu'],
];

/** The bytes of `file`, or none when it is gone: the trainer removes its run lock as it exits, after its `done`. */
function bytesIfPresent(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0);
    throw e;
  }
}

/** Files under `dir` whose bytes contain `secret`. */
function filesContaining(dir: string, secret: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return filesContaining(full, secret);
    return entry.isFile() && bytesIfPresent(full).includes(secret) ? [full] : [];
  });
}

suite('Hugging Face token in SecretStorage, handed to the trainer child', function () {
  this.timeout(180_000);
  const root = (): string => vscode.workspace.workspaceFolders![0].uri.fsPath;
  const bert = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('bert');
  const saved = new Map<string, string | undefined>();
  let api: BertExtensionApi;
  let hub: LoopbackServer;
  let scratch: string;
  let notes: string;

  /** Pre-trains `model` through the command and waits for the run's last event. */
  async function pretrain(model: string): Promise<{ runDir: string; last: ReturnType<typeof readMetricsLog>[number] }> {
    const runDir = await vscode.commands.executeCommand<string>('bert.pretrain', { data: notes, model });
    assert.ok(runDir, 'the command returns the run folder');
    const events = await eventually(
      () => readMetricsLog(path.join(runDir, 'metrics.jsonl')),
      (e) => e.some((x) => x.event === 'done' || x.event === 'error'),
      150_000,
    );
    return { runDir, last: events[events.length - 1] };
  }

  const bertLog = (): string => {
    const file = path.join(api.logUri.fsPath, 'BERT.log');
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  };

  suiteSetup(async () => {
    api = await vscode.extensions.getExtension<BertExtensionApi>('bertft.bert-finetune')!.activate();
    scratch = tempFolder('bertft-token-ext-');
    // A small BERT to publish: a short run's best/ folder (its MLM head starts fresh when pre-training).
    const seed = path.join(scratch, 'seed');
    await runTrainingSession(
      {
        data: writeSentimentCsv(scratch, 16),
        out: seed,
        model: 'random:tiny',
        maxSteps: 1,
        batchSize: 4,
        maxLength: 16,
        device: 'cpu',
      },
      { emit: () => {}, shouldStop: () => false },
    );
    for (const id of GATED) {
      const repo = path.join(scratch, 'hub', id);
      fs.mkdirSync(repo, { recursive: true });
      for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'])
        fs.copyFileSync(path.join(seed, 'best', f), path.join(repo, f));
    }
    hub = await startLoopbackServer({
      root: path.join(scratch, 'hub'),
      gated: Object.fromEntries(GATED.map((id) => [id, TOKEN])),
    });
    // The trainer child inherits this extension host's environment: the loopback Hub and an empty cache.
    for (const name of HUB_VARS) saved.set(name, process.env[name]);
    for (const name of HUB_VARS) delete process.env[name];
    process.env.HF_ENDPOINT = hub.url;
    process.env.HF_HOME = path.join(scratch, 'hf-home');
    notes = path.join(root(), 'token-notes');
    fs.mkdirSync(notes, { recursive: true });
    for (let i = 0; i < 6; i++)
      fs.writeFileSync(
        path.join(notes, `n${i}.txt`),
        `The meeting ${i} moved to Friday and the notes go out on Monday.`,
      );
    for (const [key, value] of SETTINGS) await bert().update(key, value, vscode.ConfigurationTarget.Workspace);
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('bert.clearHubToken');
    for (const [key] of SETTINGS) await bert().update(key, undefined, vscode.ConfigurationTarget.Workspace);
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await hub.close();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    // The status bar follows the failed run last started here; the next suites expect it idle. A finished run sends
    // no more events, so once its last one has been shown, idle stays.
    await new Promise((r) => setTimeout(r, 1500));
    api.statusBar.set({ kind: 'idle' });
  });

  test('Set Hugging Face Token: a run downloads the gated model with it; the token is in no run file and not in the BERT log', async () => {
    assert.equal(await vscode.commands.executeCommand<HubTokenChange>('bert.setHubToken', { token: TOKEN }), 'stored');
    const { runDir, last } = await pretrain(GATED[0]);
    assert.equal(last?.event, 'done', JSON.stringify(last));
    const resolves = hub.requests.filter((r) => r.path.startsWith(`/${GATED[0]}/resolve/`));
    assert.ok(resolves.length > 0, 'the trainer child asked the Hub');
    for (const r of resolves) assert.equal(r.headers.authorization, `Bearer ${TOKEN}`);

    assert.deepEqual(filesContaining(runDir, TOKEN), []);
    const log = await eventually(bertLog, (text) => text.includes(path.basename(runDir)), 20_000);
    assert.ok(log.includes('Hugging Face token stored'), 'the log says a token was stored');
    assert.ok(!log.includes(TOKEN) && !log.includes(TOKEN.slice(3, 15)), 'the BERT log holds the token');
  });

  test('a token with a line break is refused, and the stored one is kept', async () => {
    const bad = `${TOKEN.slice(0, 10)}\nX-Injected: 1`;
    assert.equal(await vscode.commands.executeCommand('bert.setHubToken', { token: bad }), undefined);
    const log = await eventually(bertLog, (text) => text.includes('bert.setHubToken failed'), 20_000);
    assert.ok(!log.includes('X-Injected'), 'the refusal quotes the token');
    hub.requests.length = 0;
    const { last } = await pretrain(GATED[1]);
    assert.equal(last?.event, 'done', `the stored token still applies: ${JSON.stringify(last)}`);
    assert.ok(hub.requests.some((r) => r.headers.authorization === `Bearer ${TOKEN}`));
  });

  test('Clear Hugging Face Token: a gated model then fails, naming the command, with no token anywhere', async () => {
    assert.equal(await vscode.commands.executeCommand<HubTokenChange>('bert.clearHubToken'), 'cleared');
    hub.requests.length = 0;
    const { runDir, last } = await pretrain(GATED[2]);
    assert.equal(last?.event, 'error', JSON.stringify(last));
    assert.ok(last.event === 'error');
    assert.match(last.message, /gated or private, so a Hugging Face token is needed/);
    assert.match(last.message, /BERT: Set Hugging Face Token/);
    assert.ok(hub.requests.length > 0 && hub.requests.every((r) => r.headers.authorization === undefined));
    assert.deepEqual(filesContaining(runDir, TOKEN), []);
    assert.ok(!bertLog().includes(TOKEN));
  });
});
