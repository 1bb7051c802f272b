/**
 * Seed screening for runs that start from random weights ("start many, stop early, continue some", Dodge et al.
 * 2020): a from-scratch model's result depends on its seed by several points, and a seed that will end badly
 * (one class predicted everywhere) mostly shows it after the first epoch. Each candidate train seed (candidateSeed;
 * the validation split stays that of `seed`) trains for `screenEpochs` epochs in a temporary run folder, with the
 * run's whole schedule; the one with the best selection metric is kept and the real run trains it from step 0.
 * Its first epochs repeat the candidate's exactly (the run is a function of its settings), so keeping the candidate's
 * weights would save those epochs but not change the result. Measured in BENCHMARKS.md, "Seed screening".
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { EvalEvent, LogEvent } from '../run/events';
import { checkRunDir } from '../run/folder';
import { runPaths } from '../run/paths';
import { runStopRequested } from '../run/stop-request';
import { candidateSeed, screeningPlan, type SeedScreening, type SelectionMetric } from '../train/presets';
import { runSession, sessionStart, type SessionSink } from '../train/session';
import { isImprovement, metricValue } from '../train/trainer';
import { classifyTask, type SessionOptions } from './task';

export interface ScreeningResult {
  screening: SeedScreening;
  /** The user stopped the run during screening: the kept seed is the best of those measured. */
  stopped: boolean;
}

type Candidate = SeedScreening['candidates'][number];

const now = (): string => new Date().toISOString();

/**
 * Screens the seeds of a new run when its settings ask for it (core/train/presets.ts `screeningPlan`), else returns
 * undefined. Refuses what the run itself would refuse (an existing run without --resume, a folder that is not ours)
 * before any training, and writes nothing outside its own temporary folder, which it removes.
 */
export async function screenSeeds(
  options: SessionOptions & { out: string },
  sink: SessionSink,
): Promise<ScreeningResult | undefined> {
  if (options.resume || options.restart) return undefined;
  const plan = screeningPlan(options);
  if (!plan) return undefined;
  const paths = runPaths(path.resolve(options.out));
  sessionStart(classifyTask(options), options, paths);
  checkRunDir(paths.root);
  const seed = options.seed ?? 42;
  const log = (message: string): void => {
    const event: LogEvent = { event: 'log', time: now(), level: 'info', message, notice: true };
    sink.emit(event);
  };
  const userStop = (): boolean => (sink.shouldStop?.() ?? false) || runStopRequested(paths.root);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'bertft-screen-'));
  const candidates: SeedScreening['candidates'] = [];
  let metric: SelectionMetric | undefined;
  let stopped = false;
  try {
    for (let i = 0; i < plan.candidates && !stopped; i++) {
      const trainSeed = candidateSeed(seed, i);
      log(
        `Seed screening: candidate ${i + 1} of ${plan.candidates} (train seed ${trainSeed}), ` +
          `${plan.epochs} epoch${plan.epochs === 1 ? '' : 's'}.`,
      );
      let measured: EvalEvent | undefined;
      const done = await runSession(
        classifyTask({ ...options, trainSeed, seedCandidates: 1 }),
        { out: path.join(scratch, String(i)) },
        {
          emit: (event) => {
            if (event.event === 'started') metric = (event.config as { metric: SelectionMetric }).metric;
            if (event.event === 'eval' && measured === undefined && event.epoch >= plan.epochs) measured = event;
          },
          shouldStop: () => {
            if (measured !== undefined) return true;
            stopped ||= userStop();
            return stopped;
          },
          onDownload: sink.onDownload,
        },
      );
      if (measured === undefined || metric === undefined) break;
      const { loss } = measured;
      const value = metricValue(metric, {
        loss,
        // micro_f1 reads `accuracy` (they are equal with one label per row); a multi-label evaluation has its own.
        accuracy: 'micro_f1' in measured ? measured.micro_f1 : measured.accuracy,
        macro_f1: 'macro_f1' in measured ? measured.macro_f1 : NaN,
      });
      candidates.push({ trainSeed, value, loss });
      log(`Seed screening: train seed ${trainSeed}: ${metric} ${value.toFixed(4)} after ${done.final_step} steps.`);
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  if (candidates.length === 0 || metric === undefined) {
    return {
      screening: { metric: metric ?? 'loss', epochs: plan.epochs, planned: plan.candidates, candidates, kept: seed },
      stopped,
    };
  }
  const selection = metric;
  // Early in a from-scratch run several seeds may still predict one class (equal accuracy and macro-F1): the lower
  // validation loss decides between them.
  const better = (c: Candidate, best: Candidate): boolean =>
    isImprovement(selection, c.value, best.value, 0) || (c.value === best.value && c.loss < best.loss);
  const kept = candidates.reduce((best, c) => (better(c, best) ? c : best));
  log(`Seed screening: keeping train seed ${kept.trainSeed} (${selection} ${kept.value.toFixed(4)}).`);
  return {
    screening: { metric: selection, epochs: plan.epochs, planned: plan.candidates, candidates, kept: kept.trainSeed },
    stopped,
  };
}
