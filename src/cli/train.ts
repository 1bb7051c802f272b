/**
 * `bertft train`: runs the training session in this process. Ctrl-C / SIGTERM asks for a graceful stop (finish
 * the step, checkpoint, exit 130); a second signal exits at once (the last checkpoint stays usable).
 * `bertft train --estimate`: the expected time and peak memory of that run (core/train/estimate.ts), nothing trained
 * or written; with --json one `{"event":"estimate",...}` object on stdout (or an `error` event).
 */
import { EstimateCancelled, formatEstimate } from '../core/train/estimate';
import { estimateTrainingSession, runTrainingSession } from '../core/finetune/session';
import { getBool, type ParsedArgs } from './args';
import { estimateOptionsFromArgs, trainOverridesFromArgs } from './commands';
import { EXIT_CANCELLED, EXIT_OK, Output, stopOnSignal, type CliIo } from './output';
import { TrainReporter } from './progress';
import type { HubProgress } from '../core/model/hub';
import { commandStartedAt } from './training-process';

export async function trainCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  if (getBool(args, 'estimate')) return estimateCommand(args, io);
  const { json, ...options } = trainOverridesFromArgs(args);
  const output = new Output(io, json);
  const reporter = new TrainReporter(io, json);
  const stop = stopOnSignal(output, '\nStopping after this step (press Ctrl-C again to quit at once)...\n');
  try {
    const done = await runTrainingSession(options, {
      emit: (e) => reporter.report(e),
      shouldStop: stop.requested,
      onDownload: downloadPrinter(output),
    });
    return done.stopped ? EXIT_CANCELLED : EXIT_OK;
  } catch (e) {
    output.failed(e);
    throw e;
  } finally {
    stop.dispose();
  }
}

async function estimateCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const { json, ...options } = estimateOptionsFromArgs(args);
  const output = new Output(io, json);
  const stop = stopOnSignal(output);
  try {
    output.note('Estimating: reading the data, building the model and timing a few warm-up steps...\n');
    const estimate = await estimateTrainingSession(options, {
      startedAt: commandStartedAt(),
      shouldStop: stop.requested,
      log: (e) => {
        if (e.level === 'warn') output.warn(e.message);
      },
      onDownload: downloadPrinter(output),
    });
    output.result(estimate, () => formatEstimate(estimate, options.out));
    return EXIT_OK;
  } catch (e) {
    if (e instanceof EstimateCancelled) return EXIT_CANCELLED;
    output.failed(e);
    throw e;
  } finally {
    stop.dispose();
  }
}

/** Model download progress on stderr, at most twice a second; a damaged cached copy being replaced is always said. */
function downloadPrinter(output: Output): (p: HubProgress) => void {
  let last = 0;
  return (p) => {
    if (p.replacing) output.warn(`the cached ${p.file} is damaged (${p.replacing}); downloading it again`);
    if (Date.now() - last < 500) return;
    last = Date.now();
    const total = p.total ? ` of ${(p.total / 1e6).toFixed(1)} MB` : '';
    output.note(`downloading ${p.file}: ${(p.bytes / 1e6).toFixed(1)} MB${total}\n`);
  };
}
