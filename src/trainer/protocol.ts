/**
 * The trainer child process's message protocol. Child → parent: the training events of src/core/train/events.ts,
 * one JSON object each (also appended to `<run>/metrics.jsonl`). Parent → child: TrainerCommand.
 * An estimate request (`task: 'estimate'`) is answered with one `estimate` event (EstimateEvent) or one `error`
 * event, after any `log` events; the child then exits (nothing is written). A likely-mislabeled-rows request
 * (`task: 'suspects'`) sends its folds' training events and `suspects-progress` events, then one `suspects` event
 * (SuspectsReport) or one `error` event, and exits.
 */
import type { EstimateEvent } from '../core/train/estimate';
import type { PretrainOptions } from '../core/pretrain/session';
import type { ErrorEvent } from '../core/run/events';
import type { EstimateOptions, SessionOptions } from '../core/finetune/session';
import type { SuspectsOptions, SuspectsProgress, SuspectsReport } from '../core/finetune/suspects-report';

export * from '../core/run/events';
export type { EstimateEvent } from '../core/train/estimate';
export type { SuspectsReport } from '../core/finetune/suspects-report';

/**
 * What the trainer child runs: fine-tuning (`task` absent or 'classify': the `bertft train` flags) or masked-LM
 * pre-training (`task: 'mlm'`: the `bertft pretrain` flags). Both write the same run folder and events.
 */
export type TrainerRequest = (SessionOptions & { task?: 'classify' }) | (PretrainOptions & { task: 'mlm' });

/** The expected time and peak memory of a fine-tuning run (`bertft train --estimate`): trains and writes nothing. */
export type EstimateRequest = EstimateOptions & { task: 'estimate' };

/** The likely mislabeled rows of a dataset (`bertft check --suspects`): k fold runs under `out` or a temporary folder. */
export type SuspectsRequest = SuspectsOptions & { task: 'suspects' };

/** Which fold the finder is at, between the folds' own training events. */
export type SuspectsProgressEvent = SuspectsProgress & { event: 'suspects-progress' };

/** Everything the trainer child can be started with. */
export type ChildRequest = TrainerRequest | EstimateRequest | SuspectsRequest;

/** The child's answer to an EstimateRequest. */
export type EstimateReply = EstimateEvent | ErrorEvent;

export function isEstimateEvent(value: unknown): value is EstimateEvent {
  return typeof value === 'object' && value !== null && (value as { event?: unknown }).event === 'estimate';
}

export function isSuspectsReport(value: unknown): value is SuspectsReport {
  return typeof value === 'object' && value !== null && (value as { event?: unknown }).event === 'suspects';
}

export function isSuspectsProgress(value: unknown): value is SuspectsProgressEvent {
  return typeof value === 'object' && value !== null && (value as { event?: unknown }).event === 'suspects-progress';
}

/** Messages the parent sends to the trainer child. */
export type TrainerCommand = { command: 'stop' };
