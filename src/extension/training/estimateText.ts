/**
 * What the Fine-tune flow's last step says before a run starts: the run's expected time and peak memory (measured by
 * `bertft train --estimate`'s code in a trainer child), or why there is no estimate. Pure (no VS Code): unit-tested.
 */
import { deviceName } from '../../core/runtime/devices';
import { formatApproxDuration, formatBytes, type EstimateEvent } from '../../core/train/estimate';
import { ensembleSizeOf } from '../../core/train/presets';
import { long, say, type Message } from '../display/text';

/** What the estimate came to: its figures, the reason it failed, or nothing (the user skipped it). */
export type EstimateOutcome = { estimate: EstimateEvent } | { failed: string } | { skipped: true };

/** The confirmation step's text: its prompt, and the Start item's description and detail. */
export interface ConfirmationText {
  placeHolder: Message;
  startDescription?: Message;
  startDetail: Message;
}

/** "About 3 min on CPU, peak memory about 1.2 GB (measured from 8 warm-up steps)". */
export function estimateSummary(e: EstimateEvent): Message {
  const peak = formatBytes(e.peak_rss_bytes);
  // On a GPU the figure is the host process's memory only (the estimate cannot see the GPU's own).
  const memory = e.device === 'cpu' ? say`peak memory about ${peak}` : say`peak host memory about ${peak}`;
  const time = formatApproxDuration(e.total_seconds);
  return say`About ${time} on ${deviceName(e.device)}, ${memory} (measured from ${e.based_on.warmup_steps + 1} warm-up steps)`;
}

/**
 * The run the figures are for: "120 steps (3 epochs × 40, batch 8, max length 128), 3 evaluations of 80 rows"; a seed
 * ensemble's "3 seeds' models, each …".
 */
export function estimatedRun(e: EstimateEvent): Message {
  const epochs = Number.isInteger(e.epochs) ? String(e.epochs) : e.epochs.toFixed(2);
  const shape = say`batch ${e.batch_size}, max length ${e.max_length}`;
  const evaluations = `${e.evaluations} evaluation${e.evaluations === 1 ? '' : 's'}`;
  const run = say`${e.steps} steps (${epochs} epochs × ${e.steps_per_epoch}, ${shape}), ${evaluations} of ${e.dataset.valid_rows} rows`;
  const models = ensembleSizeOf(e.config);
  return models > 1 ? say`${models} seeds' models, each ${run}` : run;
}

export function confirmationText(outcome: EstimateOutcome): ConfirmationText {
  if ('estimate' in outcome) {
    const e = outcome.estimate;
    return {
      placeHolder: estimateSummary(e),
      startDescription: say`about ${formatApproxDuration(e.total_seconds)}, ${formatBytes(e.peak_rss_bytes)} peak`,
      startDetail: estimatedRun(e),
    };
  }
  if ('failed' in outcome) {
    return {
      placeHolder: say`No estimate: ${long(outcome.failed, 300)}`,
      startDetail: say`Training can still be started; the BERT log has the estimate's error.`,
    };
  }
  return {
    placeHolder: say`Estimate skipped. Enter starts training.`,
    startDetail: say`The dashboard and the status bar show the time left once training runs.`,
  };
}
