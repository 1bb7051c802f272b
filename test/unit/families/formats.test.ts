/**
 * The weight-format matrix (#24): every model family from a tiny checkpoint in each weight format it is published in
 * on the Hub, through the real CLI. test/fixtures/formats/<family>/ (bench/reference/make_format_fixtures.py) holds
 * one base checkpoint per family, the same random tensors written in every format; here a model folder is assembled
 * per format with the family's tokenizer files, as the Hub's repositories ship them:
 *
 *   family       weights on the Hub                        tokenizer files here            e.g.
 *   BERT         model.safetensors, pytorch_model.bin,     vocab.txt                       bert-base-uncased, domain
 *                sharded safetensors (+ index)                                             BERTs with .bin only
 *   DistilBERT   model.safetensors, pytorch_model.bin      vocab.txt                       distilbert-base-uncased
 *   RoBERTa      model.safetensors, pytorch_model.bin      vocab.json + merges.txt         roberta-base
 *   XLM-R        model.safetensors, pytorch_model.bin      sentencepiece.bpe.model only    xlm-roberta-base
 *   ELECTRA      model.safetensors, pytorch_model.bin      vocab.txt                       google/electra-*-discriminator
 *   GPT-2        model.safetensors, pytorch_model.bin      vocab.json + merges.txt         gpt2
 *   ModernBERT   model.safetensors                         tokenizer.json                  answerdotai/ModernBERT-base
 *   DeBERTa-v3   pytorch_model.bin                         spm.model only                  microsoft/deberta-v3-base
 *
 * Per family: first every format in the fixture folder (also those the family is not published in, so that each
 * family has two to compare) loads the same tensors bit for bit and gives the same logits before training; then,
 * per published format, `bertft train` runs a few steps, best/ is exported to ONNX, and `bertft predict` reloads the
 * run and classifies; the runs of one family, started from the same weights and seed, predict the same scores.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadPredictor } from '../../../src/core/infer/predictor';
import { loadPreprocessor } from '../../../src/core/infer/preprocess';
import { writeQuantizedModelDir } from '../../../src/core/infer/quantize';
import { loadModelDir } from '../../../src/core/model/load';
import type { Weights } from '../../../src/core/model/params';
import { findWeights, SAFETENSORS_INDEX_FILE } from '../../../src/core/model/weights-file';
import type { Batch } from '../../../src/core/tokenize/batch';
import { createTrainEngine } from '../../../src/core/train/engine';
import { bertft, trainTinyFolder } from '../../helpers/bertft-cli';
import { HYPER } from '../engine/fixtures';
import { tempDir, writeSentimentCsv } from '../runner/fixtures';
import { modernbertTokenizerJson } from './tiny-models';

const FIXTURES = path.resolve(__dirname, '../../../../test/fixtures');

type Format = 'safetensors' | 'bin' | 'sharded';

interface FamilyCase {
  /** The folder under test/fixtures/formats. */
  name: string;
  /** The weight formats the family's models are published in on the Hub: one CLI run each. */
  published: Format[];
  /** Tokenizer files copied into the model folder (paths under test/fixtures), or the tokenizer.json to write. */
  tokenizer: string[] | (() => Record<string, unknown>);
  /** model_type and architectures of the run's best/config.json. */
  modelType: string;
  architecture: string;
}

const FAMILIES: FamilyCase[] = [
  {
    name: 'bert',
    published: ['safetensors', 'bin', 'sharded'],
    tokenizer: ['torch-bin/vocab.txt', 'torch-bin/tokenizer_config.json'],
    modelType: 'bert',
    architecture: 'BertForSequenceClassification',
  },
  {
    name: 'distilbert',
    published: ['safetensors', 'bin'],
    tokenizer: ['torch-bin/vocab.txt', 'torch-bin/tokenizer_config.json'],
    modelType: 'distilbert',
    architecture: 'DistilBertForSequenceClassification',
  },
  {
    name: 'roberta',
    published: ['safetensors', 'bin'],
    tokenizer: [
      'tokenizers/roberta/vocab.json',
      'tokenizers/roberta/merges.txt',
      'tokenizers/roberta/tokenizer_config.json',
    ],
    modelType: 'roberta',
    architecture: 'RobertaForSequenceClassification',
  },
  {
    name: 'xlm-roberta',
    published: ['safetensors', 'bin'],
    tokenizer: ['tokenizers/xlm-roberta/sentencepiece.bpe.model'],
    modelType: 'xlm-roberta',
    architecture: 'XLMRobertaForSequenceClassification',
  },
  {
    name: 'electra',
    published: ['safetensors', 'bin'],
    tokenizer: ['torch-bin/vocab.txt', 'torch-bin/tokenizer_config.json'],
    modelType: 'electra',
    architecture: 'ElectraForSequenceClassification',
  },
  {
    name: 'gpt2',
    published: ['safetensors', 'bin'],
    tokenizer: ['tokenizers/gpt2/vocab.json', 'tokenizers/gpt2/merges.txt'],
    modelType: 'gpt2',
    architecture: 'GPT2ForSequenceClassification',
  },
  {
    name: 'modernbert',
    published: ['safetensors'],
    tokenizer: modernbertTokenizerJson,
    modelType: 'modernbert',
    architecture: 'ModernBertForSequenceClassification',
  },
  {
    name: 'deberta-v3',
    published: ['bin'],
    tokenizer: ['tokenizers/deberta-v3/spm.model'],
    modelType: 'deberta-v2',
    architecture: 'DebertaV2ForSequenceClassification',
  },
];

