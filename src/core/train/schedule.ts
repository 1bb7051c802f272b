/** Learning-rate schedules, computed in JS and fed to the train-step graph as a scalar. */

/** The schedules of HF transformers' `get_*_schedule_with_warmup` that `--lr-schedule` offers. */
export const LR_SCHEDULES = ['linear', 'cosine', 'constant_with_warmup'] as const;
export type LrSchedule = (typeof LR_SCHEDULES)[number];

/**
 * The factor the base lr is multiplied by at the optimizer step with 0-based index `step`, exactly as HF transformers'
 * lr_lambda of get_linear_schedule_with_warmup, get_cosine_schedule_with_warmup (num_cycles 0.5) and
 * get_constant_schedule_with_warmup: step / warmup during warmup (so with warmup > 0 the first step uses lr 0), then
 * linear: down to 0 at `totalSteps`; cosine: half a cosine wave down to 0 at `totalSteps`; constant: 1.
 */
export function lrFactor(schedule: LrSchedule, step: number, warmupSteps: number, totalSteps: number): number {
  if (step < warmupSteps) return step / Math.max(1, warmupSteps);
  if (schedule === 'constant_with_warmup') return 1;
  if (schedule === 'linear') return Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
  const progress = (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
  return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * 0.5 * 2 * progress)));
}

/** The lr of the optimizer step with 0-based index `step` under `schedule` (see lrFactor). */
export function scheduleLr(
  schedule: LrSchedule,
  step: number,
  baseLr: number,
  warmupSteps: number,
  totalSteps: number,
): number {
  return baseLr * lrFactor(schedule, step, warmupSteps, totalSteps);
}

/** HF get_linear_schedule_with_warmup (see lrFactor). */
export function linearScheduleLr(step: number, baseLr: number, warmupSteps: number, totalSteps: number): number {
  return scheduleLr('linear', step, baseLr, warmupSteps, totalSteps);
}

/** Warmup given as steps, or as a ratio of the total (HF TrainingArguments.get_warmup_steps: ceil(ratio * total)). */
export function resolveWarmupSteps(opts: { warmupSteps?: number; warmupRatio?: number }, totalSteps: number): number {
  if (opts.warmupSteps !== undefined && opts.warmupSteps > 0) return Math.floor(opts.warmupSteps);
  if (opts.warmupRatio !== undefined && opts.warmupRatio > 0) return Math.ceil(totalSteps * opts.warmupRatio);
  return 0;
}
