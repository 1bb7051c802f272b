#!/usr/bin/env node
// Bundles the five programs with esbuild into dist/:
//   src/extension/extension.ts -> dist/extension.js  (Node, CommonJS, `vscode` provided by the host)
//   src/trainer/main.ts        -> dist/trainer.js    (Node child process forked by the extension and the CLI)
//   src/extension/inference/worker.ts -> dist/inferenceWorker.js (worker thread of the extension: model sessions)
//   src/cli.ts                 -> dist/cli.js        (Node, `bertft` bin, with a shebang)
//   webview/main.ts            -> dist/webview.js    (browser; CSS it imports goes to dist/webview.css)
// onnxruntime-node is a native module: it stays external and ships in the VSIX next to dist/ (see .vscodeignore).
// An entry point whose source does not exist yet is skipped with a note, so the build works while it is written.
//
// usage: node scripts/build.mjs [--production] [--watch] [--into <folder>]
//   --production  minified, no source maps (used by `vsce package` through the vscode:prepublish script)
//   --watch       rebuild on change
//   --into        write dist/ inside <folder> instead of the repository (scripts/package.mjs stages each VSIX there,
//                 so packaging never replaces the dist/ that tests and a running VS Code load)
import { chmodSync, existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const intoFlag = process.argv.indexOf('--into');
const into = intoFlag === -1 ? undefined : process.argv[intoFlag + 1];
if (intoFlag !== -1 && (!into || into.startsWith('--'))) throw new Error('build: --into needs a folder');
const outRoot = into ? path.resolve(into) : root;

const node = { platform: 'node', target: 'node20', format: 'cjs', external: ['vscode', 'onnxruntime-node'] };
const targets = [
  { name: 'extension', entry: 'src/extension/extension.ts', outfile: 'dist/extension.js', ...node },
  { name: 'trainer', entry: 'src/trainer/main.ts', outfile: 'dist/trainer.js', ...node },
  { name: 'inferenceWorker', entry: 'src/extension/inference/worker.ts', outfile: 'dist/inferenceWorker.js', ...node },
  { name: 'cli', entry: 'src/cli.ts', outfile: 'dist/cli.js', ...node, shebang: true },
  {
    name: 'webview',
    entry: 'webview/main.ts',
    outfile: 'dist/webview.js',
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
  },
];

function options({ entry, outfile, name: _name, shebang, ...rest }) {
  // esbuild keeps a shebang that the source starts with; add one only when it does not.
  const source = readFileSync(path.join(root, entry), 'utf8');
  const banner = shebang && !source.startsWith('#!') ? { banner: { js: '#!/usr/bin/env node' } } : {};
  return {
    ...banner,
    entryPoints: [path.join(root, entry)],
    outfile: path.join(outRoot, outfile),
    bundle: true,
    minify: production,
    sourcemap: production ? false : 'linked',
    logLevel: 'warning',
    ...rest,
  };
}

if (!watch) rmSync(path.join(outRoot, 'dist'), { recursive: true, force: true });

const present = targets.filter((t) => {
  if (existsSync(path.join(root, t.entry))) return true;
  console.log(`build: skipping ${t.name}: ${t.entry} does not exist yet`);
  return false;
});

if (watch) {
  for (const t of present) await (await esbuild.context(options(t))).watch();
  console.log(`build: watching ${present.map((t) => t.name).join(', ')}`);
} else {
  const started = Date.now();
  const results = await Promise.allSettled(present.map((t) => esbuild.build(options(t))));
  let failed = 0;
  for (const [i, r] of results.entries()) {
    const t = present[i];
    if (r.status === 'rejected') {
      failed++;
      console.error(`build: ${t.name} FAILED (${t.entry})`);
    } else {
      console.log(`build: ${t.name} -> ${t.outfile}`);
    }
  }
  // The CLI's shebang only works when the file is executable; esbuild writes it 0644.
  const cli = path.join(outRoot, 'dist/cli.js');
  if (existsSync(cli)) chmodSync(cli, 0o755);
  console.log(
    `build: ${present.length - failed}/${present.length} bundles in ${Date.now() - started} ms${production ? ' (production)' : ''}`,
  );
  if (failed) process.exit(1);
}
