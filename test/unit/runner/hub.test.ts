import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startLoopbackServer } from '../../helpers/loopback-server';
import { runTrainingSession } from '../../../src/core/finetune/session';
import type { HubProgress } from '../../../src/core/model/hub';
import { tempDir, writeSentimentCsv } from './fixtures';

test('--model <hub id> downloads through the Hub client (progress reported, HF cache layout) and fine-tunes it', async () => {
  const dir = tempDir('hub');
  const data = writeSentimentCsv(dir);
  // A small pretrained model to publish: a short run's best/ folder, served as the Hub repo "org/tiny-bert".
  const seedRun = path.join(dir, 'seed-run');
  await runTrainingSession(
    { data, out: seedRun, model: 'random:tiny', maxSteps: 2, batchSize: 8, maxLength: 16, device: 'cpu' },
    { emit: () => {}, shouldStop: () => false },
  );
  const repo = path.join(dir, 'hub', 'org', 'tiny-bert');
  fs.mkdirSync(repo, { recursive: true });
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'])
    fs.copyFileSync(path.join(seedRun, 'best', f), path.join(repo, f));

  const server = await startLoopbackServer({ root: path.join(dir, 'hub') });
  const cache = path.join(dir, 'cache');
  process.env.HF_ENDPOINT = server.url;
  process.env.HF_HUB_CACHE = cache;
  delete process.env.HF_HUB_OFFLINE;
  try {
    const progress: HubProgress[] = [];
    const out = path.join(dir, 'run');
    const done = await runTrainingSession(
      { data, out, model: 'org/tiny-bert', maxSteps: 2, batchSize: 8, maxLength: 16, device: 'cpu' },
      { emit: () => {}, shouldStop: () => false, onDownload: (p) => progress.push(p) },
    );
    assert.equal(done.final_step, 2);
    assert.ok(
      progress.some((p) => p.file === 'model.safetensors'),
      'download progress is reported',
    );
    assert.ok(fs.existsSync(path.join(cache, 'models--org--tiny-bert', 'snapshots')));
    const run = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')) as {
      model: { spec: string; dir: string };
    };
    assert.equal(run.model.spec, 'org/tiny-bert');
    assert.match(run.model.dir, /models--org--tiny-bert[\\/]snapshots[\\/]/);
    const config = JSON.parse(fs.readFileSync(path.join(out, 'best', 'config.json'), 'utf8')) as {
      hidden_size: number;
    };
    assert.equal(config.hidden_size, 64);
  } finally {
    await server.close();
    delete process.env.HF_ENDPOINT;
    delete process.env.HF_HUB_CACHE;
  }
});
