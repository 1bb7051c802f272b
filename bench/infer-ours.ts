/**
 * Our side of `npm run bench:infer`, in its own process: a randomly initialised BERT classifier written as a model
 * folder (model.onnx fp32, or int8 through core/infer/quantize), loaded with loadPredictor, and timed end to end
 * (tokenize + session run + pooling) on texts that fill `seq` tokens. Last stdout line: JSON.
 *
 *   node out/bench/infer-ours.js '{"size":"mini","seq":128,"batch":16,"warmup":3,"runs":30,"batchRuns":3,"threads":1,"quant":"fp32"}'
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadPredictor } from '../src/core/infer/predictor';
import { quantizeModel, type QuantFormat } from '../src/core/infer/quantize';
import { presetConfig } from '../src/core/model/config';
import { buildInferenceModel } from '../src/core/model/export-onnx';
import { hfConfigJson } from '../src/core/model/load';
import { bertClassifierParamSpecs, initWeights } from '../src/core/model/params';
import { loadPreprocessor } from '../src/core/infer/preprocess';

interface Args {
  size: 'mini' | 'base';
  seq: number;
  batch: number;
  warmup: number;
  runs: number;
  batchRuns: number;
  threads: number;
  quant: 'fp32' | QuantFormat;
}

const NUM_LABELS = 2;

function percentile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.round(q * (s.length - 1)))];
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]) as Args;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bertft-bench-infer-'));
  try {
    const config = presetConfig(args.size);
    const weights = initWeights(bertClassifierParamSpecs(config, NUM_LABELS), 0, config.initializerRange);
    const fp32 = buildInferenceModel(config, NUM_LABELS, weights);
    fs.writeFileSync(
      path.join(dir, 'model.onnx'),
      args.quant === 'fp32' ? fp32 : quantizeModel(fp32, args.quant).bytes,
    );
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(hfConfigJson(config, ['label0', 'label1'])));
    fs.writeFileSync(path.join(dir, 'bertft.json'), JSON.stringify({ max_length: args.seq, truncation: 'head' }));
    await (await loadPreprocessor()).save(dir);
    const predictor = await loadPredictor(dir, { device: 'cpu', threads: args.threads, batchSize: args.batch });
    // Distinct words, each one token of the bert-base-uncased vocab: every text fills all `seq` positions.
    const words = ['alpha', 'river', 'stone', 'music', 'garden', 'window', 'yellow', 'market', 'silver', 'forest'];
    const text = (i: number) => Array.from({ length: args.seq }, (_, j) => words[(i + j * 7) % words.length]).join(' ');
    const rows = (await loadPreprocessor(dir)).encode([text(0)], predictor.settings);
    if (rows.length !== 1 || rows[0].ids.length !== args.seq)
      throw new Error(`the bench text should encode to one row of ${args.seq} tokens`);
    for (let i = 0; i < args.warmup; i++) await predictor.logits([text(i)]);
    const times: number[] = [];
    for (let i = 0; i < args.runs; i++) {
      const t = text(i);
      const start = process.hrtime.bigint();
      await predictor.logits([t]);
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    const batchTexts = Array.from({ length: args.batch }, (_, i) => text(i));
    await predictor.logits(batchTexts);
    const batchTimes: number[] = [];
    for (let i = 0; i < args.batchRuns; i++) {
      const start = process.hrtime.bigint();
      await predictor.logits(batchTexts);
      batchTimes.push(Number(process.hrtime.bigint() - start) / 1e9);
    }
    await predictor.dispose();
    console.log(
      JSON.stringify({
        p50_ms: percentile(times, 0.5),
        p95_ms: percentile(times, 0.95),
        runs: times.length,
        throughput_per_s: args.batch / percentile(batchTimes, 0.5),
        batch: args.batch,
        threads: args.threads,
        quant: args.quant,
        model_mb: fs.statSync(path.join(dir, 'model.onnx')).size / 1e6,
      }),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
