/**
 * Multi-label training (binary cross-entropy with logits, with positive weights) against
 * torch.nn.BCEWithLogitsLoss(pos_weight=p) on a tiny BERT classifier with three sigmoid outputs: loss, gradients and 20
 * AdamW steps, from the committed fixtures (`bench/reference/make_parity_fixtures.py --task multi-label
 * --pos-weight 0.5,3,1`) and, where Debian's torch is installed, from a fresh rerun without positive weights (HF's
 * BertForSequenceClassification loss for problem_type "multi_label_classification") with a random seed.
 */
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { PYTHON, assertTargetsTaskParity, torchAvailable } from '../../helpers/parity';
import { tempFolder } from '../../helpers/temp';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'parity-multi-label');
const GENERATOR = path.join(ROOT, 'bench', 'reference', 'make_parity_fixtures.py');
const checkMultiLabelParity = (dir: string, log: (line: string) => void) =>
  assertTargetsTaskParity(dir, 'multi-label', log);

test('multi-label BCE with positive weights matches the committed PyTorch fixtures: loss, gradients, 20 AdamW steps', async (t) => {
  await checkMultiLabelParity(FIXTURES, (line) => t.diagnostic(line));
});

test('multi-label BCE without positive weights (HF multi_label_classification) matches a fresh PyTorch run', async (t) => {
  if (!torchAvailable()) {
    t.skip(`${PYTHON} cannot import torch (apt-get install python3-torch libopenblas0-pthread)`);
    return;
  }
  const dir = tempFolder('bertft-multi-label-');
  const seed = 1 + Math.floor(Math.random() * 1_000_000);
  t.diagnostic(`seed ${seed}`);
  try {
    execFileSync(PYTHON, [GENERATOR, '--out', dir, '--seed', String(seed), '--task', 'multi-label'], {
      stdio: 'pipe',
      env: { ...process.env, OMP_NUM_THREADS: '1' },
    });
    await checkMultiLabelParity(dir, (line) => t.diagnostic(line));
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
