import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseBertConfig } from '../../../src/core/model/config';
import { encoderParamSpecs, initWeights } from '../../../src/core/model/params';
import { writeSafetensors } from '../../../src/core/model/safetensors';
import { loadTokenizer } from '../../../src/core/tokenize/tokenizer';
import { tempDir } from '../runner/fixtures';
import { tinyConfigJson } from './tiny-models';

const ROOT = path.join(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'out', 'src', 'cli.js');
/**
 * A SentencePiece BPE model in XLM-R's file name and ids, 2,000 pieces trained mostly on English with some German,
 * French, Japanese … sentences (bench/reference/make_tokenizer_fixtures.py): its pieces cover German and French words,
 * but not every accented letter nor Japanese script (those become <unk>), so the texts below are German and French.
 */
const SPM = path.join(ROOT, 'test', 'fixtures', 'tokenizers', 'xlm-roberta', 'sentencepiece.bpe.model');
const UNK = 3;

/** Reviews in German and French: [text, label] (the number keeps rows apart). */
function reviews(count: number): [string, string][] {
  const de = {
    things: ['Film', 'Buch', 'Essen', 'Konzert'],
    pos: 'wunderbar und schön',
    neg: 'schrecklich und langweilig',
  };
  const fr = {
    things: ['film', 'livre', 'repas', 'concert'],
    pos: 'magnifique et très beau',
    neg: 'horrible et très ennuyeux',
  };
  const rows: [string, string][] = [];
  for (let i = 0; i < count; i++) {
    const pos = i % 2 === 0;
    const k = Math.floor(i / 4) % 4;
    const label = pos ? 'pos' : 'neg';
    if (Math.floor(i / 2) % 2 === 0) rows.push([`Das ${de.things[k]} war ${pos ? de.pos : de.neg} ${i}.`, label]);
    else rows.push([`Le ${fr.things[k]} était ${pos ? fr.pos : fr.neg} ${i}.`, label]);
  }
  return rows;
}

test('XLM-R (RoBERTa family, SentencePiece tokenizer) tokenizes German and French, trains, and predicts', async () => {
  const dir = tempDir('xlm-r');
  const model = path.join(dir, 'tiny-xlm-r');
  fs.mkdirSync(model);
  fs.copyFileSync(SPM, path.join(model, 'sentencepiece.bpe.model'));

  const tok = await loadTokenizer(model);
  assert.deepEqual([tok.prefixIds, tok.suffixIds], [[0], [2]], '<s> … </s> as XLM-R writes them');
  const rows = reviews(64);
  for (const [text] of rows.slice(0, 8)) {
    const ids = tok.tokenIds(text);
    // Words are pieces of the vocabulary; only the accented letters the fixture's pieces lack may be <unk>.
    const accented = [...text].filter((c) => c.codePointAt(0)! > 127).length;
    const unknown = ids.filter((id) => id === UNK).length;
    assert.ok(ids.length > 5 && unknown <= accented, `${text}: ${ids.join(' ')}`);
  }
  assert.deepEqual(tok.tokenIds('Das Buch war schrecklich und langweilig.').includes(UNK), false);

  const json = tinyConfigJson('xlm-roberta', { vocab_size: tok.vocabSize, max_position_embeddings: 66 });
  fs.writeFileSync(path.join(model, 'config.json'), JSON.stringify(json));
  const weights = initWeights(encoderParamSpecs(parseBertConfig(json)), 3, 0.02);
  weights.set('lm_head.bias', { shape: [1], data: new Float32Array(1) });
  await writeSafetensors(path.join(model, 'model.safetensors'), weights, { format: 'pt' });

  const data = path.join(dir, 'reviews.csv');
  const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;
  fs.writeFileSync(data, ['text,label', ...rows.map(([t, l]) => `${quote(t)},${l}`)].join('\n') + '\n');
  const out = path.join(dir, 'run');
  const env = { ...process.env, BERTFT_TRAINING_CHILD: '1' };
  const train = spawnSync(
    process.execPath,
    [
      ...[
        CLI,
        'train',
        '--json',
        '--data',
        data,
        '--out',
        out,
        '--model',
        model,
        '--max-steps',
        '80',
        '--epochs',
        '10',
      ],
      ...['--batch-size', '8', '--max-length', '48', '--lr', '3e-3', '--no-dropout', '--seed', '1', '--device', 'cpu'],
    ],
    { encoding: 'utf8', env },
  );
  assert.equal(train.status, 0, train.stderr);
  const events = train.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; metrics?: Record<string, number>; loss?: number });
  assert.equal(events[events.length - 1].event, 'done');
  const evals = events.filter((e) => e.event === 'eval');
  assert.ok(evals.length > 0);

  const best = path.join(out, 'best');
  const config = JSON.parse(fs.readFileSync(path.join(best, 'config.json'), 'utf8')) as {
    architectures: string[];
    model_type: string;
  };
  assert.deepEqual([config.model_type, config.architectures], ['xlm-roberta', ['XLMRobertaForSequenceClassification']]);
  assert.ok(fs.existsSync(path.join(best, 'tokenizer.json')), 'the converted tokenizer is saved with the model');

  const held = [
    ['Das Konzert war wunderbar und schön.', 'pos'],
    ['Das Essen war schrecklich und langweilig.', 'neg'],
    ['Le livre était magnifique et très beau.', 'pos'],
    ['Le repas était horrible et très ennuyeux.', 'neg'],
  ];
  const predict = spawnSync(
    process.execPath,
    [CLI, 'predict', '--model', out, '--json', ...held.flatMap(([t]) => ['--text', t])],
    { encoding: 'utf8', env },
  );
  assert.equal(predict.status, 0, predict.stderr);
  const labels = predict.stdout
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { label: string }).label);
  assert.deepEqual(
    labels,
    held.map(([, label]) => label),
  );
});
