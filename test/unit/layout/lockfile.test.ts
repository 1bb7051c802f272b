/**
 * `npm ci` (README's two commands, CI) refuses a package-lock.json that does not match package.json: caught here, in
 * a second, instead of on a clean clone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

const REPO = path.join(__dirname, '..', '..', '..', '..');
type Deps = Record<string, string>;
interface Manifest {
  dependencies?: Deps;
  devDependencies?: Deps;
  optionalDependencies?: Deps;
}

test('package-lock.json records exactly the dependencies package.json declares, each of them resolved', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as Manifest;
  const lock = JSON.parse(fs.readFileSync(path.join(REPO, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, Manifest & { version?: string }>;
  };
  const root = lock.packages[''];
  for (const field of ['dependencies', 'devDependencies', 'optionalDependencies'] as const) {
    assert.deepEqual(root[field] ?? {}, manifest[field] ?? {}, `${field} differ: run \`npm install\` and commit both`);
    for (const name of Object.keys(manifest[field] ?? {}))
      assert.ok(lock.packages[`node_modules/${name}`]?.version, `${name} is not resolved in package-lock.json`);
  }
});
