import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readSafetensorsHeader } from '../../../src/core/model/safetensors';
import { startLoopbackServer } from '../../helpers/loopback-server';
import { tempDir, writeSentimentCsv } from '../runner/fixtures';
import { WORDS, bertftAsync, hubEnv, publishTinyCheckpoint as publish } from './tiny-models';

const ROOT = path.join(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'out', 'src', 'cli.js');

const ARCH = {
  distilbert: 'DistilBertForSequenceClassification',
  roberta: 'RobertaForSequenceClassification',
  electra: 'ElectraForSequenceClassification',
};

for (const family of ['distilbert', 'roberta', 'electra'] as const) {
  test(`bertft train --model <hub id> of a tiny ${family}, then predict`, async () => {
    const dir = tempDir(`cli-${family}`);
    const data = writeSentimentCsv(dir, 64);
    const hubRoot = path.join(dir, 'hub');
    const id = await publish(hubRoot, family);
    const server = await startLoopbackServer({ root: hubRoot });
    const out = path.join(dir, 'run');
    let train;
    try {
      train = await bertftAsync(
        hubEnv(server.url, dir),
        'train',
        '--json',
        '--data',
        data,
        '--out',
        out,
        '--model',
        id,
        '--max-steps',
        '40',
        '--batch-size',
        '8',
        '--max-length',
        '24',
        '--lr',
        '3e-3',
        '--no-dropout',
        '--seed',
        '1',
        '--device',
        'cpu',
      );
    } finally {
      await server.close();
    }
    assert.equal(train.status, 0, train.stderr);
    const events = train.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string });
    assert.equal(events[events.length - 1].event, 'done');
    assert.ok(events.some((e) => e.event === 'eval'));

    const best = path.join(out, 'best');
    const config = JSON.parse(fs.readFileSync(path.join(best, 'config.json'), 'utf8')) as {
      architectures: string[];
      model_type: string;
    };
    assert.deepEqual(config.architectures, [ARCH[family]]);
    assert.equal(config.model_type, family);
    const names = (await readSafetensorsHeader(path.join(best, 'model.safetensors'))).entries.map((e) => e.name);
    assert.ok(
      names.every((n) => n.startsWith(`${family}.`) || n.startsWith('classifier.') || n.startsWith('pre_classifier.')),
      names.join(', '),
    );
    assert.ok(!names.some((n) => n.startsWith('lm_head') || n.startsWith('vocab_') || n.startsWith('discriminator')));

    const predict = spawnSync(
      process.execPath,
      [CLI, 'predict', '--model', out, '--json', '--text', 'the movie was great', '--text', 'the plot was awful'],
      { encoding: 'utf8' },
    );
    assert.equal(predict.status, 0, predict.stderr);
    const predictions = predict.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { label: string });
    assert.equal(predictions.length, 2);
    for (const p of predictions) assert.ok(['pos', 'neg'].includes(p.label), JSON.stringify(p));
  });
}

test('bertft train on a RoBERTa whose position table is the limit: texts longer than it fit max_position_embeddings − pad − 1 tokens', async () => {
  const dir = tempDir('cli-roberta-positions');
  // 60-word texts: longer than the 40-entry position table, so the fast preset's length estimate hits the cap.
  const rows = ['text,label'];
  for (let i = 0; i < 48; i++) {
    const good = i % 2 === 0;
    const words = Array.from(
      { length: 60 },
      (_, k) => WORDS[(i * 7 + k * (good ? 3 : 5)) % (good ? 18 : WORDS.length)],
    );
    rows.push(`"${words.join(' ')}",${good ? 'pos' : 'neg'}`);
  }
  const data = path.join(dir, 'long.csv');
  fs.writeFileSync(data, rows.join('\n') + '\n');
  const hubRoot = path.join(dir, 'hub');
  const id = await publish(hubRoot, 'roberta');
  const server = await startLoopbackServer({ root: hubRoot });
  const out = path.join(dir, 'run');
  let train;
  try {
    train = await bertftAsync(
      hubEnv(server.url, dir),
      'train',
      '--json',
      '--data',
      data,
      '--out',
      out,
      '--model',
      id,
      '--max-steps',
      '4',
      '--batch-size',
      '8',
      '--no-dropout',
      '--device',
      'cpu',
    );
  } finally {
    await server.close();
  }
  assert.equal(train.status, 0, train.stderr);
  const started = train.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; config: Record<string, unknown> })
    .find((e) => e.event === 'started');
  assert.equal(started?.config.max_length ?? started?.config.maxLength, 38);
});
