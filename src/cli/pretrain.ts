/**
 * `bertft pretrain`: masked-LM pre-training in this process. Ctrl-C stops after the current step with a checkpoint
 * (and best/ kept); `--resume --out <run>` continues it.
 */
import { runPretrainSession, type PretrainEvent } from '../core/pretrain/session';
import type { DeviceChoice } from '../core/train/engine';
import { getBool, getNumber, getString, requireString, type ParsedArgs } from './args';
import { EXIT_CANCELLED, EXIT_OK, type CliIo } from './main';

function describe(e: PretrainEvent): string | undefined {
  switch (e.event) {
    case 'started':
      return `pre-training ${e.model} on ${e.device}: ${e.train_windows} windows of ≤${e.max_length} tokens (${e.eval_windows} held out), ${e.total_steps} steps\n`;
    case 'step':
      return undefined;
    case 'eval':
      return `step ${e.step}: MLM loss ${e.mlm_loss.toFixed(4)}, perplexity ${e.perplexity.toFixed(1)}, masked-token accuracy ${(100 * e.masked_accuracy).toFixed(1)}%${e.is_best ? ' (best)' : ''}\n`;
    case 'done':
      return `${e.stopped ? 'stopped' : 'done'} after ${e.step} steps; model (best at step ${e.best_step}) in ${e.model_dir}\n`;
  }
}

export async function pretrainCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const json = getBool(args, 'json');
  const resume = getBool(args, 'resume');
  let signals = 0;
  const onSignal = (): void => {
    if (++signals > 1) process.exit(EXIT_CANCELLED);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const done = await runPretrainSession(
      {
        // --resume takes every setting from the run's run.json.
        data: resume ? '' : requireString(args, 'data', 'pretrain', 'notes/'),
        resume,
        out: requireString(args, 'out', 'pretrain', 'runs/pretrained'),
        model: getString(args, 'model'),
        textColumn: getString(args, 'text-column'),
        epochs: getNumber(args, 'epochs'),
        maxSteps: getNumber(args, 'max-steps'),
        batchSize: getNumber(args, 'batch-size'),
        lr: getNumber(args, 'lr'),
        maxLength: getNumber(args, 'max-length'),
        maskProbability: getNumber(args, 'mask-prob'),
        wholeWordMasking: getBool(args, 'whole-word'),
        evalSteps: getNumber(args, 'eval-steps'),
        seed: getNumber(args, 'seed'),
        dropout: getBool(args, 'no-dropout') ? false : undefined,
        device: getString(args, 'device') as DeviceChoice | undefined,
      },
      {
        emit: (e) => {
          const line = json ? `${JSON.stringify(e)}\n` : describe(e);
          if (line) io.stdout(line);
        },
        shouldStop: () => signals > 0,
      },
    );
    return done.stopped ? EXIT_CANCELLED : EXIT_OK;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
