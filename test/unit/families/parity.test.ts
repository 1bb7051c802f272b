/**
 * Every family's train step against its plain-PyTorch reference in bench/reference/, one table: the committed
 * fixtures (`make_parity_fixtures.py --family distilbert|roberta|electra`, `make_gpt2_parity_fixture.py`,
 * `make_modernbert_fixtures.py`, `make_deberta_v2_fixture.py`: logits, loss and gradients of one batch, then the
 * AdamW trajectory and final weights), and, where Debian's torch is installed, a model we train and save read back by
 * the reference to the same logits. BERT's own parity test (test/unit/parity/parity.test.ts) checks more on its
 * fixture (key-bias bounds, a fresh-seed rerun of the reference, the K-step Loop); each family's file has the checks
 * of what only it has (pooling, windows, buckets, configs, checkpoint layouts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BertConfig, ModelFamily } from '../../../src/core/model/config';
import { loadModelDir, saveHfModel } from '../../../src/core/model/load';
import type { Tensor, Weights } from '../../../src/core/model/params';
import { readSafetensors } from '../../../src/core/model/safetensors';
import { createTrainEngine } from '../../../src/core/train/engine';
import {
  BatchJson,
  FinalWeightsComparison,
  PYTHON,
  TOL,
  TrajectoryJson,
  assertTrajectoryParity,
  readJson,
  toBatch,
  torchAvailable,
  worstRelative,
} from '../../helpers/parity';
import { tempFolder } from '../../helpers/temp';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');

interface ParityCase {
  /** The folder under test/fixtures. */
  fixture: string;
  modelType: ModelFamily;
  /** AdamW steps in its trajectory.json. */
  steps: number;
  /** The reference script whose `logits DIR BATCH` reads a folder we saved. */
  reference: string;
  /** The architecture saveHfModel writes into config.json. */
  architecture: string;
  /** Config values the fixture must load with. */
  config?: Partial<BertConfig>;
  /** Keys the saved config.json must hold (beyond architectures and model_type), and why. */
  saved?: Record<string, unknown>;
  /** How the trained weights are compared with final.safetensors, where key biases need it. */
  final?: (config: BertConfig) => FinalWeightsComparison;
  /** Whether a model we train and save is read back by the reference (default true). */
  readBack?: boolean;
}

/**
 * GPT-2: the key third of each fused c_attn bias zeroed on both sides: its true gradient is exactly zero (softmax is
 * shift invariant), so AdamW turns float32 noise on both sides into lr-sized steps, as helpers/parity.ts's isKeyBias
 * says.
 */
function gpt2WithoutKeyBiases(weights: Weights): Weights {
  const out = new Map(weights);
  for (const [name, t] of weights) {
    if (!name.endsWith('.attn.c_attn.bias')) continue;
    const third = t.data.length / 3;
    const data = Float32Array.from(t.data);
    data.fill(0, third, 2 * third);
    out.set(name, { shape: t.shape, data });
  }
  return out;
}

/**
 * ModernBERT: the key third of a fused Wqkv bias has almost no gradient: a bias added to every key shifts each score
 * row by a constant, which softmax ignores, except for the rotation RoPE gives it per position, tiny in the
 * slow-turning dimensions (theta^(-2i/d) down to 1e-4 here). AdamW divides those tiny gradients by their own size, so
 * float32 round-off moves them visibly. It is compared on its own, loosely; the query and value thirds are compared
 * like every other tensor.
 */
const KEY_SLICE = '.bias[key]';
function modernbertKeyBiasesApart(config: BertConfig): FinalWeightsComparison {
  const H = config.hiddenSize;
  const split = (weights: Weights): Weights => {
    const out = new Map<string, Tensor>();
    for (const [name, t] of weights) {
      if (!name.endsWith('attn.Wqkv.bias')) {
        out.set(name, t);
        continue;
      }
      const qv = new Float32Array(2 * H);
      qv.set(t.data.subarray(0, H), 0);
      qv.set(t.data.subarray(2 * H, 3 * H), H);
      out.set(name.replace(/\.bias$/, '.bias[query,value]'), { shape: [2 * H], data: qv });
      out.set(name.replace(/\.bias$/, KEY_SLICE), { shape: [H], data: t.data.slice(H, 2 * H) });
    }
    return out;
  };
  return { rewrite: split, loose: { names: (n) => n.endsWith(KEY_SLICE), tol: 1e-3, what: 'key biases' } };
}

const CASES: ParityCase[] = [
  {
    fixture: 'parity-distilbert',
    modelType: 'distilbert',
    steps: 20,
    reference: 'bert_torch.py',
    architecture: 'DistilBertForSequenceClassification',
  },
  {
    fixture: 'parity-roberta',
    modelType: 'roberta',
    steps: 20,
    reference: 'bert_torch.py',
    architecture: 'RobertaForSequenceClassification',
  },
  {
    fixture: 'parity-electra',
    modelType: 'electra',
    steps: 20,
    reference: 'bert_torch.py',
    architecture: 'ElectraForSequenceClassification',
  },
  {
    fixture: 'parity-gpt2',
    modelType: 'gpt2',
    steps: 50,
    reference: 'gpt2_torch.py',
    architecture: 'GPT2ForSequenceClassification',
    // The fixture's config has no pad_token_id: eos (63) pads, as in its batches; n_inner null is 4 * n_embd.
    config: { padTokenId: 63, intermediateSize: 128 },
    // The pad id we trained with is written, so transformers pools the same token.
    saved: { pad_token_id: 63, activation_function: 'gelu_new' },
    final: () => ({ rewrite: gpt2WithoutKeyBiases }),
  },
  {
    fixture: 'parity-modernbert',
    modelType: 'modernbert',
    steps: 50,
    reference: 'modernbert_torch.py',
    architecture: 'ModernBertForSequenceClassification',
    final: modernbertKeyBiasesApart,
  },
  {
    fixture: 'parity-modernbert-cls',
    modelType: 'modernbert',
    steps: 20,
    reference: 'modernbert_torch.py',
    architecture: 'ModernBertForSequenceClassification',
    final: modernbertKeyBiasesApart,
    readBack: false,
  },
  {
    fixture: 'parity-deberta-v2',
    modelType: 'deberta-v2',
    steps: 50,
    reference: 'deberta_v2_torch.py',
    architecture: 'DebertaV2ForSequenceClassification',
    saved: { position_buckets: 8 },
  },
];

