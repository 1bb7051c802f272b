/**
 * `bertft train`: runs the training session in this process. Ctrl-C / SIGTERM asks for a graceful stop (finish
 * the step, checkpoint, exit 130); a second signal exits at once (the last checkpoint stays usable).
 * `bertft train --estimate`: the expected time and peak memory of that run (core/train/estimate.ts), nothing trained
 * or written; with --json one `{"event":"estimate",...}` object on stdout (or an `error` event).
 */
import { EstimateCancelled, formatEstimate } from '../core/train/estimate';
import { estimateTrainingSession, runTrainingSession } from '../core/finetune/session';
import { sessionErrorEvent } from '../core/train/events';
import { getBool, type ParsedArgs } from './args';
import { estimateOptionsFromArgs, trainOverridesFromArgs } from './commands';
import { EXIT_CANCELLED, EXIT_OK, type CliIo } from './main';
import { TrainReporter } from './progress';
import type { HubProgress } from '../core/model/hub';
import { commandStartedAt } from './training-process';

export async function trainCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  if (getBool(args, 'estimate')) return estimateCommand(args, io);
  const { json, ...options } = trainOverridesFromArgs(args);
  const reporter = new TrainReporter(io, json);
  let signals = 0;
  const onSignal = (): void => {
    signals++;
    if (signals === 1) {
      if (!json) io.stderr('\nStopping after this step (press Ctrl-C again to quit at once)...\n');
    } else {
      process.exit(EXIT_CANCELLED);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const done = await runTrainingSession(options, {
      emit: (e) => reporter.report(e),
      shouldStop: () => signals > 0,
      onDownload: downloadPrinter(json, io),
    });
    return done.stopped ? EXIT_CANCELLED : EXIT_OK;
  } catch (e) {
    if (json) io.stdout(JSON.stringify(sessionErrorEvent(e).event) + '\n');
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function estimateCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const { json, ...options } = estimateOptionsFromArgs(args);
  let signals = 0;
  const onSignal = (): void => {
    if (++signals > 1) process.exit(EXIT_CANCELLED);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    if (!json) io.stderr('Estimating: reading the data, building the model and timing a few warm-up steps...\n');
    const estimate = await estimateTrainingSession(options, {
      startedAt: commandStartedAt(),
      shouldStop: () => signals > 0,
      log: (e) => {
        if (!json && e.level === 'warn') io.stderr(`warning: ${e.message}\n`);
      },
      onDownload: downloadPrinter(json, io),
    });
    io.stdout(json ? JSON.stringify(estimate) + '\n' : formatEstimate(estimate, options.out));
    return EXIT_OK;
  } catch (e) {
    if (e instanceof EstimateCancelled) return EXIT_CANCELLED;
    if (json) io.stdout(JSON.stringify(sessionErrorEvent(e).event) + '\n');
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Model download progress on stderr, at most twice a second; a damaged cached copy being replaced is always said. */
function downloadPrinter(json: boolean, io: CliIo): (p: HubProgress) => void {
  let last = 0;
  return (p) => {
    if (json) return;
    if (p.replacing) io.stderr(`warning: the cached ${p.file} is damaged (${p.replacing}); downloading it again\n`);
    if (Date.now() - last < 500) return;
    last = Date.now();
    const total = p.total ? ` of ${(p.total / 1e6).toFixed(1)} MB` : '';
    io.stderr(`downloading ${p.file}: ${(p.bytes / 1e6).toFixed(1)} MB${total}\n`);
  };
}
