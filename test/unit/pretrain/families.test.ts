/**
 * Masked-LM pre-training of every family: the HF *ForMaskedLM tensor names, whole-step gradient checks, loading
 * checkpoints (prefixed or bare, with or without the MLM head, tied decoder copies and aliases, int64 buffers),
 * saving (config.json and names transformers' from_pretrained expects) and `train --model` on what was saved, the
 * usable-length check, and whole-word masking on WordPiece, byte-level BPE and SentencePiece vocabularies.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ModelError } from '../../../src/core/errors';
import { BertConfig } from '../../../src/core/model/config';
import { loadModelDir } from '../../../src/core/model/load';
import { Weights, encoderParamSpecs, initWeights } from '../../../src/core/model/params';
import { readSafetensorsHeader, writeSafetensors } from '../../../src/core/model/safetensors';
import { IGNORE_LABEL, MLM_HEADS, mlmParamSpecs } from '../../../src/core/model/mlm-head';
import { maskBatch, wordContinuationIds } from '../../../src/core/pretrain/masking';
import { loadMlmModelDir, saveMlmModel } from '../../../src/core/pretrain/model-io';
import { maskingFor, runPretrainSession } from '../../../src/core/pretrain/session';
import { bertTokenizerJson } from '../../../src/core/tokenize/bertTokenizerJson';
import { collate } from '../../../src/core/tokenize/batching';
import { TextTokenizer } from '../../../src/core/tokenize/tokenizer';
import { encodeDocuments } from '../../../src/core/tokenize/truncation';
import { tempDir } from '../runner/fixtures';
import {
  WORDS,
  byteLevelBpeTokenizerJson,
  familyMlmBatch,
  tinyConfigJson,
  tinyFamilyConfig,
  worstMlmGradientError,
} from '../families/tiny-models';

type TinyFamily = Parameters<typeof tinyFamilyConfig>[0];

/** Each family's MLM head in HF's names (the dense layer, its LayerNorm, the decoder's bias) and the tied decoder weight it never stores. */
const HEADS: Record<
  string,
  { base: string; dense: string; norm: string; bias: string; decoder: string; architecture: string }
> = {
  bert: {
    base: 'bert',
    dense: 'cls.predictions.transform.dense',
    norm: 'cls.predictions.transform.LayerNorm',
    bias: 'cls.predictions.bias',
    decoder: 'cls.predictions.decoder.weight',
    architecture: 'BertForMaskedLM',
  },
  distilbert: {
    base: 'distilbert',
    dense: 'vocab_transform',
    norm: 'vocab_layer_norm',
    bias: 'vocab_projector.bias',
    decoder: 'vocab_projector.weight',
    architecture: 'DistilBertForMaskedLM',
  },
  roberta: {
    base: 'roberta',
    dense: 'lm_head.dense',
    norm: 'lm_head.layer_norm',
    bias: 'lm_head.bias',
    decoder: 'lm_head.decoder.weight',
    architecture: 'RobertaForMaskedLM',
  },
  'xlm-roberta': {
    base: 'roberta',
    dense: 'lm_head.dense',
    norm: 'lm_head.layer_norm',
    bias: 'lm_head.bias',
    decoder: 'lm_head.decoder.weight',
    architecture: 'XLMRobertaForMaskedLM',
  },
  electra: {
    base: 'electra',
    dense: 'generator_predictions.dense',
    norm: 'generator_predictions.LayerNorm',
    bias: 'generator_lm_head.bias',
    decoder: 'generator_lm_head.weight',
    architecture: 'ElectraForMaskedLM',
  },
  'electra-projected': {
    base: 'electra',
    dense: 'generator_predictions.dense',
    norm: 'generator_predictions.LayerNorm',
    bias: 'generator_lm_head.bias',
    decoder: 'generator_lm_head.weight',
    architecture: 'ElectraForMaskedLM',
  },
};
const FAMILIES: TinyFamily[] = ['bert', 'distilbert', 'roberta', 'xlm-roberta', 'electra-projected'];

function headNames(family: TinyFamily): string[] {
  const h = HEADS[family];
  return [`${h.dense}.weight`, `${h.dense}.bias`, `${h.norm}.weight`, `${h.norm}.bias`, h.bias];
}

