/**
 * The trainer child process's message protocol. Child → parent: the training events of src/core/train/events.ts,
 * one JSON object each (also appended to `<run>/metrics.jsonl`). Parent → child: TrainerCommand.
 */
import type { PretrainOptions } from '../core/pretrain/session';
import type { SessionOptions } from '../core/finetune/session';

export * from '../core/train/events';

/**
 * What the trainer child runs: fine-tuning (`task` absent or 'classify': the `bertft train` flags) or masked-LM
 * pre-training (`task: 'mlm'`: the `bertft pretrain` flags). Both write the same run folder and events.
 */
export type TrainerRequest = (SessionOptions & { task?: 'classify' }) | (PretrainOptions & { task: 'mlm' });

/** Messages the parent sends to the trainer child. */
export type TrainerCommand = { command: 'stop' };
