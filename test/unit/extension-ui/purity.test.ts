import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');

/** Modules the unit tests load in plain Node; they must not import VS Code (type-only imports are erased). */
const PURE = [
  'src/extension/protocol/dashboardState.ts',
  'src/extension/protocol/messages.ts',
  'src/extension/protocol/l10n.ts',
  'src/extension/dashboard/statusText.ts',
  'src/extension/dashboard/batcher.ts',
  'src/extension/dashboard/html.ts',
  'src/extension/dashboard/viewModel.ts',
  'src/extension/dashboard/accessibility.ts',
  'src/extension/dashboard/statusDriver.ts',
  'src/extension/runs/runStore.ts',
  'src/extension/runs/runWatcher.ts',
  'src/extension/runs/clusterStatus.ts',
  'src/extension/runs/jobs.ts',
  'src/extension/protocol/cluster.ts',
  'src/extension/training/options.ts',
  'src/extension/training/check.ts',
  'src/extension/training/estimateText.ts',
  'src/extension/training/modelItems.ts',
  'src/extension/training/lengthStep.ts',
  'src/extension/training/cluster.ts',
  'src/extension/display/text.ts',
  'src/extension/inference/text.ts',
  'src/extension/networkEnv.ts',
];

test('pure UI modules import VS Code at most as types', () => {
  for (const file of PURE) {
    const source = fs.readFileSync(path.join(ROOT, file), 'utf8');
    const valueImports = source
      .split('\n')
      .filter((l) => /^import\s+(?!type\b).*from\s+'(vscode|\.\.\/(statusBar|config|commands|extension))'/.test(l));
    assert.deepEqual(valueImports, [], file);
  }
});

test('the webview never turns strings into markup', () => {
  const dir = path.join(ROOT, 'webview');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.ts'));
  assert.ok(files.includes('main.ts'));
  for (const file of files) {
    const source = fs.readFileSync(path.join(dir, file), 'utf8');
    assert.doesNotMatch(
      source,
      /\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|DOMParser|createContextualFragment/,
      file,
    );
  }
});
