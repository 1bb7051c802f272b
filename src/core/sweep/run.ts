/** Trains a sweep's trials one after another in this process (sweep.ts holds the grid, records and leaderboard). */
import * as path from 'node:path';
import { UserError } from '../errors';
import { hasRun } from '../run/paths';
import type { SessionSink } from '../train/session';
import { runTrainingSession, type SessionOptions } from '../finetune/session';
import {
  buildLeaderboard,
  trialRow,
  writeLeaderboard,
  type Leaderboard,
  type LeaderboardRow,
  type SweepRecord,
  type SweepTrial,
} from './sweep';

export interface SweepSink {
  /** The trial's session events and logs. */
  session: (trial: SweepTrial) => SessionSink;
  /** Called before each trial starts or resumes, and after it ends with its row. */
  trialStarting?: (trial: SweepTrial, mode: 'new' | 'resume') => void;
  trialEnded?: (trial: SweepTrial, row: LeaderboardRow) => void;
  shouldStop?: () => boolean;
}

/**
 * Trains the sweep's trials one after another: a finished trial is skipped, a started one resumed, a failed one
 * (on a later call) tried again. A trial that fails is recorded and the sweep goes on; a stop request ends the
 * sweep after the current trial's checkpoint. The leaderboard is rewritten after every trial.
 */
export async function runSweep(
  sweepDir: string,
  record: SweepRecord,
  optionsFor: (trial: SweepTrial, runDir: string, resume: boolean) => SessionOptions,
  sink: SweepSink,
): Promise<{ leaderboard: Leaderboard; stopped: boolean }> {
  const failures = new Map<number, string>();
  let stopped = false;
  for (const trial of record.trials) {
    if (sink.shouldStop?.()) {
      stopped = true;
      break;
    }
    if (trialRow(sweepDir, trial).status === 'done') continue;
    const runDir = path.join(sweepDir, trial.dir);
    const resume = hasRun(runDir);
    sink.trialStarting?.(trial, resume ? 'resume' : 'new');
    try {
      const done = await runTrainingSession(optionsFor(trial, runDir, resume), {
        ...sink.session(trial),
        shouldStop: sink.shouldStop,
      });
      stopped = done.stopped;
    } catch (e) {
      failures.set(trial.index, e instanceof UserError ? e.describe() : e instanceof Error ? e.message : String(e));
    }
    const leaderboard = buildLeaderboard(sweepDir, record, failures);
    await writeLeaderboard(sweepDir, leaderboard);
    sink.trialEnded?.(
      trial,
      leaderboard.rows.find((r) => r.trial === trial.index)!,
    );
    if (stopped) break;
  }
  const leaderboard = buildLeaderboard(sweepDir, record, failures);
  await writeLeaderboard(sweepDir, leaderboard);
  return { leaderboard, stopped };
}
