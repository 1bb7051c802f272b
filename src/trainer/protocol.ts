/**
 * The trainer child process's message protocol. Child → parent: the training events of src/core/train/events.ts,
 * one JSON object each (also appended to `<run>/metrics.jsonl`). Parent → child: TrainerCommand.
 */
export * from '../core/train/events';

/** Messages the parent sends to the trainer child. */
export type TrainerCommand = { command: 'stop' };
