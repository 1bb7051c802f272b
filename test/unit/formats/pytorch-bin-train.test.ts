/**
 * End to end: `bertft train --model <folder with config.json + pytorch_model.bin + vocab.txt>` (the committed fixture
 * written by torch.save) trains, and its best/ is model.safetensors that loads back; `bertft pretrain` starts from
 * the same folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadModelDir } from '../../../src/core/model/load';
import { readSafetensorsHeader } from '../../../src/core/model/safetensors';
import { writeSentimentCsv } from '../runner/fixtures';
import { tempFolder } from '../../helpers/temp';

const ROOT = path.join(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'out', 'src', 'cli.js');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'torch-bin');

function bertft(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, BERTFT_TRAINING_CHILD: '1', HF_HUB_OFFLINE: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

test('bertft train --model <a pytorch_model.bin folder> trains and writes best/ as safetensors', async () => {
  const dir = tempFolder('bertft-bin-train-');
  const model = path.join(dir, 'model');
  fs.mkdirSync(model);
  for (const f of ['config.json', 'vocab.txt', 'tokenizer_config.json', 'pytorch_model.bin']) {
    fs.copyFileSync(path.join(FIXTURES, f), path.join(model, f));
  }
  const data = writeSentimentCsv(dir, 32);
  const out = path.join(dir, 'run');
  const common = ['--max-steps', '4', '--batch-size', '8', '--max-length', '24', '--seed', '1', '--device', 'cpu'];
  const train = await bertft('train', '--json', '--data', data, '--out', out, '--model', model, ...common);
  assert.equal(train.status, 0, train.stderr);
  const events = train.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string });
  assert.equal(events.at(-1)?.event, 'done');

  const best = path.join(out, 'best');
  const files = fs.readdirSync(best);
  assert.ok(files.includes('model.safetensors'), files.join(', '));
  assert.ok(!files.some((f) => f.endsWith('.bin')), files.join(', '));
  const names = (await readSafetensorsHeader(path.join(best, 'model.safetensors'))).entries.map((e) => e.name);
  assert.ok(names.includes('bert.embeddings.word_embeddings.weight'));
  assert.ok(!names.some((n) => n.startsWith('cls.')), 'the pre-training head is left behind');
  const reloaded = await loadModelDir(best, 2, 0);
  assert.equal(reloaded.addedHead, false);

  const pretrained = path.join(dir, 'pretrained');
  const pretrain = await bertft('pretrain', '--json', '--data', data, '--out', pretrained, '--model', model, ...common);
  assert.equal(pretrain.status, 0, pretrain.stderr);
  assert.ok(fs.existsSync(path.join(pretrained, 'best', 'model.safetensors')));
});
