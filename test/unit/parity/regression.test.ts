/**
 * Regression training (mean squared error on one output) against torch.nn.MSELoss on a tiny BERT with num_labels 1,
 * as HF BertForSequenceClassification computes it for problem_type "regression": logits, loss, gradients and 20 AdamW
 * steps, from the committed fixtures (`bench/reference/make_parity_fixtures.py --task regression --seed 1`; why not seed
 * 0: the generator's docstring) and, where Debian's torch is installed, from a fresh rerun with a random seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { PYTHON, assertTargetsTaskParity, readJson, torchAvailable } from '../../helpers/parity';
import { tempFolder } from '../../helpers/temp';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'parity-regression');
const GENERATOR = path.join(ROOT, 'bench', 'reference', 'make_parity_fixtures.py');

test('regression MSE matches the committed PyTorch fixtures: logits, loss, gradients, 20 AdamW steps', async (t) => {
  const config = readJson<{ problem_type?: string; id2label?: Record<string, string> }>(
    path.join(FIXTURES, 'config.json'),
  );
  assert.equal(config.problem_type, 'regression', 'the fixture is an HF regression head');
  assert.deepEqual(config.id2label, { '0': 'LABEL_0' });
  await assertTargetsTaskParity(FIXTURES, 'regression', (line) => t.diagnostic(line));
});

test('regression MSE matches a fresh PyTorch run with a random seed', async (t) => {
  if (!torchAvailable()) {
    t.skip(`${PYTHON} cannot import torch (apt-get install python3-torch libopenblas0-pthread)`);
    return;
  }
  const dir = tempFolder('bertft-regression-');
  const seed = 1 + Math.floor(Math.random() * 1_000_000);
  t.diagnostic(`seed ${seed}`);
  try {
    execFileSync(PYTHON, [GENERATOR, '--out', dir, '--seed', String(seed), '--task', 'regression'], {
      stdio: 'pipe',
      env: { ...process.env, OMP_NUM_THREADS: '1' },
    });
    await assertTargetsTaskParity(dir, 'regression', (line) => t.diagnostic(line));
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
