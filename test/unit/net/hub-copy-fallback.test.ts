import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolveModel } from '../../../src/core/model/hub';
import { loadModelDir } from '../../../src/core/model/load';
import { readSafetensors } from '../../../src/core/model/safetensors';
import { loadTokenizer } from '../../../src/core/tokenize/tokenizer';
import { startLoopbackServer } from '../../helpers/loopback-server';
import { publishTinyCheckpoint } from '../families/tiny-models';
import { tempDir } from './tiny-hub';

/** What fs.symlink says on Windows without Developer Mode or the privilege to create symbolic links. */
function forbiddenSymlink(calls: string[]) {
  return (target: string, file: string): Promise<void> => {
    calls.push(file);
    const error = Object.assign(new Error(`EPERM: operation not permitted, symlink '${target}' -> '${file}'`), {
      code: 'EPERM',
      syscall: 'symlink',
    });
    return Promise.reject(error);
  };
}

test('where symlinks are forbidden (EPERM) the Hub cache holds copies of the blobs, and the model loads from it', async () => {
  const dir = tempDir('hub-no-symlinks');
  const hubRoot = path.join(dir, 'hub');
  const id = await publishTinyCheckpoint(hubRoot, 'distilbert');
  const server = await startLoopbackServer({ root: hubRoot });
  const env = { HF_HOME: path.join(dir, 'home'), HF_ENDPOINT: server.url };
  const symlinkCalls: string[] = [];
  let resolved;
  try {
    resolved = await resolveModel(id, { env, symlink: forbiddenSymlink(symlinkCalls) });
  } finally {
    await server.close();
  }
  assert.ok(resolved.kind === 'hub');
  assert.deepEqual(
    symlinkCalls.map((f) => path.dirname(f)),
    resolved.files.map(() => resolved.dir),
    'a link was tried for every file',
  );
  const blobs = path.join(resolved.dir, '..', '..', 'blobs');
  for (const name of resolved.files) {
    const file = path.join(resolved.dir, name);
    assert.ok(fs.lstatSync(file).isFile(), `${name} is a plain file`);
    const published = fs.readFileSync(path.join(hubRoot, id, name));
    assert.ok(fs.readFileSync(file).equals(published), `${name} has the published bytes`);
  }
  assert.equal(fs.readdirSync(blobs).length, resolved.files.length, 'the blobs stay, as huggingface_hub keeps them');
  assert.deepEqual(
    fs.readdirSync(resolved.dir).sort(),
    [...resolved.files].sort(),
    'no temporary file is left in the snapshot',
  );

  // The model and its tokenizer load from the copies, and the weights are the published ones.
  const loaded = await loadModelDir(resolved.dir, 2, 1);
  assert.equal(loaded.config.modelType, 'distilbert');
  const published = await readSafetensors(path.join(hubRoot, id, 'model.safetensors'));
  const embeddings = [...published.keys()].find((k) => k.endsWith('word_embeddings.weight'))!;
  const ours = [...loaded.weights].find(([k]) => k.endsWith('word_embeddings.weight'))![1];
  assert.deepEqual(ours.data, published.get(embeddings)!.data);
  const tokenizer = await loadTokenizer(resolved.dir);
  assert.ok(tokenizer.vocabSize > 5);

  // Offline, the copied snapshot is a complete cache entry.
  const again = await resolveModel(id, { env: { ...env, HF_HUB_OFFLINE: '1' } });
  assert.deepEqual(again, resolved);
});
