/**
 * The trainer child process's message protocol. Child → parent: the training events of src/core/train/events.ts,
 * one JSON object each (also appended to `<run>/metrics.jsonl`). Parent → child: TrainerCommand.
 * An estimate request (`task: 'estimate'`) is answered with one `estimate` event (EstimateEvent) or one `error`
 * event, after any `log` events; the child then exits (nothing is written).
 */
import type { EstimateEvent } from '../core/train/estimate';
import type { PretrainOptions } from '../core/pretrain/session';
import type { ErrorEvent } from '../core/run/events';
import type { EstimateOptions, SessionOptions } from '../core/finetune/session';

export * from '../core/run/events';
export type { EstimateEvent } from '../core/train/estimate';

/**
 * What the trainer child runs: fine-tuning (`task` absent or 'classify': the `bertft train` flags) or masked-LM
 * pre-training (`task: 'mlm'`: the `bertft pretrain` flags). Both write the same run folder and events.
 */
export type TrainerRequest = (SessionOptions & { task?: 'classify' }) | (PretrainOptions & { task: 'mlm' });

/** The expected time and peak memory of a fine-tuning run (`bertft train --estimate`): trains and writes nothing. */
export type EstimateRequest = EstimateOptions & { task: 'estimate' };

/** Everything the trainer child can be started with. */
export type ChildRequest = TrainerRequest | EstimateRequest;

/** The child's answer to an EstimateRequest. */
export type EstimateReply = EstimateEvent | ErrorEvent;

export function isEstimateEvent(value: unknown): value is EstimateEvent {
  return typeof value === 'object' && value !== null && (value as { event?: unknown }).event === 'estimate';
}

/** Messages the parent sends to the trainer child. */
export type TrainerCommand = { command: 'stop' };
