import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadModelDir } from '../../../src/core/model/load';
import { initWeights } from '../../../src/core/model/params';
import { readSafetensorsHeader } from '../../../src/core/model/safetensors';
import { maskBatch, maskSeed, type MaskingOptions } from '../../../src/core/pretrain/masking';
import { IGNORE_LABEL, mlmFamily, mlmParamSpecs } from '../../../src/core/model/mlm-head';
import { loadMlmModelDir } from '../../../src/core/pretrain/model-io';
import { evaluateMlm, runPretrainSession } from '../../../src/core/pretrain/session';
import { isTrainerEvent, type MlmEvalEvent, type StepEvent, type TrainerEvent } from '../../../src/core/run/events';
import { readMetricsLog } from '../../../src/core/run/metrics-log';
import { foldRun } from '../../helpers/fold-run';
import { applyEvents, emptyDashboardState } from '../../../src/extension/protocol/dashboardState';
import { readUnlabelledTexts } from '../../../src/core/pretrain/texts';
import type { Batch } from '../../../src/core/tokenize/batch';
import { createTrainEngine } from '../../../src/core/train/engine';
import { buildStepGraph } from '../../../src/core/train/step-graph';
import { worstStepGradientError } from '../../helpers/step-gradcheck';
import { HYPER, makeBatch, tinyConfig } from '../engine/fixtures';
import { tempFolder } from '../../helpers/temp';

const ROOT = path.join(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'out', 'src', 'cli.js');
const SPAM = path.join(ROOT, 'examples', 'spam-ham.csv');
const tempDir = (p: string) => tempFolder(`bertft-${p}-`);

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
    if (
      i % 16 === 0 ||
      batch.attentionMask[i] === 0n ||
      id < 40 ||
      MASKING.specialIds.has(Number(batch.inputIds[i - 1])) ||
      batch.attentionMask[i - 1] === 0n
    )
      continue;
    assert.equal(
      out.labels![i] === BigInt(IGNORE_LABEL),
      out.labels![i - 1] === BigInt(IGNORE_LABEL),
      `piece ${i} follows its word`,
    );
  }
  const tiny = makeBatch(3, 1, 4);
  const none = maskBatch(tiny, { ...MASKING, probability: 1e-9 }, 1);
  assert.equal(none.labels!.filter((y) => y !== BigInt(IGNORE_LABEL)).length, 1);
});

test('BertForMaskedLM: HF names, decoder tied to the word embeddings (the other families: families.test.ts)', () => {
  const names = mlmParamSpecs(tinyConfig()).map((s) => s.name);
  for (const n of [
    'cls.predictions.transform.dense.weight',
    'cls.predictions.transform.LayerNorm.bias',
    'cls.predictions.bias',
    'bert.encoder.layer.1.output.dense.weight',
  ])
    assert.ok(names.includes(n), n);
  assert.ok(!names.some((n) => n.includes('decoder') || n.includes('pooler') || n.startsWith('classifier')));
});

function mlmBatch(seed: number, B = 4, S = 6): Batch {
  return maskBatch(makeBatch(seed, B, S), { ...MASKING, probability: 0.4 }, seed);
}

test('MLM: analytic gradients match finite differences (tied decoder, loss on chosen tokens only)', async () => {
  const cfg = tinyConfig();
  const built = buildStepGraph({
    family: mlmFamily(cfg),
    numLabels: 0,
    task: 'mlm',
    mode: 'grads',
    dropout: false,
    adam: HYPER,
    maxGradNorm: 1,
  });
  const w = initWeights(built.specs, 7, 0.5);
  const { worst, at } = await worstStepGradientError(built, w, mlmBatch(3));
  assert.ok(worst < 2e-2, `worst relative error ${worst} at ${at}`);
});

