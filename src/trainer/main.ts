/**
 * Entry of the trainer child process: `node main.js --options '<ChildRequest JSON>'` (fine-tuning, pre-training
 * with `task: 'mlm'`, an estimate with `task: 'estimate'`, or the likely mislabeled rows with `task: 'suspects'`).
 * Sends every TrainerEvent to the parent over IPC (and prints nothing); an estimate is answered with one `estimate`
 * (or `error`) message, the finder with one `suspects` (or `error`) message, then the child exits.
 * A `stop` message, SIGTERM or SIGINT asks for a graceful stop (checkpoint, `done` with stopped: true, exit 130; an
 * estimate ends at its next warm-up step, exit 130); a second one exits at once. A window that did not start the
 * child (it has no IPC channel) asks with the run's stop request file, which the session polls after every step and
 * honours the same way. Losing the parent stops too, unless the parent started it with KEEP_ALIVE_FLAG (the extension
 * does, so training outlives a window reload).
 * Exit codes as the CLI: 0 done, 1 bad input, 2 internal error, 130 stopped.
 */
import { KEEP_ALIVE_FLAG } from './client';
import { EstimateCancelled } from '../core/train/estimate';
import { runPretrainSession } from '../core/pretrain/session';
import type {
  ChildRequest,
  DoneEvent,
  EstimateEvent,
  EstimateRequest,
  SuspectsProgressEvent,
  SuspectsReport,
  SuspectsRequest,
  TrainerEvent,
  TrainerRequest,
} from './protocol';
import { findSuspects, SuspectsCancelled } from '../core/finetune/suspects';
import { estimateTrainingSession, runTrainingSession } from '../core/finetune/session';
import { sessionErrorEvent } from '../core/run/events';
import type { SessionSink } from '../core/train/session';

let stopRequests = 0;
function requestStop(): void {
  stopRequests++;
  if (stopRequests > 1) process.exit(130);
}

function send(event: TrainerEvent | EstimateEvent | SuspectsReport | SuspectsProgressEvent): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(event, undefined, {}, () => resolve());
  });
}

function run(request: TrainerRequest, sink: SessionSink): Promise<DoneEvent> {
  if (request.task === 'mlm') {
    const { task: _, ...options } = request;
    return runPretrainSession(options, sink);
  }
  const { task: _, ...options } = request;
  return runTrainingSession(options, sink);
}

/** The estimate's one answer; its start-up time counts from this process's start, as a training child's would. */
async function estimate(request: EstimateRequest, sink: SessionSink): Promise<number> {
  const { task: _, ...options } = request;
  const answer = await estimateTrainingSession(options, {
    log: sink.emit,
    shouldStop: sink.shouldStop,
    startedAt: performance.timeOrigin,
  });
  await send(answer);
  return 0;
}

/** The finder's one answer, after its folds' training events and progress. */
async function suspects(request: SuspectsRequest, sink: SessionSink, pending: Promise<void>[]): Promise<number> {
  const { task: _, ...options } = request;
  const report = await findSuspects(options, {
    emit: sink.emit,
    shouldStop: sink.shouldStop,
    onFold: (progress) => pending.push(send({ event: 'suspects-progress', ...progress })),
  });
  await Promise.all(pending);
  await send(report);
  return 0;
}

async function main(): Promise<number> {
  const at = process.argv.indexOf('--options');
  const request = JSON.parse(process.argv[at + 1] ?? '{}') as ChildRequest;
  process.on('SIGTERM', requestStop);
  process.on('SIGINT', requestStop);
  const keepAlive = process.argv.includes(KEEP_ALIVE_FLAG);
  if (!keepAlive) process.on('disconnect', requestStop);
  process.on('message', (m: unknown) => {
    if ((m as { command?: unknown })?.command === 'stop') requestStop();
  });
  const pending: Promise<void>[] = [];
  const sink: SessionSink = {
    emit: (e) => {
      pending.push(send(e));
    },
    shouldStop: () => stopRequests > 0,
  };
  try {
    if (request.task === 'estimate') {
      const code = await estimate(request, sink);
      await Promise.all(pending);
      return code;
    }
    if (request.task === 'suspects') return await suspects(request, sink, pending);
    const done = await run(request, sink);
    await Promise.all(pending);
    return done.stopped ? 130 : 0;
  } catch (e) {
    await Promise.all(pending);
    if (e instanceof EstimateCancelled || e instanceof SuspectsCancelled) return 130;
    const { event, exitCode } = sessionErrorEvent(e);
    await send(event);
    return exitCode;
  }
}

void main().then((code) => {
  process.exitCode = code;
  process.off('disconnect', requestStop);
  if (process.connected) process.disconnect();
});
