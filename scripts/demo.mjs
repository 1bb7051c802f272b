#!/usr/bin/env node
// The demo: fine-tune a small randomly initialised BERT on a few hundred real SpamAssassin mails
// (examples/spam-ham.csv), evaluate it, and classify three texts — all through the `bertft` CLI, as a user would.
// usage: npm run demo   (builds dist/ first; about a minute on 2 CPU cores)
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'dist', 'cli.js');
const data = path.join(root, 'examples', 'spam-ham.csv');
const out = path.join(os.tmpdir(), 'bertft-demo');

if (!existsSync(cli)) {
  console.error(`demo: ${cli} is missing; run \`npm run build\` first (npm run demo does).`);
  process.exit(1);
}

function bertft(args, title) {
  console.log(`\n=== ${title}\n$ bertft ${args.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}`);
  const r = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) {
    console.error(`demo: bertft ${args[0]} exited with ${r.status ?? r.signal}`);
    process.exit(r.status ?? 1);
  }
}

rmSync(out, { recursive: true, force: true });
const started = Date.now();
bertft(['check', '--data', data], 'Check the dataset');
// Nothing but data, model and output: the defaults for a model trained from scratch (src/core/train/presets.ts).
bertft(['train', '--data', data, '--model', 'random:tiny', '--out', out], 'Fine-tune random:tiny with the defaults');
bertft(['eval', '--model', out, '--data', data], 'Evaluate the best model (on all rows: training + validation)');

const best = JSON.parse(readFileSync(path.join(out, 'best', 'eval.json'), 'utf8'));
const counts = Object.values(best.per_class).map((c) => c.support);
const majority = Math.max(...counts) / counts.reduce((a, b) => a + b, 0);
console.log(
  `\nValidation accuracy of the best model: ${best.accuracy.toFixed(3)} (majority-class rate ${majority.toFixed(3)}), macro-F1 ${best.macro_f1.toFixed(3)}`,
);

bertft(
  [
    'predict',
    '--model',
    out,
    '--text',
    'Congratulations! You have been selected to receive a FREE $1000 gift card. Click here now to claim your prize, limited time offer!!!',
    '--text',
    'Hi Tom, the patch for the kernel build is attached. Can you review it before the meeting on Thursday? Thanks, Alan',
    '--text',
    'Make money fast from home. No experience needed. Reply with your bank details to start earning cash today.',
  ],
  'Classify three texts',
);
console.log(`\nDemo finished in ${((Date.now() - started) / 1000).toFixed(0)} s. The run is in ${out}`);
