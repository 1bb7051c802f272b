/** A second live process that holds a run folder's lock, as a training run in another window does. */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RUN_LOCK } from '../../src/core/run/paths';

export interface LockHolder {
  /** Ends the holder with SIGKILL: no exit handler runs, so the lock stays behind, stale. */
  kill(): Promise<void>;
}

/**
 * Starts a node process that takes `runDir`'s lock and waits. Resolves once the lock file exists; rejects with the
 * holder's stderr if it exits first. The lock module is resolved here, so a moved module fails loudly.
 */
export async function holdLockInAnotherProcess(runDir: string): Promise<LockHolder> {
  const lockModule = require.resolve('../../src/core/run/lock');
  const holder = spawn(process.execPath, [
    '-e',
    `require(${JSON.stringify(lockModule)}).acquireRunLock(${JSON.stringify(runDir)}); setInterval(() => {}, 1000);`,
  ]);
  let stderr = '';
  holder.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => holder.once('exit', () => resolve()));
  // A loaded machine can take seconds to start a node process.
  for (let i = 0; i < 600 && holder.exitCode === null && !fs.existsSync(path.join(runDir, RUN_LOCK)); i++)
    await new Promise((r) => setTimeout(r, 50));
  if (!fs.existsSync(path.join(runDir, RUN_LOCK))) {
    holder.kill('SIGKILL');
    await exited;
    throw new Error(`the lock-holding process did not take the lock; its stderr: ${stderr}`);
  }
  return {
    kill: async () => {
      holder.kill('SIGKILL');
      await exited;
    },
  };
}