test("each family's MLM model has HF *ForMaskedLM names: encoder + head, no decoder weight, pooler or classifier; ELECTRA's head narrows to embedding_size", () => {
  for (const family of FAMILIES) {
    const cfg = tinyFamilyConfig(family);
    const specs = mlmParamSpecs(cfg);
    const names = specs.map((s) => s.name);
    assert.deepEqual(
      names.slice(0, -5),
      encoderParamSpecs(cfg).map((s) => s.name),
      family,
    );
    assert.deepEqual(names.slice(-5), headNames(family), family);
    assert.ok(names.includes(`${HEADS[family].base}.embeddings.word_embeddings.weight`), family);
    assert.ok(
      !names.some(
        (n) =>
          n.includes('decoder') || n.includes('pooler') || n.startsWith('classifier') || n.startsWith('pre_classifier'),
      ),
      family,
    );
    assert.deepEqual(
      specs.slice(-5).map((s) => s.decay),
      [true, false, false, false, false],
      `${family}: no decay on the head's biases and LayerNorm`,
    );
  }
  const electra = mlmParamSpecs(tinyFamilyConfig('electra-projected'));
  const shape = (n: string) => electra.find((s) => s.name === n)?.shape;
  assert.deepEqual(
    [
      shape('generator_predictions.dense.weight'),
      shape('generator_predictions.LayerNorm.weight'),
      shape('generator_lm_head.bias'),
      shape('electra.embeddings.word_embeddings.weight'),
    ],
    [[8, 16], [8], [50], [50, 8]],
  );
  assert.equal(MLM_HEADS.bert.bias, 'cls.predictions.bias');
});

for (const family of ['bert', 'distilbert', 'roberta', 'electra-projected'] as const) {
  test(`${family} MLM: analytic gradients of the whole step graph match finite differences (tied decoder, loss on chosen tokens only)`, async () => {
    const cfg = tinyFamilyConfig(family);
    const built = mlmParamSpecs(cfg);
    const { worst, at } = await worstMlmGradientError(cfg, initWeights(built, 7, 0.5), familyMlmBatch(cfg, 3));
    assert.ok(worst < 2e-2, `worst relative error ${worst} at ${at}`);
  });
}

/** Writes config.json + model.safetensors; `int64Buffer` adds an int64 `<base>.embeddings.position_ids` as real checkpoints have. */
async function writeCheckpoint(
  dir: string,
  json: Record<string, unknown>,
  weights: Weights,
  int64Buffer = false,
): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(json));
  const file = path.join(dir, 'model.safetensors');
  const buffer = [...weights.keys()]
    .find((n) => n.endsWith('embeddings.word_embeddings.weight'))!
    .replace('word_embeddings.weight', 'position_ids');
  const all: Weights = new Map(weights);
  if (int64Buffer) all.set(buffer, { shape: [1, 20], data: new Float32Array(20) });
  await writeSafetensors(file, all, { format: 'pt' });
  if (int64Buffer) {
    // Relabel the buffer's 80 bytes as int64 [1, 10]: the header keeps its length.
    const bytes = fs.readFileSync(file);
    const from = `"${buffer}":{"dtype":"F32","shape":[1,20]`;
    const at = bytes.indexOf(from);
    assert.ok(at > 0);
    bytes.write(`"${buffer}":{"dtype":"I64","shape":[1,10]`, at);
    fs.writeFileSync(file, bytes);
  }
}

