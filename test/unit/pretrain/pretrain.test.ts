import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ModelError } from '../../../src/core/errors';
import { parseBertConfig } from '../../../src/core/model/config';
import { loadModelDir } from '../../../src/core/model/load';
import { initWeights } from '../../../src/core/model/params';
import { readSafetensorsHeader } from '../../../src/core/model/safetensors';
import { maskBatch, maskSeed, type MaskingOptions } from '../../../src/core/pretrain/masking';
import { IGNORE_LABEL, mlmFamily, mlmParamSpecs } from '../../../src/core/pretrain/mlm-model';
import { loadMlmModelDir } from '../../../src/core/pretrain/model-io';
import { evaluateMlm, runPretrainSession, type PretrainEvent } from '../../../src/core/pretrain/session';
import { readUnlabelledTexts } from '../../../src/core/pretrain/texts';
import type { Batch } from '../../../src/core/tokenize/batch';
import { createTrainEngine } from '../../../src/core/train/engine';
import { buildStepGraph } from '../../../src/core/train/step-graph';
import { worstStepGradientError } from '../../helpers/step-gradcheck';
import { HYPER, makeBatch, tinyConfig } from '../engine/fixtures';

const ROOT = path.join(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'out', 'src', 'cli.js');
const SPAM = path.join(ROOT, 'examples', 'spam-ham.csv');
const tempDir = (p: string) => fs.mkdtempSync(path.join(os.tmpdir(), `bertft-${p}-`));

/** makeBatch's conventions: 0 = padding, 1 = [CLS]-like first token; 4 plays [MASK]; ids ≥ 40 continue a word. */
const MASKING: MaskingOptions = { maskTokenId: 4, vocabSize: 50, specialIds: new Set([0, 1]) };

test('masking: ~15% of real tokens chosen, 80/10/10 split, never special tokens or padding, same masks for the same (seed, step)', () => {
  const batch = makeBatch(1, 64, 32);
  let real = 0;
  let chosen = 0;
  let masked = 0;
  let kept = 0;
  const out = maskBatch(batch, MASKING, maskSeed(7, 3));
  for (let i = 0; i < out.inputIds.length; i++) {
    const original = Number(batch.inputIds[i]);
    const special = batch.attentionMask[i] === 0n || MASKING.specialIds.has(original);
    if (!special) real++;
    if (out.labels![i] === BigInt(IGNORE_LABEL)) {
      assert.equal(out.inputIds[i], batch.inputIds[i], 'unchosen tokens are unchanged');
      continue;
    }
    assert.ok(!special, `position ${i} (id ${original}) is special or padding but was chosen`);
    assert.equal(Number(out.labels![i]), original);
    chosen++;
    if (out.inputIds[i] === 4n) masked++;
    else if (out.inputIds[i] === batch.inputIds[i]) kept++;
  }
  assert.ok(Math.abs(chosen / real - 0.15) < 0.03, `chosen share ${chosen / real}`);
  assert.ok(Math.abs(masked / chosen - 0.8) < 0.07, `[MASK] share ${masked / chosen}`);
  assert.ok(kept / chosen > 0.04 && kept / chosen < 0.2, `kept share ${kept / chosen}`);
  assert.deepEqual(maskBatch(batch, MASKING, maskSeed(7, 3)).labels, out.labels, 'a resumed run draws the same masks');
  assert.notDeepEqual(maskBatch(batch, MASKING, maskSeed(7, 4)).labels, out.labels, 'the next step draws others');
});

test('whole-word masking chooses a word with all its continuation pieces; a batch always has a chosen token', () => {
  const batch = makeBatch(2, 32, 16);
  const wholeWord: MaskingOptions = { ...MASKING, isContinuation: (id) => id >= 40 };
  const out = maskBatch(batch, wholeWord, 11);
  for (let i = 1; i < out.labels!.length; i++) {
    const id = Number(batch.inputIds[i]);
    if (i % 16 === 0 || batch.attentionMask[i] === 0n || id < 40 || MASKING.specialIds.has(Number(batch.inputIds[i - 1])) || batch.attentionMask[i - 1] === 0n) continue;
    assert.equal(out.labels![i] === BigInt(IGNORE_LABEL), out.labels![i - 1] === BigInt(IGNORE_LABEL), `piece ${i} follows its word`);
  }
  const tiny = makeBatch(3, 1, 4);
  const none = maskBatch(tiny, { ...MASKING, probability: 1e-9 }, 1);
  assert.equal(none.labels!.filter((y) => y !== BigInt(IGNORE_LABEL)).length, 1);
});

