/**
 * The attribution graph (src/core/infer/explain.ts) against integrated gradients computed by PyTorch autograd on the
 * same tiny random classifiers (test/fixtures/explain/ig.json, written by bench/reference/make_ig_fixture.py from the
 * parity fixtures' weights): same row, baseline, target, steps and trapezoid rule.
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
  test(`integrated gradients equal PyTorch's on a tiny ${c.family} classifier (4, 16, 50 steps)`, async () => {
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
        // Special tokens are the same in input and baseline: nothing to attribute.
        assert.equal(a.scores[0], 0);
        assert.equal(a.scores[c.ids.length - 1], 0);
      }
    } finally {
      await model.dispose();
    }
  });
}