test('loading for pre-training: prefixed checkpoints with their MLM head (tied decoder copy, aliases, other heads, int64 buffers) keep it; bare or discriminator ones get a fresh head', async () => {
  for (const family of FAMILIES) {
    const cfg = tinyFamilyConfig(family);
    const json = tinyConfigJson(family);
    const h = HEADS[family];
    const full = initWeights(mlmParamSpecs(cfg), 5, 0.1);
    const file: Weights = new Map(full);
    const words = full.get(`${h.base}.embeddings.word_embeddings.weight`)!;
    file.set(h.decoder, words);
    file.set(`${h.base}.pooler.dense.bias`, { shape: [16], data: new Float32Array(16).fill(3) });
    file.set('classifier.bias', { shape: [2], data: new Float32Array(2) });
    const dir = tempDir(`mlm-load-${family}`);
    await writeCheckpoint(path.join(dir, 'with-head'), json, file, true);
    const loaded = await loadMlmModelDir(path.join(dir, 'with-head'), 0);
    assert.equal(loaded.freshHead, false, family);
    assert.deepEqual(
      [...loaded.weights.keys()],
      mlmParamSpecs(cfg).map((s) => s.name),
      family,
    );
    for (const [n, t] of full) assert.deepEqual(loaded.weights.get(n)!.data, t.data, `${family} ${n}`);

    // A bare base model (no prefix, no head; TF-style LayerNorm names): the head starts as from_pretrained makes it.
    const bare: Weights = new Map(
      [...initWeights(encoderParamSpecs(cfg), 6, 0.1)].map(([n, t]) => [
        n.slice(h.base.length + 1).replace(/LayerNorm\.weight$/, 'LayerNorm.gamma'),
        t,
      ]),
    );
    await writeCheckpoint(path.join(dir, 'bare'), json, bare);
    const fresh = await loadMlmModelDir(path.join(dir, 'bare'), 0);
    assert.equal(fresh.freshHead, true, family);
    assert.deepEqual(
      [...fresh.weights.keys()],
      mlmParamSpecs(cfg).map((s) => s.name),
      family,
    );
    const [dense, denseBias, normW, normB, bias] = headNames(family).map((n) => fresh.weights.get(n)!.data);
    const std = Math.sqrt(dense.reduce((s, x) => s + x * x, 0) / dense.length);
    assert.ok(std > 0.01 && std < 0.03, `${family}: fresh dense std ${std} (initializer_range 0.02)`);
    assert.ok(
      denseBias.every((x) => x === 0) &&
        normB.every((x) => x === 0) &&
        bias.every((x) => x === 0) &&
        normW.every((x) => x === 1),
      family,
    );
  }

  // An ELECTRA discriminator: its discriminator head is ignored and the generator head is initialised.
  const cfg = tinyFamilyConfig('electra');
  const disc: Weights = initWeights(encoderParamSpecs(cfg), 6, 0.1);
  disc.set('discriminator_predictions.dense.weight', { shape: [16, 16], data: new Float32Array(256) });
  disc.set('discriminator_predictions.dense_prediction.bias', { shape: [1], data: new Float32Array(1) });
  const dir = tempDir('mlm-load-electra-disc');
  await writeCheckpoint(dir, tinyConfigJson('electra'), disc);
  const loaded = await loadMlmModelDir(dir, 0);
  assert.equal(loaded.freshHead, true);
  assert.ok(!loaded.weights.has('discriminator_predictions.dense.weight'));

  // RoBERTa checkpoints may hold the decoder's bias only under lm_head.decoder.bias; lm_head.bias wins when both are there.
  const rcfg = tinyFamilyConfig('roberta');
  const r = initWeights(mlmParamSpecs(rcfg), 5, 0.1);
  const aliased: Weights = new Map(r);
  const bias = aliased.get('lm_head.bias')!;
  aliased.delete('lm_head.bias');
  aliased.set('lm_head.decoder.bias', bias);
  const rdir = tempDir('mlm-load-roberta-alias');
  await writeCheckpoint(rdir, tinyConfigJson('roberta'), aliased);
  const viaAlias = await loadMlmModelDir(rdir, 0);
  assert.equal(viaAlias.freshHead, false);
  assert.deepEqual(viaAlias.weights.get('lm_head.bias')!.data, bias.data);
  aliased.set('lm_head.bias', bias);
  aliased.set('lm_head.decoder.bias', { shape: bias.shape, data: new Float32Array(bias.data.length).fill(9) });
  await writeCheckpoint(rdir, tinyConfigJson('roberta'), aliased);
  assert.deepEqual((await loadMlmModelDir(rdir, 0)).weights.get('lm_head.bias')!.data, bias.data);
});

test('loading errors for pre-training name the file and the fix: missing encoder tensors, wrong shapes, no weights file, no config', async () => {
  const cfg = tinyFamilyConfig('roberta');
  const weights = initWeights(mlmParamSpecs(cfg), 5, 0.1);
  weights.delete('roberta.encoder.layer.1.output.dense.weight');
  const dir = tempDir('mlm-load-errors');
  await writeCheckpoint(dir, tinyConfigJson('roberta'), weights);
  await assert.rejects(
    loadMlmModelDir(dir, 0),
    (e: unknown) =>
      e instanceof ModelError &&
      /lacks 1 roberta encoder tensor\(s\), e\.g\. roberta\.encoder\.layer\.1\.output\.dense\.weight/.test(e.message) &&
      e.file === path.join(dir, 'model.safetensors') &&
      /roberta checkpoint/.test(e.fix ?? ''),
  );
  weights.set('roberta.encoder.layer.1.output.dense.weight', { shape: [3], data: new Float32Array(3) });
  await writeCheckpoint(dir, tinyConfigJson('roberta'), weights);
  await assert.rejects(
    loadMlmModelDir(dir, 0),
    (e: unknown) => e instanceof ModelError && e.code === 'MODEL_TENSOR_SHAPE' && /config\.json/.test(e.fix ?? ''),
  );
  fs.rmSync(path.join(dir, 'model.safetensors'));
  await assert.rejects(
    loadMlmModelDir(dir, 0),
    (e: unknown) =>
      e instanceof ModelError && e.code === 'MODEL_NO_WEIGHTS' && e.file === path.join(dir, 'model.safetensors'),
  );
  await assert.rejects(
    loadMlmModelDir(path.join(dir, 'nothing'), 0),
    (e: unknown) => e instanceof ModelError && e.code === 'MODEL_NO_CONFIG' && /DistilBERT, RoBERTa/.test(e.fix ?? ''),
  );
});

