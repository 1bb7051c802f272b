/**
 * `bertft train`: runs the training session in this process. Ctrl-C / SIGTERM asks for a graceful stop (finish
 * the step, checkpoint, exit 130); a second signal exits at once (the last checkpoint stays usable).
 */
import { runTrainingSession, sessionErrorEvent } from '../trainer/session';
import type { ParsedArgs } from './args';
import { trainOverridesFromArgs } from './commands';
import { EXIT_CANCELLED, EXIT_OK, type CliIo } from './main';
import { TrainReporter } from './progress';

export async function trainCommand(args: ParsedArgs, io: CliIo): Promise<number> {
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
  let lastDownload = 0;
  try {
    const done = await runTrainingSession(options, {
      emit: (e) => reporter.report(e),
      shouldStop: () => signals > 0,
      onDownload: (p) => {
        if (json || Date.now() - lastDownload < 500) return;
        lastDownload = Date.now();
        const total = p.total ? ` of ${(p.total / 1e6).toFixed(1)} MB` : '';
        io.stderr(`downloading ${p.file}: ${(p.bytes / 1e6).toFixed(1)} MB${total}\n`);
      },
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