const SEED = 1;
const MAX_LENGTH = 24;
const TEXTS = ['the movie was great', 'the plot was awful and truly boring', 'a lovely cast'];

/** The weight files of `format` in a fixture folder (none when the fixture lacks that format). */
function weightFiles(fixture: string, format: Format): string[] {
  const has = (name: string) => fs.existsSync(path.join(fixture, name));
  if (format === 'safetensors') return has('model.safetensors') ? ['model.safetensors'] : [];
  if (format === 'bin') return has('pytorch_model.bin') ? ['pytorch_model.bin'] : [];
  if (!has(SAFETENSORS_INDEX_FILE)) return [];
  const index = JSON.parse(fs.readFileSync(path.join(fixture, SAFETENSORS_INDEX_FILE), 'utf8')) as {
    weight_map: Record<string, string>;
  };
  return [SAFETENSORS_INDEX_FILE, ...new Set(Object.values(index.weight_map))];
}

/** A model folder as the Hub ships `family` in `format`: config.json, that format's weights, the tokenizer files. */
function assembleModel(family: FamilyCase, format: Format, root: string): string {
  const fixture = path.join(FIXTURES, 'formats', family.name);
  const dir = path.join(root, `${family.name}-${format}`);
  fs.mkdirSync(dir, { recursive: true });
  const weights = weightFiles(fixture, format);
  assert.ok(weights.length > 0, `test/fixtures/formats/${family.name} has no ${format} weights`);
  for (const name of ['config.json', ...weights]) fs.copyFileSync(path.join(fixture, name), path.join(dir, name));
  if (typeof family.tokenizer === 'function') {
    fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(family.tokenizer()));
  } else {
    for (const file of family.tokenizer)
      fs.copyFileSync(path.join(FIXTURES, file), path.join(dir, path.basename(file)));
  }
  return dir;
}

/** TEXTS as one evaluation batch, through the preprocessing training and prediction share. */
async function textBatch(dir: string): Promise<Batch> {
  const preprocessor = await loadPreprocessor(dir);
  const settings = { maxLength: MAX_LENGTH, truncation: 'head' as const, evalBatchSize: TEXTS.length };
  const batches = preprocessor.evalBatches(preprocessor.encode(TEXTS, settings), settings);
  assert.equal(batches.length, 1);
  return batches[0];
}

/** The classifier's logits of TEXTS before training, from the folder loaded as training loads it (2 labels). */
async function logitsBeforeTraining(dir: string): Promise<{ weights: Weights; logits: Float32Array }> {
  const { config, weights } = await loadModelDir(dir, 2, SEED);
  const engine = await createTrainEngine({
    config,
    numLabels: 2,
    weights,
    hyper: HYPER,
    device: 'cpu',
    dropout: false,
    seed: SEED,
    threads: 1,
  });
  try {
    return { weights, logits: await engine.forward(await textBatch(dir)) };
  } finally {
    await engine.dispose();
  }
}

function assertSameTensors(a: Weights, b: Weights, what: string): void {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort(), `${what}: tensor names`);
  for (const [name, t] of a) {
    const u = b.get(name)!;
    assert.deepEqual(u.shape, t.shape, `${what}: ${name} shape`);
    assert.ok(
      t.data.every((v, i) => Object.is(v, u.data[i])),
      `${what}: ${name} differs`,
    );
  }
}

type Prediction = { label: string; scores: Record<string, number> };

