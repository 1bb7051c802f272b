/**
 * `bertft pretrain` end to end for the non-BERT families: a tiny checkpoint published on the loopback Hub (RoBERTa and
 * DistilBERT with their MLM heads, ELECTRA as a discriminator whose generator head starts fresh), pre-trained with
 * whole-word masking, then `bertft train --model <that run>` fine-tunes it and `bertft predict` classifies.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readSafetensorsHeader } from '../../../src/core/model/safetensors';
import { startLoopbackServer } from '../../helpers/loopback-server';
import { tempDir, writeSentimentCsv } from '../runner/fixtures';
import { bertftAsync, hubEnv, publishTinyCheckpoint, type HubFamily } from '../families/tiny-models';

const EXPECTED: Record<HubFamily, { mlm: string; classifier: string; head: string[] }> = {
  roberta: {
    mlm: 'RobertaForMaskedLM',
    classifier: 'RobertaForSequenceClassification',
    head: [
      'lm_head.bias',
      'lm_head.dense.bias',
      'lm_head.dense.weight',
      'lm_head.layer_norm.bias',
      'lm_head.layer_norm.weight',
    ],
  },
  distilbert: {
    mlm: 'DistilBertForMaskedLM',
    classifier: 'DistilBertForSequenceClassification',
    head: [
      'vocab_layer_norm.bias',
      'vocab_layer_norm.weight',
      'vocab_projector.bias',
      'vocab_transform.bias',
      'vocab_transform.weight',
    ],
  },
  electra: {
    mlm: 'ElectraForMaskedLM',
    classifier: 'ElectraForSequenceClassification',
    head: [
      'generator_lm_head.bias',
      'generator_predictions.LayerNorm.bias',
      'generator_predictions.LayerNorm.weight',
      'generator_predictions.dense.bias',
      'generator_predictions.dense.weight',
    ],
  },
};

/** The fields of the `--json` events read below: `task` and `config` on started, `metric_name`, `final_step` on done. */
interface CliEvent {
  event: string;
  task?: string;
  config: Record<string, unknown>;
  step: number;
  loss: number;
  masked_tokens: number;
  metric_name: string;
  final_step: number;
}
const events = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as CliEvent)
    .filter((e) => e.event !== 'log');

for (const family of ['roberta', 'distilbert', 'electra'] as const) {
  test(`bertft pretrain --model <hub id> of a tiny ${family}, then train --model <that run> and predict`, async () => {
    const dir = tempDir(`cli-pretrain-${family}`);
    const data = writeSentimentCsv(dir, 64);
    const hubRoot = path.join(dir, 'hub');
    const id = await publishTinyCheckpoint(hubRoot, family, { mlmHead: family !== 'electra' });
    const server = await startLoopbackServer({ root: hubRoot });
    const run = path.join(dir, 'mlm');
    let pretrain;
    try {
      pretrain = await bertftAsync(
        hubEnv(server.url, dir),
        'pretrain',
        '--json',
        '--data',
        data,
        '--out',
        run,
        '--model',
        id,
        '--max-steps',
        '6',
        '--eval-steps',
        '3',
        '--batch-size',
        '8',
        '--max-length',
        '24',
        '--whole-word',
        '--lr',
        '1e-3',
        '--seed',
        '1',
        '--device',
        'cpu',
      );
    } finally {
      await server.close();
    }
    assert.equal(pretrain.status, 0, pretrain.stderr);
    const log = events(pretrain.stdout);
    assert.deepEqual([log[0].event, log[0].task, log[0].config.wholeWordMasking], ['started', 'mlm', true]);
    assert.deepEqual(
      log.filter((e) => e.event === 'step').map((e) => e.step),
      [1, 2, 3, 4, 5, 6],
    );
    const evals = log.filter((e) => e.event === 'eval');
    assert.deepEqual(
      evals.map((e) => [e.step, e.task]),
      [
        [3, 'mlm'],
        [6, 'mlm'],
      ],
    );
    for (const e of evals) assert.ok(Number.isFinite(e.loss) && e.masked_tokens > 0, JSON.stringify(e));
    const done = log[log.length - 1];
    assert.deepEqual([done.event, done.metric_name, done.final_step], ['done', 'mlm_loss', 6]);

    const best = path.join(run, 'best');
    const config = JSON.parse(fs.readFileSync(path.join(best, 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(
      [config.architectures, config.model_type, config.tie_word_embeddings],
      [[EXPECTED[family].mlm], family, true],
    );
    const names = (await readSafetensorsHeader(path.join(best, 'model.safetensors'))).entries.map((e) => e.name);
    assert.deepEqual(names.filter((n) => !n.startsWith(`${family}.`)).sort(), EXPECTED[family].head);
    assert.ok(
      !names.some(
        (n) =>
          n.includes('pooler') ||
          n.includes('decoder') ||
          n.includes('vocab_projector.weight') ||
          n.includes('generator_lm_head.weight'),
      ),
      names.join(', '),
    );
    assert.ok(fs.existsSync(path.join(best, 'tokenizer.json')));

    const ft = path.join(dir, 'ft');
    const train = await bertftAsync(
      {},
      'train',
      '--json',
      '--data',
      data,
      '--out',
      ft,
      '--model',
      run,
      '--max-steps',
      '4',
      '--batch-size',
      '8',
      '--max-length',
      '24',
      '--no-dropout',
      '--seed',
      '1',
      '--device',
      'cpu',
    );
    assert.equal(train.status, 0, train.stderr);
    assert.equal(events(train.stdout).pop()?.event, 'done');
    const ftConfig = JSON.parse(fs.readFileSync(path.join(ft, 'best', 'config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    assert.deepEqual([ftConfig.architectures, ftConfig.model_type], [[EXPECTED[family].classifier], family]);

    const predict = await bertftAsync(
      {},
      'predict',
      '--model',
      ft,
      '--json',
      '--text',
      'the movie was great',
      '--text',
      'the plot was awful',
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
