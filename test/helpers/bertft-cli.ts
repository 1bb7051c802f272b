/** The compiled `bertft` run as a user runs it, for the CLI's end-to-end tests. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const CLI = path.join(__dirname, '..', '..', 'src', 'cli.js');

export function run(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
}

/** bertft's --json output: one object a line (the command must succeed). */
export function bertft<T>(...args: string[]): T[] {
  const r = run(...args);
  assert.equal(r.status, 0, `bertft ${args[0]} failed:\n${r.stderr}`);
  return r.stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as T);
}
