/**
 * A trained best/ loads as it is in transformers.js (@huggingface/transformers, a devDependency used only here) and
 * scores like our predictor: the fp32 model from onnx/model.onnx, the int8 copy from onnx/model_quantized.onnx.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { env, pipeline } from '@huggingface/transformers';
import { loadPredictor, type Prediction } from '../../../src/core/infer/predictor';
import { loadPreprocessor } from '../../../src/core/infer/preprocess';
import { INT8_DIR, writeQuantizedModelDir } from '../../../src/core/infer/quantize';
import { transformersJsTokenizerConfig } from '../../../src/core/model/transformers-js';
import { ownValue } from '../../../src/core/util/records';
import { trainedRun } from './fixtures';

const TOLERANCE = 1e-4;

/** Texts of several lengths (one batch, so transformers.js pads them), all within the run's 32 tokens. */
const TEXTS = [
  'the movie was wonderful and superb, truly lovely',
  'awful',
  'the plot was boring and dreadful, truly horrible 17',
  'a film',
];

/**
 * Texts of exactly 8 tokens with [CLS] and [SEP]. The int8 model quantizes activations per tensor at run time, so
 * padded positions change every score a little; our predictor pads a batch to a multiple of 8 tokens and
 * transformers.js to its longest text. With no padding on either side the two run the same tensors.
 */
const TEXTS_OF_8_TOKENS = [
  'the movie was great and lovely',
  'the plot was awful and boring',
  'the cast was poor, truly',
];

type Scores = { label: string; score: number }[];

/** transformers.js's scores of every label for each text, loading `modelDir` from the disk only. */
async function transformersJsScores(modelDir: string, dtype: 'fp32' | 'q8', texts: string[]): Promise<Scores[]> {
  env.allowRemoteModels = false;
  env.localModelPath = path.dirname(modelDir);
  const classifier = await pipeline('text-classification', path.basename(modelDir), { local_files_only: true, dtype });
  try {
    const out: Scores[] = await classifier(texts, { top_k: null });
    return out;
  } finally {
    await classifier.dispose();
  }
}

function assertSameScores(ours: Prediction[], theirs: Scores[], labels: string[], what: string): void {
  assert.equal(theirs.length, ours.length);
  ours.forEach((prediction, i) => {
    assert.deepEqual(theirs[i].map((s) => s.label).sort(), [...labels].sort(), `${what}: every label, text ${i}`);
    for (const { label, score } of theirs[i]) {
      const expected = ownValue(prediction.scores, label);
      assert.ok(
        expected !== undefined && Math.abs(score - expected) <= TOLERANCE,
        `${what}, text ${i}, ${label}: ${score} vs ${expected}`,
      );
    }
  });
}

test("best/ loads in transformers.js from onnx/model.onnx and gives our predictor's scores within 1e-4", async () => {
  const { run } = await trainedRun();
  const best = path.join(run, 'best');
  // onnx/model.onnx is the top-level model.onnx under a second name: no second copy on disk.
  assert.equal(fs.statSync(path.join(best, 'onnx', 'model.onnx')).ino, fs.statSync(path.join(best, 'model.onnx')).ino);
  assert.ok(!fs.existsSync(path.join(best, 'onnx', 'model_quantized.onnx')), 'no int8 model before one is made');
  const predictor = await loadPredictor(best, { device: 'cpu' });
  try {
    const ours = await predictor.predict(TEXTS);
    assertSameScores(ours, await transformersJsScores(best, 'fp32', TEXTS), predictor.labels, 'fp32');
  } finally {
    await predictor.dispose();
  }
});

test('after Make Int8 Model, transformers.js loads onnx/model_quantized.onnx (q8) and scores like our int8 predictor', async () => {
  const { run } = await trainedRun();
  const best = path.join(run, 'best');
  const pre = await loadPreprocessor(best);
  for (const text of TEXTS_OF_8_TOKENS)
    assert.equal(pre.tokenizer.tokenIds(text).length + pre.tokenizer.specialCount, 8, text);
  const { dir: int8 } = await writeQuantizedModelDir(run);
  assert.equal(int8, path.join(best, INT8_DIR));
  const int8Onnx = fs.statSync(path.join(int8, 'model.onnx')).ino;
  assert.equal(fs.statSync(path.join(best, 'onnx', 'model_quantized.onnx')).ino, int8Onnx);
  assert.equal(fs.statSync(path.join(int8, 'onnx', 'model_quantized.onnx')).ino, int8Onnx);

  const predictor = await loadPredictor(int8, { device: 'cpu' });
  try {
    const ours = await predictor.predict(TEXTS_OF_8_TOKENS);
    // The model folder with dtype 'q8', and the int8 folder itself.
    assertSameScores(ours, await transformersJsScores(best, 'q8', TEXTS_OF_8_TOKENS), predictor.labels, 'q8 best/');
    assertSameScores(ours, await transformersJsScores(int8, 'q8', TEXTS_OF_8_TOKENS), predictor.labels, 'q8 int8/');
    // The fp32 model still loads by default beside it, and int8 is not fp32 (the test tells the two files apart).
    const fp32 = await transformersJsScores(best, 'fp32', TEXTS_OF_8_TOKENS);
    const q8 = await transformersJsScores(best, 'q8', TEXTS_OF_8_TOKENS);
    assert.ok(fp32.some((scores, i) => scores[0].score !== q8[i][0].score));
  } finally {
    await predictor.dispose();
  }
});

test('tokenizer_config.json gets the class and special tokens transformers.js reads; values already there stay', async () => {
  const pre = await loadPreprocessor();
  assert.deepEqual(transformersJsTokenizerConfig(pre.tokenizer, 'bert'), {
    ...pre.tokenizer.tokenizerConfig,
    tokenizer_class: 'BertTokenizer',
    pad_token: '[PAD]',
    unk_token: '[UNK]',
    cls_token: '[CLS]',
    sep_token: '[SEP]',
    mask_token: '[MASK]',
  });
  const own = Object.assign(Object.create(pre.tokenizer), {
    tokenizerConfig: { tokenizer_class: 'BertTokenizerFast', pad_token: { content: '[PAD]', lstrip: false } },
  }) as typeof pre.tokenizer;
  const config = transformersJsTokenizerConfig(own, 'distilbert');
  assert.equal(config.tokenizer_class, 'BertTokenizerFast');
  assert.deepEqual(config.pad_token, { content: '[PAD]', lstrip: false });
  assert.equal(config.cls_token, '[CLS]');
  assert.equal(transformersJsTokenizerConfig(pre.tokenizer, 'unknown-type').tokenizer_class, undefined);
});
