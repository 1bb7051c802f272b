/**
 * Messages between the extension host and the inference worker (worker.ts). One request in, one response out,
 * matched by id; the worker answers requests in the order they came.
 */
import type { Example } from '../../core/data/types';
import type { Explanation } from '../../core/infer/explain';
import type { Prediction } from '../../core/infer/predictor';
import type { QuantFormat, QuantizedComparison } from '../../core/infer/quantize';

import type { Device } from '../../core/runtime/devices';

export type { Device };

/** What a model predicts: one label per text, every label at or above its threshold, or a number. */
export type ModelTask = 'single-label' | 'multi-label' | 'regression';

/** What the host knows about the loaded model. */
export interface ModelInfo {
  /** The folder given to load (a run folder, its best/, a HF folder). */
  dir: string;
  labels: string[];
  task: ModelTask;
  /** A multi-label model's threshold per label, in `labels` order (thresholds.json, else 0.5 each). */
  thresholds?: number[];
  /** A text-pair model's second-text column (e.g. `hypothesis`): it classifies two texts together. */
  textPairColumn?: string;
  maxLength: number;
  truncation: string;
}

export type WorkerRequest =
  | { id: number; op: 'load'; modelDir: string; device: Device }
  /** With `pairs`, texts[i] is classified together with pairs[i] (a text-pair model). */
  | { id: number; op: 'predict'; texts: string[]; pairs?: string[] }
  | { id: number; op: 'logits'; texts: string[] }
  /**
   * Integrated gradients of `label` (default: the predicted one) over the tokens of `text`, with the loaded model;
   * with `textPair` (a text-pair model), over both texts' tokens.
   */
  | { id: number; op: 'explain'; text: string; textPair?: string; steps?: number; label?: string }
  | {
      id: number;
      op: 'quantize';
      modelDir: string;
      format?: QuantFormat;
      /** The run's validation rows (pairs, label sets and numbers included) to measure both models on. */
      examples: Example[];
    }
  /** Skip request `target` if it has not started yet. */
  | { id: number; op: 'cancel'; target: number };

export type WorkerResult = ModelInfo | Prediction[] | Float32Array | QuantizedComparison | Explanation | null;

/** A UserError crossing the thread boundary (classes do not survive structured clone). */
export interface WorkerError {
  name: string;
  message: string;
  user: boolean;
  code?: string;
  fix?: string;
  file?: string;
  line?: number;
}

export type WorkerResponse =
  { id: number; ok: true; result: WorkerResult } | { id: number; ok: false; error: WorkerError };