test('BertForMaskedLM: HF names, decoder tied to the word embeddings; other families are refused', () => {
  const names = mlmParamSpecs(tinyConfig()).map((s) => s.name);
  for (const n of ['cls.predictions.transform.dense.weight', 'cls.predictions.transform.LayerNorm.bias', 'cls.predictions.bias', 'bert.encoder.layer.1.output.dense.weight']) assert.ok(names.includes(n), n);
  assert.ok(!names.some((n) => n.includes('decoder') || n.includes('pooler') || n.startsWith('classifier')));
  assert.throws(() => mlmParamSpecs(parseBertConfig({ model_type: 'distilbert' })), (e: unknown) => e instanceof ModelError && /supports BERT-architecture/.test(e.message));
});

function mlmBatch(seed: number, B = 4, S = 6): Batch {
  return maskBatch(makeBatch(seed, B, S), { ...MASKING, probability: 0.4 }, seed);
}

test('MLM: analytic gradients match finite differences (tied decoder, loss on chosen tokens only)', async () => {
  const cfg = tinyConfig();
  const built = buildStepGraph({ family: mlmFamily(cfg), numLabels: 0, task: 'mlm', mode: 'grads', dropout: false, adam: HYPER, maxGradNorm: 1 });
  const w = initWeights(built.specs, 7, 0.5);
  const { worst, at } = await worstStepGradientError(built, w, mlmBatch(3));
  assert.ok(worst < 2e-2, `worst relative error ${worst} at ${at}`);
});

test('MLM: the training loss equals the loss evaluateMlm computes from forward() scores; training lowers it', async () => {
  const cfg = tinyConfig();
  const engine = await createTrainEngine({ config: cfg, numLabels: 0, task: 'mlm', weights: initWeights(mlmParamSpecs(cfg), 5, 0.02), hyper: { ...HYPER, lr: 3e-3 }, device: 'cpu', dropout: false, seed: 1, threads: 1 });
  const b = mlmBatch(9, 8, 8);
  const { loss } = await engine.lossAndGradients(b);
  const evaluated = await evaluateMlm(engine, [b], cfg.vocabSize);
  assert.ok(Math.abs(loss - evaluated.loss) < 1e-4, `${loss} vs ${evaluated.loss}`);
  for (let i = 0; i < 40; i++) await engine.trainStep(b);
  assert.ok((await evaluateMlm(engine, [b], cfg.vocabSize)).loss < loss * 0.7);
  await engine.dispose();
});

test('unlabelled text: folders of .txt, .txt paragraphs, and the text column of a CSV', async () => {
  const dir = tempDir('texts');
  fs.mkdirSync(path.join(dir, 'notes', 'deep'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'notes', 'a.txt'), 'first note');
  fs.writeFileSync(path.join(dir, 'notes', 'deep', 'b.md'), 'second note');
  fs.writeFileSync(path.join(dir, 'notes', 'skip.bin'), 'x');
  assert.deepEqual(await readUnlabelledTexts(path.join(dir, 'notes')), ['first note', 'second note']);
  fs.writeFileSync(path.join(dir, 'p.txt'), 'one\nstill one\n\n\ntwo\n');
  assert.deepEqual(await readUnlabelledTexts(path.join(dir, 'p.txt')), ['one\nstill one', 'two']);
  fs.writeFileSync(path.join(dir, 'c.csv'), 'id,body,label\n1,hello there,a\n2,general kenobi,b\n');
  assert.deepEqual(await readUnlabelledTexts(path.join(dir, 'c.csv')), ['hello there', 'general kenobi']);
  fs.writeFileSync(path.join(dir, 'empty.txt'), '\n\n');
  await assert.rejects(readUnlabelledTexts(path.join(dir, 'empty.txt')), /no text to pre-train on/);
});

