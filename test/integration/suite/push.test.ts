/**
 * "BERT: Push Model to Hugging Face Hub" in the real extension host, against the loopback Hub of the unit tests
 * (test/helpers/hub-push-server.ts): the token set with "Set Hugging Face Token" (SecretStorage) is the one the Hub
 * receives, the repository is created private with every file of the run's best/ byte for byte, and a 500 in the
 * middle of the upload is an error in the log that says nothing was committed, with the run folder unchanged.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { BertExtensionApi } from '../../../src/extension/extension';
import type { PushResult } from '../../../src/core/model/hub-push';
import { runTrainingSession } from '../../../src/core/finetune/session';
import { folderSnapshot, startHubPushServer, type HubPushServer } from '../../helpers/hub-push-server';
import { writeSentimentCsv } from '../../unit/runner/fixtures';
import { eventually } from '../eventually';
import { tempFolder } from '../../helpers/temp';

const TOKEN = 'hf_PushIntegration0123456789abcdef';
const HUB_VARS = ['HF_ENDPOINT', 'HF_TOKEN', 'HF_TOKEN_PATH'];

suite('Push Model to Hugging Face Hub (loopback Hub)', function () {
  this.timeout(120_000);
  const saved = new Map<string, string | undefined>();
  let api: BertExtensionApi;
  let hub: HubPushServer;
  let scratch: string;
  let run: string;

  const bertLog = (): string => {
    const file = path.join(api.logUri.fsPath, 'BERT.log');
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  };

  suiteSetup(async () => {
    api = await vscode.extensions.getExtension<BertExtensionApi>('bertft.bert-finetune')!.activate();
    scratch = tempFolder('bertft-push-ext-');
    run = path.join(scratch, 'run');
    await runTrainingSession(
      {
        data: writeSentimentCsv(scratch, 16),
        out: run,
        model: 'random:tiny',
        maxSteps: 1,
        batchSize: 4,
        maxLength: 16,
        device: 'cpu',
      },
      { emit: () => {}, shouldStop: () => false },
    );
    hub = await startHubPushServer({ accounts: { [TOKEN]: { name: 'alice', role: 'write' } } });
    for (const name of HUB_VARS) saved.set(name, process.env[name]);
    delete process.env.HF_TOKEN;
    process.env.HF_TOKEN_PATH = path.join(scratch, 'no-token-file');
    process.env.HF_ENDPOINT = hub.url;
    assert.equal(await vscode.commands.executeCommand('bert.setHubToken', { token: TOKEN }), 'stored');
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('bert.clearHubToken');
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await hub?.close();
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  test('pushes the run’s best/ with the stored token: a private repo holding every file byte for byte', async () => {
    const before = folderSnapshot(run);
    const result = await vscode.commands.executeCommand<PushResult | undefined>('bert.pushToHub', {
      model: run,
      repo: 'vscode-model',
      private: true,
    });
    assert.ok(result, 'the command failed (see the BERT log)');
    assert.equal(result.repoId, 'alice/vscode-model');
    assert.equal(result.url, `${hub.url}/alice/vscode-model`);
    const repo = hub.repos.get('alice/vscode-model');
    assert.ok(repo);
    assert.equal(repo.private, true);
    const best = path.join(run, 'best');
    const files = repo.commits[0].files;
    assert.ok(files.has('model.safetensors') && files.has('README.md') && files.has('onnx/model.onnx'));
    for (const [name, bytes] of files) assert.ok(bytes.equals(fs.readFileSync(path.join(best, name))), name);
    assert.equal(files.size, result.files.length);
    for (const r of hub.requests.filter((x) => x.path.startsWith('/api/')))
      assert.equal(r.headers.authorization, `Bearer ${TOKEN}`, r.path);
    assert.deepEqual(folderSnapshot(run), before);
    assert.ok(!bertLog().includes(TOKEN), 'the token is in the BERT log');
  });

  test('a 500 in the middle of the upload: the error says nothing was committed; the run folder is unchanged', async () => {
    const before = folderSnapshot(run);
    hub.failures.push({ method: 'PUT', path: /^\/lfs-/, status: 500, times: 100 });
    const result = await vscode.commands.executeCommand('bert.pushToHub', {
      model: run,
      repo: 'alice/flaky',
      private: false,
    });
    hub.failures = [];
    assert.equal(result, undefined);
    assert.equal(hub.repos.get('alice/flaky')?.commits.length, 0);
    const log = await eventually(bertLog, (text) => text.includes('bert.pushToHub failed'));
    assert.match(log, /bert\.pushToHub failed: The push to alice\/flaky failed: .* answered HTTP 500/);
    assert.match(log, /Nothing was committed to alice\/flaky\. Your model at .*best is unchanged\./);
    assert.match(log, /Fix: Run the same push again/);
    assert.deepEqual(folderSnapshot(run), before);
  });
});
