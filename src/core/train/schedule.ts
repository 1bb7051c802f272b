/** Learning-rate schedule, computed in JS and fed to the train-step graph as a scalar. */

/**
 * HF get_linear_schedule_with_warmup: the lr of the optimizer step with 0-based index `step` is
 * base * step / warmup during warmup, then decays linearly to 0 at `totalSteps`. (As in HF, with warmup > 0 the
 * very first step uses lr 0.)
 */
export function linearScheduleLr(step: number, baseLr: number, warmupSteps: number, totalSteps: number): number {
  if (step < warmupSteps) return (baseLr * step) / Math.max(1, warmupSteps);
  return baseLr * Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
}

/** Warmup given as steps, or as a ratio of the total (HF TrainingArguments.get_warmup_steps: ceil(ratio * total)). */
export function resolveWarmupSteps(opts: { warmupSteps?: number; warmupRatio?: number }, totalSteps: number): number {
  if (opts.warmupSteps !== undefined && opts.warmupSteps > 0) return Math.floor(opts.warmupSteps);
  if (opts.warmupRatio !== undefined && opts.warmupRatio > 0) return Math.ceil(totalSteps * opts.warmupRatio);
  return 0;
}
