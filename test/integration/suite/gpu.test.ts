import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { InstallCudaResult } from '../../../src/extension/gpu';
import { CUDA_PROVIDER_FILES } from '../../../src/core/runtime/cuda-provider';
import { fakeNupkg, fakeProviderLibraries, publishFakeFeed } from '../../helpers/fake-nuget';
import { startLoopbackServer, type LoopbackServer } from '../../helpers/loopback-server';
import { tempFolder } from '../../helpers/temp';

suite('Install CUDA Support (from a loopback NuGet feed)', () => {
  let root: string;
  let server: LoopbackServer;

  suiteSetup(async () => {
    root = tempFolder('bertft-cuda-ext-');
    server = await startLoopbackServer({ root });
    await vscode.extensions.getExtension('bertft.bert-finetune')!.activate();
  });

  suiteTeardown(async () => {
    await server.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  test('downloads, verifies and places the provider libraries, then reports what the CUDA runtime still lacks', async () => {
    const targetDir = fs.mkdtempSync(path.join(root, 'ort-bin-'));
    const feed = publishFakeFeed(root, server.url, 'feed', fakeNupkg(), true);
    const result = await vscode.commands.executeCommand<InstallCudaResult | undefined>('bert.installCuda', {
      feed,
      targetDir,
    });
    assert.ok(result, 'the command reported a failure');
    assert.equal(result.installed.verifiedBy, 'sha512');
    for (const f of CUDA_PROVIDER_FILES)
      assert.ok(fs.readFileSync(path.join(targetDir, f.name)).equals(fakeProviderLibraries.get(f.name)!));
    // This test machine has no NVIDIA driver: the check says what is missing instead of claiming success.
    assert.equal(result.runtimeOk, false);
    assert.match(result.runtimeMessage, /libcuda\.so\.1/);
  });

  test('a feed that cannot be reached fails with a message and places nothing', async () => {
    const targetDir = fs.mkdtempSync(path.join(root, 'ort-bin-'));
    const closed = await startLoopbackServer({ root });
    const feed = `${closed.url}/index.json`;
    await closed.close();
    const result = await vscode.commands.executeCommand<InstallCudaResult | undefined>('bert.installCuda', {
      feed,
      targetDir,
    });
    assert.equal(result, undefined);
    assert.deepEqual(fs.readdirSync(targetDir), []);
  });
});
