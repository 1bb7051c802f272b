/** Explanations of a trained run's best/ (src/core/infer/explain.ts): completeness, labels, tokens and their spans. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadExplainer, type Explanation } from '../../../src/core/infer/explain';
import { loadPredictor } from '../../../src/core/infer/predictor';
import { loadPreprocessor } from '../../../src/core/infer/preprocess';
import { ModelError } from '../../../src/core/errors';
import { runTrainingSession } from '../../../src/core/finetune/session';
import { memberModelDirs } from '../../../src/core/run/paths';
import { TINY_RUN_SETTINGS } from '../../helpers/tiny-run';
import { tempDir, writeSentimentCsv } from '../runner/fixtures';
import { trainedRun } from './trained';

const TEXT = 'The acting was wonderful, the ending superb and dreadful.';

function gap(e: Explanation): number {
  return Math.abs(e.tokens.reduce((s, t) => s + t.score, 0) - (e.logit - e.baselineLogit));
}

test('completeness: attributions sum to logit(input) − logit(baseline), the error falling with the steps', async () => {
  const explainer = await loadExplainer(await trainedRun());
  const predictor = await loadPredictor(await trainedRun());
  try {
    const byStep = new Map<number, Explanation>();
    for (const steps of [2, 8, 50]) byStep.set(steps, await explainer.explain(TEXT, { steps }));
    const e50 = byStep.get(50)!;
    const delta = Math.abs(e50.logit - e50.baselineLogit);
    assert.ok(delta > 0.01, `the text moves the logit (${delta})`);
    // The trapezoid rule's error falls as 1/steps^2 on this smooth (GELU, tanh) model, so the tolerance does too:
    // |logit difference| / steps^2. Measured on 2026-12-06: gaps 4.9e-2 (2 steps), 2.0e-3 (8), 5.1e-5 (50) of a
    // logit difference of 0.373, each 2-3x under its tolerance (9.3e-2, 5.8e-3, 1.5e-4).
    for (const [steps, e] of byStep) {
      assert.ok(gap(e) <= delta / steps ** 2, `${steps} steps: gap ${gap(e)} > ${delta / steps ** 2}`);
    }
    assert.ok(gap(byStep.get(8)!) < gap(byStep.get(2)!), 'more steps, smaller gap (2 → 8)');
    assert.ok(gap(e50) < gap(byStep.get(8)!), 'more steps, smaller gap (8 → 50)');
    // The explained label is the predicted one, and the input's logit is the prediction's.
    const [p] = await predictor.predict([TEXT]);
    assert.equal(e50.label, p.label);
    const logits = await predictor.logits([TEXT]);
    assert.ok(Math.abs(logits[e50.labelIndex] - e50.logit) < 1e-4, `${logits[e50.labelIndex]} vs ${e50.logit}`);
    assert.equal(e50.steps, 50);
    assert.equal(e50.baseline, 'pad');
    assert.equal(e50.truncated, false);
    // The only words that tell the classes apart in the training data are the sentiment words.
    const top = [...e50.tokens].sort((a, b) => Math.abs(b.score) - Math.abs(a.score))[0];
    assert.ok(['wonderful', 'superb', 'dreadful'].includes(top.token), `top token ${top.token}`);
  } finally {
    await explainer.dispose();
    await predictor.dispose();
  }
});

test('tokens are the content tokens, with their text spans; another label gives other scores', async () => {
  const explainer = await loadExplainer(await trainedRun());
  try {
    const e = await explainer.explain(TEXT, { steps: 8 });
    assert.deepEqual(
      e.tokens.map((t) => t.token),
      ['the', 'acting', 'was', 'wonderful', ',', 'the', 'ending', 'superb', 'and', 'dreadful', '.'],
    );
    for (const t of e.tokens) {
      assert.ok(t.start !== null && t.end !== null, t.token);
      assert.equal(TEXT.slice(t.start, t.end).toLowerCase(), t.token.replace(/^##/, ''));
    }
    const other = explainer.labels.find((l) => l !== e.label)!;
    const o = await explainer.explain(TEXT, { steps: 8, label: other });
    assert.equal(o.label, other);
    assert.notDeepEqual(
      o.tokens.map((t) => t.score),
      e.tokens.map((t) => t.score),
    );
    await assert.rejects(explainer.explain(TEXT, { label: 'no-such-label' }), (err: unknown) => {
      assert.ok(err instanceof ModelError);
      assert.match(err.message, /no label "no-such-label"/);
      return true;
    });
  } finally {
    await explainer.dispose();
  }
});

test("a head+tail model's tokens point at the start and at the end of a long text", async () => {
  const run = await trainedRun();
  const copy = path.join(tempDir('explain-head-tail'), 'best');
  fs.cpSync(path.join(run, 'best'), copy, { recursive: true });
  fs.writeFileSync(path.join(copy, 'bertft.json'), JSON.stringify({ max_length: 18, truncation: 'head+tail' }));
  const text = `${'first words come here '.repeat(5)}${'middle '.repeat(40)}and the last words`;
  const explainer = await loadExplainer(copy);
  try {
    const e = await explainer.explain(text, { steps: 4 });
    assert.equal(e.truncated, true);
    assert.equal(e.tokens.length, 16);
    // 16 content tokens: round(16 / 4) = 4 from the head, 12 from the tail.
    assert.deepEqual(
      e.tokens.slice(0, 4).map((t) => text.slice(t.start!, t.end!)),
      ['first', 'words', 'come', 'here'],
    );
    assert.deepEqual(
      e.tokens.slice(-4).map((t) => text.slice(t.start!, t.end!)),
      ['and', 'the', 'last', 'words'],
    );
    assert.equal(e.tokens[15].end, text.length);
  } finally {
    await explainer.dispose();
  }
});

test('an int8 copy is refused with the float32 folder to use instead', async () => {
  const run = await trainedRun();
  const model = path.join(tempDir('explain-int8'), 'best');
  fs.cpSync(path.join(run, 'best'), model, { recursive: true });
  fs.cpSync(path.join(run, 'best'), path.join(model, 'int8'), { recursive: true });
  await assert.rejects(loadExplainer(path.join(model, 'int8')), (err: unknown) => {
    assert.ok(err instanceof ModelError);
    assert.equal(err.code, 'MODEL_INT8_NO_EXPLAIN');
    assert.ok(err.fix?.includes(model), err.fix);
    return true;
  });
});

test("a window model's explanation covers every window and sums to the pooled logit's difference", async () => {
  const run = await trainedRun();
  const copy = path.join(tempDir('explain-window'), 'best');
  fs.cpSync(path.join(run, 'best'), copy, { recursive: true });
  // 10 content tokens a window, windows 8 tokens apart (stride 2): 26 tokens need 3 windows, two of them overlapping.
  fs.writeFileSync(path.join(copy, 'bertft.json'), JSON.stringify({ max_length: 12, truncation: 'window' }));
  const text =
    'the film was wonderful and superb, truly lovely, but the ending was awful and boring, a dreadful and poor plot';
  const explainer = await loadExplainer(copy);
  const predictor = await loadPredictor(copy);
  try {
    const e = await explainer.explain(text, { steps: 50 });
    const total = (await loadPreprocessor(copy)).tokenizer.tokenIds(text).length;
    assert.equal(e.truncated, false);
    assert.equal(e.tokens.length, total);
    assert.ok(total > 20, `${total} tokens`);
    assert.deepEqual(
      e.tokens.map((t) => text.slice(t.start!, t.end!).toLowerCase()),
      e.tokens.map((t) => t.token.replace(/^##/, '')),
    );
    // The prediction pools the windows' logits (their mean): the explanation is of that logit.
    const pooled = await predictor.logits([text]);
    assert.ok(Math.abs(pooled[e.labelIndex] - e.logit) < 1e-4, `${pooled[e.labelIndex]} vs ${e.logit}`);
    const [p] = await predictor.predict([text]);
    assert.equal(e.label, p.label);
    const sum = e.tokens.reduce((s, t) => s + t.score, 0);
    const delta = e.logit - e.baselineLogit;
    assert.ok(Math.abs(sum - delta) <= Math.abs(delta) / 50 ** 2, `${sum} vs ${delta}`);
  } finally {
    await explainer.dispose();
    await predictor.dispose();
  }
});

test("a seed ensemble is explained as it predicts: the log of its members' mean probability, complete", async () => {
  const dir = tempDir('explain-ensemble');
  const out = path.join(dir, 'run');
  await runTrainingSession(
    { ...TINY_RUN_SETTINGS, data: writeSentimentCsv(dir), out, ensembleSize: 2 },
    { emit: () => {}, shouldStop: () => false },
  );
  assert.equal(memberModelDirs(path.join(out, 'best')).length, 1);
  const explainer = await loadExplainer(out);
  const predictor = await loadPredictor(out);
  // The first member alone: best/ without the other member and the ensemble's model.onnx.
  const firstOnly = path.join(dir, 'first');
  fs.cpSync(path.join(out, 'best'), firstOnly, {
    recursive: true,
    filter: (src) => !['members', 'model.onnx', 'onnx'].includes(path.basename(src)),
  });
  const single = await loadExplainer(firstOnly);
  try {
    const e = await explainer.explain(TEXT, { steps: 50 });
    const [p] = await predictor.predict([TEXT]);
    assert.equal(e.label, p.label);
    assert.ok(Math.abs(Math.log(p.scores[e.label]) - e.logit) < 1e-4, `log ${p.scores[e.label]} vs ${e.logit}`);
    const delta = Math.abs(e.logit - e.baselineLogit);
    assert.ok(delta > 0.01, `the text moves the ensemble's output (${delta})`);
    assert.ok(gap(e) <= delta / 50 ** 2, `gap ${gap(e)} > ${delta / 50 ** 2}`);
    const alone = await single.explain(TEXT, { steps: 50, label: e.label });
    assert.ok(Math.abs(alone.logit - e.logit) > 1e-3, 'the first member alone explains another function');
  } finally {
    await Promise.all([explainer.dispose(), predictor.dispose(), single.dispose()]);
  }
});
