/**
 * `bertft pretrain`: masked-LM pre-training in this process, reported like `bertft train` (progress bar, evaluation
 * lines; with --json the same event objects, one per line). Ctrl-C stops after the current step with a checkpoint
 * (and best/ kept); `--resume --out <run>` continues it.
 */
import { runPretrainSession } from '../core/pretrain/session';
import type { DeviceChoice } from '../core/runtime/devices';
import { getBool, getNumber, getString, requireString, type ParsedArgs } from './args';
import { EXIT_CANCELLED, EXIT_OK, Output, stopOnSignal, type CliIo } from './output';
import { TrainReporter } from './progress';

export async function pretrainCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const json = getBool(args, 'json');
  const resume = getBool(args, 'resume');
  const restart = getBool(args, 'restart');
  const output = new Output(io, json);
  const reporter = new TrainReporter(io, json);
  const stop = stopOnSignal(output, '\nStopping after this step (press Ctrl-C again to quit at once)...\n');
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
      { emit: (e) => reporter.report(e), shouldStop: stop.requested },
    );
    return done.stopped ? EXIT_CANCELLED : EXIT_OK;
  } catch (e) {
    output.failed(e);
    throw e;
  } finally {
    stop.dispose();
  }
}