test('MLM: the training loss equals the loss evaluateMlm computes from forward() scores; training lowers it', async () => {
  const cfg = tinyConfig();
  const engine = await createTrainEngine({
    config: cfg,
    numLabels: 0,
    task: 'mlm',
    weights: initWeights(mlmParamSpecs(cfg), 5, 0.02),
    hyper: { ...HYPER, lr: 3e-3 },
    device: 'cpu',
    dropout: false,
    seed: 1,
    threads: 1,
  });
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

test('pre-training on real text (SpamAssassin mail) lowers the held-out MLM loss; its events are the fine-tuning TrainerEvents; best/ is a BertForMaskedLM that train accepts', async () => {
  const out = path.join(tempDir('pretrain'), 'run');
  const events: TrainerEvent[] = [];
  const done = await runPretrainSession(
    {
      data: SPAM,
      out,
      model: 'random:tiny',
      maxSteps: 40,
      batchSize: 8,
      maxLength: 32,
      evalSteps: 20,
      lr: 2e-3,
      seed: 3,
    },
    { emit: (e) => events.push(e) },
  );
  const evals = events.filter((e): e is MlmEvalEvent => e.event === 'eval' && e.task === 'mlm');
  assert.equal(done.final_step, 40);
  assert.deepEqual([done.metric_name, done.best_dir, done.run_dir], ['mlm_loss', path.join(out, 'best'), out]);
  assert.equal(evals.length, 2);
  assert.deepEqual(
    evals.map((e) => e.step),
    [20, 40],
  );
  const steps = events.filter((e): e is StepEvent => e.event === 'step');
  assert.deepEqual(
    steps.map((e) => e.step),
    Array.from({ length: 40 }, (_, i) => i + 1),
  );
  for (const e of steps) {
    assert.ok(
      e.total_steps === 40 && e.grad_norm > 0 && e.examples_per_s > 0 && e.eta_s >= 0 && e.epoch > 0,
      JSON.stringify(e),
    );
  }
  assert.ok(
    evals[1].loss < steps[0].loss - 1,
    `held-out MLM loss ${evals[1].loss} vs first training loss ${steps[0].loss}`,
  );
  assert.ok(Math.abs(evals[1].perplexity - Math.exp(evals[1].loss)) < 1e-6 * evals[1].perplexity);
  assert.ok(evals[1].masked_tokens > 0 && evals[1].accuracy > 0 && evals[1].accuracy < 1);
  assert.deepEqual([evals[0].labels, evals[0].confusion, evals[0].per_class, evals[0].misclassified], [[], [], {}, []]);
  assert.equal(done.best_step, evals.reduce((a, b) => (b.loss < a.loss ? b : a)).step);
  assert.equal(done.best_metric, Math.min(...evals.map((e) => e.loss)));

  // Every event is a TrainerEvent; metrics.jsonl holds them all but `log`, and folds like a fine-tuning run.
  for (const e of events) assert.ok(isTrainerEvent(e), JSON.stringify(e));
  const started = events.find((e) => e.event !== 'log')!;
  assert.ok(started.event === 'started' && started.task === 'mlm' && started.run_dir === out);
  assert.ok(
    started.dataset.train_windows! > 0 && started.dataset.valid_windows! > 0 && started.dataset.labels.length === 0,
  );
  const logged = readMetricsLog(path.join(out, 'metrics.jsonl'));
  assert.deepEqual(logged, JSON.parse(JSON.stringify(events.filter((e) => e.event !== 'log'))));
  assert.deepEqual(
    logged
      .map((e) => e.event)
      .filter((n, i, a) => n !== a[i - 1])
      .slice(0, 2),
    ['started', 'step'],
  );
  assert.equal(logged.filter((e) => e.event === 'checkpoint').length, 2);
  const summary = foldRun(logged);
  assert.equal(summary.phase, 'done');
  assert.equal(summary.bestEval?.step, done.best_step);
  const dashboard = emptyDashboardState(out);
  applyEvents(dashboard, logged);
  assert.equal(dashboard.task, 'mlm');
  assert.equal(dashboard.phase, 'done');
  assert.deepEqual(
    dashboard.evals.map((r) => [r.perplexity, r.macroF1]),
    evals.map((e) => [e.perplexity, undefined]),
  );

  const best = path.join(out, 'best');
  const config = JSON.parse(fs.readFileSync(path.join(best, 'config.json'), 'utf8')) as { architectures: string[] };
  assert.deepEqual(config.architectures, ['BertForMaskedLM']);
  const names = (await readSafetensorsHeader(path.join(best, 'model.safetensors'))).entries.map((e) => e.name);
  assert.ok(
    names.includes('cls.predictions.bias') && !names.some((n) => n.startsWith('classifier') || n.includes('pooler')),
  );
  const asMlm = await loadMlmModelDir(best, 0);
  assert.equal(asMlm.freshHead, false);
  const asClassifier = await loadModelDir(best, 2, 0);
  assert.equal(asClassifier.addedHead, true);
  for (const [n, t] of asClassifier.weights)
    if (n.startsWith('bert.encoder')) assert.deepEqual(t.data, asMlm.weights.get(n)!.data, n);

  const ft = spawnSync(
    process.execPath,
    [
      CLI,
      'train',
      '--json',
      '--data',
      SPAM,
      '--model',
      out,
      '--out',
      path.join(out, '..', 'ft'),
      '--max-steps',
      '3',
      '--max-length',
      '32',
      '--batch-size',
      '8',
      '--device',
      'cpu',
    ],
    { encoding: 'utf8' },
  );
  assert.equal(ft.status, 0, ft.stderr);
  assert.equal((JSON.parse(ft.stdout.trim().split('\n').pop()!) as { event: string }).event, 'done');
});

test('bertft pretrain --json runs and reports usage errors', () => {
  const dir = tempDir('pretrain-cli');
  fs.writeFileSync(
    path.join(dir, 'text.txt'),
    'the quick brown fox jumps over the lazy dog\n\nfree money now, click here to claim\n\nmeeting moved to friday afternoon\n',
  );
  const r = spawnSync(
    process.execPath,
    [
      CLI,
      'pretrain',
      '--json',
      '--data',
      path.join(dir, 'text.txt'),
      '--out',
      path.join(dir, 'run'),
      '--max-steps',
      '2',
      '--batch-size',
      '2',
      '--max-length',
      '16',
      '--whole-word',
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const events = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as TrainerEvent)
    .filter((e) => e.event !== 'log');
  assert.deepEqual([events[0].event, events[events.length - 1].event], ['started', 'done']);
  assert.ok(events.every(isTrainerEvent));
  assert.deepEqual(
    events,
    readMetricsLog(path.join(dir, 'run', 'metrics.jsonl')),
    'stdout carries the events of metrics.jsonl',
  );
  assert.ok(events.some((e) => e.event === 'eval' && e.task === 'mlm'));
  const human = spawnSync(
    process.execPath,
    [
      CLI,
      'pretrain',
      '--data',
      path.join(dir, 'text.txt'),
      '--out',
      path.join(dir, 'run2'),
      '--max-steps',
      '2',
      '--batch-size',
      '2',
      '--max-length',
      '16',
    ],
    { encoding: 'utf8' },
  );
  assert.equal(human.status, 0, human.stderr);
  assert.match(human.stderr, /Pre-training \(masked LM\) on cpu: \d+ train \/ \d+ held-out windows, 2 steps/);
  assert.match(human.stderr, /eval @ step 2 .*MLM loss \d+\.\d+ {2}perplexity \d+/);
  assert.match(human.stderr, /Done at step 2\. Best mlm_loss/);
  const bad = spawnSync(process.execPath, [CLI, 'pretrain', '--data', path.join(dir, 'text.txt')], {
    encoding: 'utf8',
  });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /--out/);
});

test('a stopped pre-training run resumed from its checkpoint ends with the same losses and weights as an uninterrupted one', async () => {
  const dir = tempDir('pretrain-resume');
  const text = path.join(dir, 'mail.csv');
  fs.copyFileSync(SPAM, text);
  const settings = {
    data: text,
    model: 'random:tiny',
    maxSteps: 8,
    batchSize: 4,
    maxLength: 16,
    evalSteps: 3,
    lr: 1e-3,
    seed: 5,
  };
  const straight: TrainerEvent[] = [];
  await runPretrainSession({ ...settings, out: path.join(dir, 'a') }, { emit: (e) => straight.push(e) });

  const first: TrainerEvent[] = [];
  let steps = 0;
  const stopped = await runPretrainSession(
    { ...settings, out: path.join(dir, 'b') },
    {
      emit: (e) => {
        first.push(e);
        if (e.event === 'step') steps++;
      },
      shouldStop: () => steps >= 5,
    },
  );
  assert.equal(stopped.stopped, true);
  assert.equal(stopped.final_step, 5);
  const rest: TrainerEvent[] = [];
  const done = await runPretrainSession(
    { data: '', out: path.join(dir, 'b'), resume: true },
    { emit: (e) => rest.push(e) },
  );
  assert.equal(done.final_step, 8);
  const restarted = rest.find((e) => e.event === 'started');
  assert.ok(restarted?.event === 'started' && restarted.resumed_from_step === 5 && restarted.task === 'mlm');
  const losses = (events: TrainerEvent[]) =>
    events.filter((e) => e.event === 'step').map((e) => (e as { loss: number }).loss);
  assert.deepEqual([...losses(first), ...losses(rest)], losses(straight));
  const a = await loadMlmModelDir(path.join(dir, 'a', 'best'), 0);
  const b = await loadMlmModelDir(path.join(dir, 'b', 'best'), 0);
  for (const [n, t] of a.weights) assert.deepEqual(b.weights.get(n)!.data, t.data, n);
  await assert.rejects(
    runPretrainSession({ data: '', out: path.join(dir, 'nothing'), resume: true }, { emit: () => undefined }),
    /There is no run to resume in .*nothing \(it has no run\.json\)/,
  );
  await assert.rejects(
    runPretrainSession({ ...settings, out: path.join(dir, 'a') }, { emit: () => undefined }),
    /already holds a training run/,
  );
});
