/**
 * Where onnxruntime-node has no native library (an Intel Mac, Alpine, or the universal package on a platform that has
 * its own), nothing can train or classify. Activation says so once, and every command of the extension says it
 * again, instead of failing later in a worker or the trainer with a missing-module error.
 */
import type { UserError } from '../core/errors';
import type { Ctx } from './context';
import { error as showError, long, say } from './display/ui';

/** The command ids package.json contributes. */
function contributedCommands(packageJson: unknown): string[] {
  const commands = (packageJson as { contributes?: { commands?: { command?: unknown }[] } }).contributes?.commands;
  return (commands ?? []).map((c) => c.command).filter((id): id is string => typeof id === 'string');
}

export function registerUnsupported(ctx: Ctx, problem: UserError): void {
  ctx.log.error(`BERT Fine-tune cannot run here: ${problem.describe()}`);
  void showError(say`BERT: ${long(problem.describe())}`);
  for (const id of contributedCommands(ctx.extension.extension.packageJSON)) {
    ctx.command(id, () => {
      throw problem;
    });
  }
}