test("saving: config.json declares the family's *ForMaskedLM (XLM-R keeps its model_type) with tied embeddings; weights in HF names without the decoder weight; reloads equal; `train --model` loads it with a fresh classifier", async () => {
  for (const family of FAMILIES) {
    const cfg: BertConfig = tinyFamilyConfig(family, { id2label: { 0: 'a', 1: 'b' }, label2id: { a: 0, b: 1 } });
    const weights = initWeights(mlmParamSpecs(cfg), 9, 0.1);
    const dir = tempDir(`mlm-save-${family}`);
    await saveMlmModel(dir, cfg, weights);
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    const modelType = family === 'electra-projected' ? 'electra' : family;
    assert.deepEqual(
      [json.architectures, json.model_type, json.tie_word_embeddings],
      [[HEADS[family].architecture], modelType, true],
      family,
    );
    assert.equal(json[family === 'distilbert' ? 'activation' : 'hidden_act'], 'gelu', family);
    assert.ok(json.id2label === undefined && json.label2id === undefined, family);
    if (family === 'distilbert') assert.deepEqual([json.dim, json.n_layers, json.hidden_dim], [16, 2, 32]);
    if (family === 'electra-projected') assert.deepEqual([json.embedding_size, json.hidden_size], [8, 16]);
    const names = (await readSafetensorsHeader(path.join(dir, 'model.safetensors'))).entries.map((e) => e.name).sort();
    assert.deepEqual(
      names,
      mlmParamSpecs(cfg)
        .map((s) => s.name)
        .sort(),
      family,
    );
    assert.ok(!names.includes(HEADS[family].decoder));

    const again = await loadMlmModelDir(dir, 1);
    assert.equal(again.freshHead, false);
    assert.equal(again.config.modelType, cfg.modelType);
    for (const [n, t] of weights) assert.deepEqual(again.weights.get(n)!.data, t.data, `${family} ${n}`);

    const classifier = await loadModelDir(dir, 2, 0);
    assert.equal(classifier.addedHead, true, family);
    for (const s of encoderParamSpecs(cfg))
      assert.deepEqual(classifier.weights.get(s.name)!.data, weights.get(s.name)!.data, `${family} ${s.name}`);
    assert.ok(![...classifier.weights.keys()].some((n) => headNames(family).includes(n)), family);
  }
});

test('pre-training refuses a --max-length beyond the usable positions (RoBERTa: max_position_embeddings - pad_token_id - 1)', async () => {
  const dir = tempDir('mlm-roberta-length');
  const tokenizer = byteLevelBpeTokenizerJson(WORDS);
  const vocabSize = Object.keys((tokenizer.model as { vocab: object }).vocab).length;
  const json = tinyConfigJson('roberta', { vocab_size: vocabSize, max_position_embeddings: 22 });
  await writeCheckpoint(
    path.join(dir, 'model'),
    json,
    initWeights(encoderParamSpecs(tinyFamilyConfig('roberta', json)), 1, 0.02),
  );
  fs.writeFileSync(path.join(dir, 'model', 'tokenizer.json'), JSON.stringify(tokenizer));
  fs.writeFileSync(path.join(dir, 'text.txt'), 'the movie was great\n\nthe plot was awful\n\nthe cast was lovely\n');
  await assert.rejects(
    runPretrainSession(
      { data: path.join(dir, 'text.txt'), out: path.join(dir, 'run'), model: path.join(dir, 'model'), maxLength: 21 },
      { emit: () => undefined },
    ),
    /--max-length 21 is longer than the model's 20 usable positions/,
  );
});

