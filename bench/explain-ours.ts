/** Our side of `npm run bench:explain` (its own process): one explanation's time on a random-weight classifier. */
import { AttributionModel } from '../src/core/infer/explain';
import { presetConfig } from '../src/core/model/config';
import { classifierParamSpecs, initWeights, seededRandom } from '../src/core/model/params';

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]) as {
    size: string;
    seq: number;
    steps: number;
    runs: number;
    threads: number;
  };
  const cfg = presetConfig(args.size);
  const weights = initWeights(classifierParamSpecs(cfg, 2), 0, cfg.initializerRange);
  const model = await AttributionModel.create(cfg, 2, weights, { threads: args.threads });
  const rand = seededRandom(1);
  const pad = cfg.padTokenId;
  const ids = Array.from({ length: args.seq }, () => pad + 1 + Math.floor(rand() * (cfg.vocabSize - pad - 1)));
  const baselineIds = ids.map((id, s) => (s === 0 || s === args.seq - 1 ? id : pad));
  const times: number[] = [];
  for (let r = 0; r <= args.runs; r++) {
    const t0 = performance.now();
    await model.attribute({ ids, baselineIds }, 0, args.steps);
    times.push((performance.now() - t0) / 1000);
  }
  await model.dispose();
  const sorted = times.slice(1).sort((a, b) => a - b);
  console.log(
    JSON.stringify({ median_s: sorted[Math.floor(sorted.length / 2)], runs: sorted.length, threads: args.threads }),
  );
}

void main();
