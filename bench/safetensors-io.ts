/**
 * Write and read a BERT-base-sized model.safetensors (≈420 MB) and report time and peak RSS. The read runs in a
 * fresh child process, so its peak RSS shows that the reader streams tensors into their arrays instead of holding
 * the file (or a copy of it) in memory: peak ≈ node's baseline + the tensors themselves.
 *
 *   npx tsc -p . && node out/bench/safetensors-io.js [base|mini]
 */
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { presetConfig } from '../src/core/model/config';
import { bertClassifierParamSpecs, initWeights } from '../src/core/model/params';
import { readSafetensors, writeSafetensors } from '../src/core/model/safetensors';
import { peakRssMb } from './peak-rss';

async function readMode(file: string): Promise<void> {
  const baseline = peakRssMb();
  const t = performance.now();
  const tensors = await readSafetensors(file);
  const readS = (performance.now() - t) / 1000;
  let bytes = 0;
  for (const v of tensors.values()) bytes += v.data.byteLength;
  console.log(
    JSON.stringify({ read_s: readS, tensor_mb: bytes / 2 ** 20, baseline_rss_mb: baseline, peak_rss_mb: peakRssMb() }),
  );
}

async function main(): Promise<void> {
  if (process.argv[2] === 'read') return readMode(process.argv[3]);
  const size = (process.argv[2] ?? 'base') as 'base' | 'mini';
  const config = presetConfig(size);
  const weights = initWeights(bertClassifierParamSpecs(config, 2), 0, 0.02);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bertft-stio-'));
  const file = path.join(dir, 'model.safetensors');
  try {
    const t = performance.now();
    await writeSafetensors(file, weights, { format: 'pt' });
    const writeS = (performance.now() - t) / 1000;
    const fileMb = (await fs.stat(file)).size / 2 ** 20;
    const child = spawnSync(process.execPath, [__filename, 'read', file], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const read = JSON.parse(child.stdout.trim().split('\n').pop() as string) as Record<string, number>;
    console.log(
      JSON.stringify({
        size,
        tensors: weights.size,
        file_mb: fileMb,
        write_s: writeS,
        write_mb_per_s: fileMb / writeS,
        read_mb_per_s: fileMb / read.read_s,
        ...read,
        read_overhead_mb: read.peak_rss_mb - read.baseline_rss_mb - read.tensor_mb,
      }),
    );
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