test('whole-word masking on a byte-level BPE vocabulary: a word is its "Ġ" token and the pieces up to the next one; <mask> is the mask token; special tokens are never chosen', () => {
  const tokenizer = new TextTokenizer(byteLevelBpeTokenizerJson(WORDS), {}, 'test');
  const masking = maskingFor(tokenizer, 400, { wholeWord: true, probability: 0.3 });
  assert.equal(masking.maskTokenId, 4);
  assert.deepEqual([...masking.specialIds].sort(), [0, 1, 2, 3, 4]);
  // "storyline" and "acting's" are not in the vocabulary: several pieces after their "Ġ" start.
  const texts = Array.from(
    { length: 12 },
    (_, i) => `the storyline was ${WORDS[12 + (i % 12)]}, truly the acting's ${WORDS[i % 12]} ${i * 37} and the cast`,
  );
  assert.ok(tokenizer.tokens(texts[0]).includes('Ġstory'));
  const rows = encodeDocuments(tokenizer, texts, { maxLength: 32, strategy: 'window', stride: 0 });
  const batch = collate(
    rows,
    rows.map((_, i) => i),
    { padId: tokenizer.padId },
  );
  const tokenOf = new Map(
    Object.entries((tokenizer.tokenizerJson.model as { vocab: Record<string, number> }).vocab).map(([t, id]) => [
      id,
      t,
    ]),
  );
  let words = 0;
  let chosenWords = 0;
  let pieces = 0;
  let chosenPieces = 0;
  for (let seed = 1; seed <= 5; seed++) {
    const out = maskBatch(batch, masking, seed);
    const chosen = (i: number) => out.labels![i] !== BigInt(IGNORE_LABEL);
    for (let i = 0; i < out.labels!.length; i++) {
      const id = Number(batch.inputIds[i]);
      if (masking.specialIds.has(id) || batch.attentionMask[i] === 0n) {
        assert.ok(!chosen(i), `special or padding token ${id} at ${i} was chosen`);
        continue;
      }
      const text = tokenOf.get(id)!;
      const previousIsWord = i % batch.seqLen > 0 && !masking.specialIds.has(Number(batch.inputIds[i - 1]));
      if (!text.startsWith('Ġ') && previousIsWord) {
        assert.equal(chosen(i), chosen(i - 1), `piece "${text}" at ${i} follows its word`);
        pieces++;
        if (chosen(i)) chosenPieces++;
      } else {
        words++;
        if (chosen(i)) chosenWords++;
      }
      if (chosen(i)) assert.equal(Number(out.labels![i]), id);
    }
  }
  assert.ok(Math.abs(chosenWords / words - 0.3) < 0.1, `chosen share of words ${chosenWords / words}`);
  assert.ok(pieces > 100 && chosenPieces > 20, `${chosenPieces} of ${pieces} word pieces chosen with their words`);
});

test('word continuations: WordPiece "##" pieces, byte-level BPE tokens without "Ġ", SentencePiece pieces without "▁"; none for other vocabularies', () => {
  const wordPiece = bertTokenizerJson(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'play', '##ing', '##s', 'the'], {
    lowercase: true,
  });
  assert.deepEqual([...wordContinuationIds(wordPiece)!].sort(), [6, 7]);
  const bpe = byteLevelBpeTokenizerJson(['hello']);
  const bpeVocab = (bpe.model as { vocab: Record<string, number> }).vocab;
  const cont = wordContinuationIds(bpe)!;
  assert.ok(
    !cont.has(bpeVocab['Ġhello']) && cont.has(bpeVocab.hello) && cont.has(bpeVocab.h) && !cont.has(0) && !cont.has(4),
  );
  const unigram = {
    added_tokens: [
      { id: 0, content: '<s>', special: true },
      { id: 3, content: '<mask>', special: true },
    ],
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Metaspace', replacement: '▁' }],
    },
    model: {
      type: 'Unigram',
      vocab: [
        ['<s>', 0],
        ['▁play', -1],
        ['ing', -2],
        ['<mask>', 0],
        ['▁', -3],
      ],
    },
  };
  assert.deepEqual([...wordContinuationIds(unigram)!], [2]);
  assert.equal(
    wordContinuationIds({ model: { type: 'WordLevel', vocab: { a: 0 } }, pre_tokenizer: { type: 'Whitespace' } }),
    undefined,
  );
});