for (const c of CASES) {
  const dir = path.join(ROOT, 'test', 'fixtures', c.fixture);

  test(`${c.fixture}: engine matches the committed PyTorch fixture (logits, loss, gradients, ${c.steps} AdamW steps)`, async (t) => {
    const expected = readJson<{ loss: number; logits: number[] }>(path.join(dir, 'expected.json'));
    const trajectory = readJson<TrajectoryJson>(path.join(dir, 'trajectory.json'));
    const batchJson = readJson<BatchJson>(path.join(dir, 'batch.json'));
    const numLabels = expected.logits.length / batchJson.batchSize;
    const initial = await loadModelDir(dir, numLabels, 0);
    assert.equal(initial.config.modelType, c.modelType);
    assert.equal(initial.addedHead, false, 'the fixture has its classifier');
    for (const [key, value] of Object.entries(c.config ?? {})) {
      assert.deepEqual(initial.config[key as keyof BertConfig], value, `config ${key}`);
    }
    assert.equal(trajectory.batches.length, c.steps);
    const engineFor = () =>
      createTrainEngine({
        config: initial.config,
        numLabels,
        weights: initial.weights,
        hyper: trajectory.hyper,
        device: 'cpu',
        dropout: false,
        seed: 0,
        threads: 1,
        graphOptimizationLevel: 'basic',
      });

    const engine = await engineFor();
    const batch = toBatch(batchJson);
    const logits = await engine.forward(batch);
    const logitsErr = Math.max(...expected.logits.map((x, i) => Math.abs(x - logits[i])));
    const { loss, grads } = await engine.lossAndGradients(batch);
    const g = worstRelative(grads, await readSafetensors(path.join(dir, 'grads.safetensors')), 1e-30);
    await engine.dispose();
    t.diagnostic(
      `max |Δlogit| ${logitsErr.toExponential(2)}; |Δloss| ${Math.abs(loss - expected.loss).toExponential(2)}; worst gradient error ${g.err.toExponential(2)} (${g.name})`,
    );
    assert.equal(logits.length, expected.logits.length);
    assert.ok(logitsErr <= TOL.logits, `logits differ by ${logitsErr}`);
    assert.ok(Math.abs(loss - expected.loss) <= TOL.loss, `loss ${loss} vs ${expected.loss}`);
    assert.ok(g.err <= TOL.grad, `gradient ${g.name} differs by ${g.err}`);

    await assertTrajectoryParity(
      await engineFor(),
      trajectory,
      path.join(dir, 'final.safetensors'),
      (line) => t.diagnostic(line),
      c.final?.(initial.config),
    );
  });

  if (c.readBack === false) continue;
  test(`${c.fixture}: a model we train and save is read by the PyTorch reference to the same logits`, async (t) => {
    if (!torchAvailable()) {
      t.skip(`${PYTHON} cannot import torch (apt-get install python3-torch libopenblas0-pthread)`);
      return;
    }
    const trajectory = readJson<TrajectoryJson>(path.join(dir, 'trajectory.json'));
    const { config, weights } = await loadModelDir(dir, 3, 0);
    const engine = await createTrainEngine({
      config,
      numLabels: 3,
      weights,
      hyper: trajectory.hyper,
      device: 'cpu',
      dropout: false,
      seed: 0,
      threads: 1,
      graphOptimizationLevel: 'basic',
    });
    const out = tempFolder(`bertft-saved-${c.fixture}-`);
    try {
      for (const b of trajectory.batches.slice(0, 5)) await engine.trainStep(toBatch(b));
      await saveHfModel(out, { config, weights: engine.getWeights(), id2label: ['neg', 'neu', 'pos'] });
      const saved = readJson<Record<string, unknown>>(path.join(out, 'config.json'));
      assert.deepEqual(saved.architectures, [c.architecture]);
      assert.equal(saved.model_type, c.modelType);
      for (const [key, value] of Object.entries(c.saved ?? {})) assert.deepEqual(saved[key], value, `saved ${key}`);
      const batchFile = path.join(dir, 'batch.json');
      const ours = await engine.forward(toBatch(readJson<BatchJson>(batchFile)));
      const stdout = execFileSync(
        PYTHON,
        [path.join(ROOT, 'bench', 'reference', c.reference), 'logits', out, batchFile],
        {
          encoding: 'utf8',
        },
      );
      const theirs = JSON.parse(stdout.trim().split('\n').pop() as string) as number[];
      const err = Math.max(...theirs.map((x, i) => Math.abs(x - ours[i])));
      t.diagnostic(`max |Δlogit| after save → PyTorch load: ${err.toExponential(2)}`);
      assert.equal(theirs.length, ours.length);
      assert.ok(err <= TOL.logits, `logits differ by ${err}`);
    } finally {
      await engine.dispose();
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
}