for (const family of FAMILIES) {
  test(`${family.name}: ${family.published.join(', ')} weights train, export, reload and predict alike`, async (t) => {
    const root = tempDir(`formats-${family.name}`);
    const fixture = path.join(FIXTURES, 'formats', family.name);
    const formats = (['safetensors', 'bin', 'sharded'] as const).filter((f) => weightFiles(fixture, f).length > 0);
    assert.ok(formats.length >= 2, 'every family has its weights in at least two formats to compare');

    await t.test('every format loads the same tensors and gives the same logits before training', async () => {
      const loaded = new Map<Format, { weights: Weights; logits: Float32Array }>();
      for (const format of formats) {
        const dir = assembleModel(family, format, path.join(root, 'before'));
        const expected: Record<Format, string> = {
          safetensors: 'model.safetensors',
          bin: 'pytorch_model.bin',
          sharded: SAFETENSORS_INDEX_FILE,
        };
        assert.equal(
          path.basename((await findWeights(dir)).file),
          expected[format],
          'the folder is read in its format',
        );
        loaded.set(format, await logitsBeforeTraining(dir));
      }
      const [first, ...rest] = formats;
      const reference = loaded.get(first)!;
      assert.ok(reference.logits.every(Number.isFinite), `${reference.logits.join(', ')}`);
      assert.ok(
        reference.logits.some((v) => Math.abs(v - reference.logits[0]) > 1e-6),
        `the texts' logits differ from one another: ${reference.logits.join(', ')}`,
      );
      for (const format of rest) {
        const other = loaded.get(format)!;
        assertSameTensors(reference.weights, other.weights, `${format} vs ${first}`);
        const worst = Math.max(...other.logits.map((v, i) => Math.abs(v - reference.logits[i])));
        assert.ok(worst <= 1e-6, `${format} logits differ from ${first}'s by ${worst}`);
      }
    });

    const data = writeSentimentCsv(root, 32);
    const predictions = new Map<Format, Prediction[]>();
    for (const format of family.published) {
      await t.test(`bertft train from ${format} weights, best/ exported to ONNX, predict`, () => {
        const model = assembleModel(family, format, path.join(root, 'models'));
        const out = path.join(root, `run-${format}`);
        trainTinyFolder(data, out, model, MAX_LENGTH);
        const best = path.join(out, 'best');
        const config = JSON.parse(fs.readFileSync(path.join(best, 'config.json'), 'utf8')) as Record<string, unknown>;
        assert.equal(config.model_type, family.modelType);
        assert.deepEqual(config.architectures, [family.architecture]);
        for (const name of ['model.safetensors', 'model.onnx']) {
          assert.ok(fs.statSync(path.join(best, name)).size > 0, `best/${name}`);
        }
        const predicted = bertft<Prediction>(
          'predict',
          '--model',
          out,
          '--json',
          ...TEXTS.flatMap((x) => ['--text', x]),
        );
        assert.equal(predicted.length, TEXTS.length);
        for (const p of predicted) {
          assert.ok(['pos', 'neg'].includes(p.label), JSON.stringify(p));
          assert.ok(Math.abs(p.scores.pos + p.scores.neg - 1) < 1e-5, JSON.stringify(p));
        }
        predictions.set(format, predicted);
      });
    }

    const [first, ...rest] = family.published;
    let worst = 0;
    for (const format of rest) {
      const a = predictions.get(first);
      const b = predictions.get(format);
      assert.ok(a && b, `the runs from ${first} and ${format} both predicted`);
      for (const [i, p] of a.entries()) {
        for (const label of ['neg', 'pos']) {
          const diff = Math.abs(p.scores[label] - b[i].scores[label]);
          worst = Math.max(worst, diff);
          assert.ok(diff <= 1e-5, `${TEXTS[i]}: P(${label}) after training from ${format} differs by ${diff}`);
        }
      }
    }
    if (rest.length > 0) t.diagnostic(`largest difference between the formats' predicted probabilities: ${worst}`);

    await t.test(
      'its int8 copy (Make Int8 Model) quantizes every dense layer and stays within 0.05 of fp32',
      async () => {
        const run = path.join(root, `run-${first}`);
        const { dir, result } = await writeQuantizedModelDir(run);
        assert.ok(result.quantizedLayers >= 2 * 4, `${result.quantizedLayers} dense layers quantized`);
        const [fp32, int8] = await Promise.all([run, dir].map((d) => loadPredictor(d, { device: 'cpu' })));
        try {
          const [a, b] = await Promise.all([fp32.logits(TEXTS), int8.logits(TEXTS)]);
          const diff = Math.max(...a.map((v, i) => Math.abs(v - b[i])));
          assert.ok(diff > 0 && diff <= 0.05, `int8 logits differ from fp32 by ${diff}`);
        } finally {
          await fp32.dispose();
          await int8.dispose();
        }
      },
    );
  });
}
