/** The editor's side of explanations: the inference worker's explain op, and the pure text of hover and colours. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadExplainer, type Explanation } from '../../../src/core/infer/explain';
import { asMarkdown, asPlain } from '../../../src/extension/display/text';
import { InferenceClient } from '../../../src/extension/inference/client';
import {
  attributionLevel,
  describeTopTokens,
  hoverMarkdown,
  HoverExplanationGate,
  SLOW_EXPLANATION_BUDGETS,
  topTokens,
} from '../../../src/extension/inference/text';
import { trainedRun } from './trained';

const TEXT = 'The acting was wonderful, the ending superb and dreadful.';

test('the worker explains with the loaded model exactly as the core explainer does, and drops it with the model', async () => {
  const run = await trainedRun();
  const client = new InferenceClient();
  const explainer = await loadExplainer(run);
  try {
    await client.load(run);
    const viaWorker = await client.explain(TEXT, { steps: 10 });
    assert.deepEqual(viaWorker, await explainer.explain(TEXT, { steps: 10 }));
    const other = explainer.labels.find((l) => l !== viaWorker.label)!;
    assert.equal((await client.explain(TEXT, { steps: 4, label: other })).label, other);
    await assert.rejects(client.explain(TEXT, { label: 'nope' }), /no label "nope"/);
  } finally {
    await explainer.dispose();
    await client.dispose();
  }
  const fresh = new InferenceClient();
  try {
    await assert.rejects(fresh.explain(TEXT), /No model is loaded/);
  } finally {
    await fresh.dispose();
  }
});

function explanation(tokens: [string, number, number | null, number][]): Explanation {
  return {
    label: 'pos',
    labelIndex: 1,
    steps: 50,
    baseline: 'pad',
    logit: 1,
    baselineLogit: 0,
    truncated: false,
    tokens: tokens.map(([token, score, start, end]) => ({
      token,
      id: 0,
      score,
      start,
      end: start === null ? null : end,
    })),
  };
}

test('top tokens and colour levels: sign and share of the largest |score|', () => {
  const text = 'good [x](command:evil) bad';
  const e = explanation([
    ['good', 0.5, 0, 4],
    ['[', 0.3, 5, 22],
    ['bad', -0.9, 23, 26],
    ['[UNK]', 0.04, null, 0],
  ]);
  assert.deepEqual(
    topTokens(e, 5).map((t) => t.token),
    ['good', '['], // [UNK]'s 0.04 is under a tenth of the largest |score| (0.9)
  );
  assert.equal(asPlain(describeTopTokens([text], e, 2)), 'good +0.500 · [x] (command:evil) +0.300');
  assert.equal(asPlain(describeTopTokens([text], explanation([['bad', -1, 0, 3]]))), '(none)');
  assert.equal(attributionLevel(0.9, 0.9), 'towardStrong');
  assert.equal(attributionLevel(0.4, 0.9), 'toward');
  assert.equal(attributionLevel(-0.4, 0.9), 'against');
  assert.equal(attributionLevel(-0.5, 1), 'againstStrong');
  assert.equal(attributionLevel(0.05, 1), undefined);
  assert.equal(attributionLevel(0, 0), undefined);
  // In the hover the token text is data: escaped, no link.
  const md = asMarkdown(
    hoverMarkdown({ label: 'pos', score: 0.8, scores: { pos: 0.8, neg: 0.2 } }, 'run', undefined, 5, {
      texts: [text],
      explanation: e,
    }),
  );
  assert.ok(md.includes('Toward pos: good +0\\.500 · \\[x\\]'), md);
  assert.ok(!md.includes('](command:evil)'), md);
});

test('hovers stop starting explanations for a model whose hover-started explanation was too slow', () => {
  const gate = new HoverExplanationGate();
  const budget = 300;
  assert.equal(gate.mayStart('/runs/a'), true);
  gate.finished('/runs/a', SLOW_EXPLANATION_BUDGETS * budget, budget);
  assert.equal(gate.mayStart('/runs/a'), true, 'exactly the limit is not too slow');
  gate.finished('/runs/a', SLOW_EXPLANATION_BUDGETS * budget + 1, budget);
  assert.equal(gate.mayStart('/runs/a'), false);
  assert.equal(gate.mayStart('/runs/b'), true, 'another model still may');
});
