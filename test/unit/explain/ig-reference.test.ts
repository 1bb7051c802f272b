/**
 * The attribution graph (src/core/infer/explain.ts) against integrated gradients computed by PyTorch autograd on the
 * same tiny random classifiers (test/fixtures/explain/ig.json, written by bench/reference/make_ig_fixture.py from the
 * parity fixtures' weights): same row, baseline, target, steps and trapezoid rule. Single texts of each family, and
 * text pairs as BERT's and RoBERTa's pair templates lay them out (the middle separators kept in the baseline).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AttributionModel } from '../../../src/core/infer/explain';
import { loadModelDir } from '../../../src/core/model/load';

const FIXTURES = path.resolve(__dirname, '../../../../test/fixtures');

interface Case {
  family: string;
  fixture: string;
  /** A text pair's row (two segments between the template's separators). */
  pair?: boolean;
  ids: number[];
  baselineIds: number[];
  typeIds: number[];
  target: number;
  results: { steps: number; scores: number[]; logits: number[]; logit: number; baselineLogit: number }[];
}

const cases = (JSON.parse(fs.readFileSync(path.join(FIXTURES, 'explain', 'ig.json'), 'utf8')) as { cases: Case[] })
  .cases;

/**
 * Largest difference allowed, relative to the largest |attribution| of the row: float32 round-off of two different
 * summation orders over 4–50 forward and backward passes (measured on 2026-12-06: at most 8.4e-7, RoBERTa, 4 steps).
 */
const RELATIVE_TOLERANCE = 1e-5;

for (const c of cases) {
  const what = c.pair ? `a text pair of a tiny ${c.family} classifier` : `a tiny ${c.family} classifier`;
  test(`integrated gradients equal PyTorch's on ${what} (4, 16, 50 steps)`, async () => {
    const { config, weights } = await loadModelDir(path.join(FIXTURES, c.fixture), 3, 0);
    const model = await AttributionModel.create(config, 3, weights, { rowsPerRun: 7 });
    try {
      for (const r of c.results) {
        const a = await model.attribute(
          { ids: c.ids, typeIds: c.typeIds, baselineIds: c.baselineIds },
          c.target,
          r.steps,
        );
        const scale = Math.max(...r.scores.map(Math.abs));
        const worst = Math.max(...r.scores.map((s, i) => Math.abs(s - a.scores[i])));
        assert.ok(worst <= RELATIVE_TOLERANCE * scale, `${c.family}, ${r.steps} steps: max |Δ| ${worst} vs ${scale}`);
        r.logits.forEach((l, i) => assert.ok(Math.abs(a.logits[i] - l) < 1e-5, `logit ${i}: ${a.logits[i]} vs ${l}`));
        assert.ok(Math.abs(a.baselineLogit - r.baselineLogit) < 1e-5);
        // Special tokens (a pair's middle separators too) are the same in input and baseline: nothing to attribute.
        c.ids.forEach((id, i) => {
          if (id === c.baselineIds[i]) assert.equal(a.scores[i], 0, `position ${i}`);
        });
      }
    } finally {
      await model.dispose();
    }
  });
}