test('pre-training on real text (SpamAssassin mail) lowers the held-out MLM loss; best/ is a BertForMaskedLM that train accepts', async () => {
  const out = path.join(tempDir('pretrain'), 'run');
  const events: PretrainEvent[] = [];
  const done = await runPretrainSession({ data: SPAM, out, model: 'random:tiny', maxSteps: 40, batchSize: 8, maxLength: 32, evalSteps: 20, lr: 2e-3, seed: 3 },
    { emit: (e) => events.push(e) });
  const evals = events.filter((e): e is Extract<PretrainEvent, { event: 'eval' }> => e.event === 'eval');
  assert.equal(done.step, 40);
  assert.equal(evals.length, 2);
  const firstStep = events.find((e) => e.event === 'step') as Extract<PretrainEvent, { event: 'step' }>;
  assert.ok(evals[1].mlm_loss < firstStep.loss - 1, `held-out MLM loss ${evals[1].mlm_loss} vs first training loss ${firstStep.loss}`);
  assert.ok(Math.abs(evals[1].perplexity - Math.exp(evals[1].mlm_loss)) < 1e-6 * evals[1].perplexity);
  assert.equal(fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').length, events.length);

  const best = path.join(out, 'best');
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(best, 'config.json'), 'utf8')).architectures, ['BertForMaskedLM']);
  const names = (await readSafetensorsHeader(path.join(best, 'model.safetensors'))).entries.map((e) => e.name);
  assert.ok(names.includes('cls.predictions.bias') && !names.some((n) => n.startsWith('classifier') || n.includes('pooler')));
  const asMlm = await loadMlmModelDir(best, 0);
  assert.equal(asMlm.freshHead, false);
  const asClassifier = await loadModelDir(best, 2, 0);
  assert.equal(asClassifier.addedHead, true);
  for (const [n, t] of asClassifier.weights) if (n.startsWith('bert.encoder')) assert.deepEqual(t.data, asMlm.weights.get(n)!.data, n);

  const ft = spawnSync(process.execPath, [CLI, 'train', '--json', '--data', SPAM, '--model', out, '--out', path.join(out, '..', 'ft'), '--max-steps', '3',
    '--max-length', '32', '--batch-size', '8', '--device', 'cpu'], { encoding: 'utf8' });
  assert.equal(ft.status, 0, ft.stderr);
  assert.equal(JSON.parse(ft.stdout.trim().split('\n').pop()!).event, 'done');
});

test('bertft pretrain --json runs and reports usage errors', () => {
  const dir = tempDir('pretrain-cli');
  fs.writeFileSync(path.join(dir, 'text.txt'), 'the quick brown fox jumps over the lazy dog\n\nfree money now, click here to claim\n\nmeeting moved to friday afternoon\n');
  const r = spawnSync(process.execPath, [CLI, 'pretrain', '--json', '--data', path.join(dir, 'text.txt'), '--out', path.join(dir, 'run'), '--max-steps', '2', '--batch-size', '2', '--max-length', '16', '--whole-word'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as PretrainEvent);
  assert.deepEqual([events[0].event, events[events.length - 1].event], ['started', 'done']);
  const bad = spawnSync(process.execPath, [CLI, 'pretrain', '--data', path.join(dir, 'text.txt')], { encoding: 'utf8' });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /--out/);
});

test('a stopped pre-training run resumed from its checkpoint ends with the same losses and weights as an uninterrupted one', async () => {
  const dir = tempDir('pretrain-resume');
  const text = path.join(dir, 'mail.csv');
  fs.copyFileSync(SPAM, text);
  const settings = { data: text, model: 'random:tiny', maxSteps: 8, batchSize: 4, maxLength: 16, evalSteps: 3, lr: 1e-3, seed: 5 };
  const straight: PretrainEvent[] = [];
  await runPretrainSession({ ...settings, out: path.join(dir, 'a') }, { emit: (e) => straight.push(e) });

  const first: PretrainEvent[] = [];
  let steps = 0;
  const stopped = await runPretrainSession({ ...settings, out: path.join(dir, 'b') }, { emit: (e) => { first.push(e); if (e.event === 'step') steps++; }, shouldStop: () => steps >= 5 });
  assert.equal(stopped.stopped, true);
  assert.equal(stopped.step, 5);
  const rest: PretrainEvent[] = [];
  const done = await runPretrainSession({ data: '', out: path.join(dir, 'b'), resume: true }, { emit: (e) => rest.push(e) });
  assert.equal(done.step, 8);
  const losses = (events: PretrainEvent[]) => events.filter((e) => e.event === 'step').map((e) => (e as { loss: number }).loss);
  assert.deepEqual([...losses(first), ...losses(rest)], losses(straight));
  const a = await loadMlmModelDir(path.join(dir, 'a', 'best'), 0);
  const b = await loadMlmModelDir(path.join(dir, 'b', 'best'), 0);
  for (const [n, t] of a.weights) assert.deepEqual(b.weights.get(n)!.data, t.data, n);
  await assert.rejects(runPretrainSession({ data: '', out: path.join(dir, 'nothing'), resume: true }, { emit: () => undefined }), /Cannot resume/);
});
