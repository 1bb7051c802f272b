/**
 * `bertft pretrain`: masked-LM pre-training in this process, reported like `bertft train` (progress bar, evaluation
 * lines; with --json the same event objects, one per line). Ctrl-C stops after the current step with a checkpoint
 * (and best/ kept); `--resume --out <run>` continues it.
 */
import { runPretrainSession } from '../core/pretrain/session';
import { sessionErrorEvent } from '../core/train/events';
import type { DeviceChoice } from '../core/train/engine';
import { getBool, getNumber, getString, requireString, type ParsedArgs } from './args';
import { EXIT_CANCELLED, EXIT_OK, type CliIo } from './main';
import { TrainReporter } from './progress';

export async function pretrainCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const json = getBool(args, 'json');
  const resume = getBool(args, 'resume');
  const restart = getBool(args, 'restart');
  const reporter = new TrainReporter(io, json);
  let signals = 0;
  const onSignal = (): void => {
    if (++signals > 1) process.exit(EXIT_CANCELLED);
    if (!json) io.stderr('\nStopping after this step (press Ctrl-C again to quit at once)...\n');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const done = await runPretrainSession(
      {
        // --resume takes every setting from the run's run.json.
        data: resume || restart ? '' : requireString(args, 'data', 'pretrain', 'notes/'),
        resume,
        restart,
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
      { emit: (e) => reporter.report(e), shouldStop: () => signals > 0 },
    );
    return done.stopped ? EXIT_CANCELLED : EXIT_OK;
  } catch (e) {
    if (json) io.stdout(JSON.stringify(sessionErrorEvent(e).event) + '\n');
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
