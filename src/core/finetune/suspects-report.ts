/**
 * What `bertft check --suspects` is asked and answers (suspects.ts), without the code that trains: the trainer child's
 * protocol and the extension host read these, and the extension host loads no onnxruntime.
 */
import type { DeviceChoice } from '../runtime/devices';
import type { SessionSink } from '../train/session';
import type { Ranking } from './confident-learning';

export interface SuspectsOptions {
  data: string;
  textColumn?: string;
  labelColumn?: string;
  textPairColumn?: string;
  /** k (default 5). */
  folds?: number;
  /** Seeds the fold assignment and every fold's training (default 42). */
  seed?: number;
  /** As `bertft train --model` (default random:tiny). */
  model?: string;
  /** Epochs per fold (default: SUSPECTS_EPOCHS, the cheap preset). */
  epochs?: number;
  maxLength?: number;
  device?: DeviceChoice;
  /** A new or empty folder for the fold runs and suspects.json, kept; default a temporary folder, deleted. */
  out?: string;
  /** Default self-confidence. */
  ranking?: Ranking;
}

export interface Suspect {
  file: string;
  /** 1-based line where the row starts. */
  line: number;
  text: string;
  textPair?: string;
  given: string;
  suggested: string;
  /** Out-of-fold probability of the given label. */
  selfConfidence: number;
  /** Probability of the given label − the highest probability of another label. */
  margin: number;
  /** Out-of-fold probability of every label (a JSON record: labels are data; read with ownValue). */
  probabilities: Record<string, number>;
}

export interface SuspectsReport {
  event: 'suspects';
  data: string;
  rows: number;
  folds: number;
  seed: number;
  model: string;
  epochs: number;
  ranking: Ranking;
  labels: string[];
  /** Per-class threshold (mean out-of-fold probability of the label over rows given it), by label. */
  thresholds: Record<string, number>;
  /** Share of rows whose out-of-fold argmax is their given label: how much the models learned. */
  outOfFoldAccuracy: number;
  suspects: Suspect[];
  /** Where the fold runs are kept (absent when they went into a deleted temporary folder). */
  out?: string;
}

export interface SuspectsProgress {
  /** 1-based fold now training (or predicting). */
  fold: number;
  folds: number;
  phase: 'train' | 'predict';
}

export interface SuspectsSink extends Omit<SessionSink, 'emit'> {
  /** Each fold's training events, with which fold they belong to. */
  emit?: SessionSink['emit'];
  onFold?: (progress: SuspectsProgress) => void;
}

/** The finder was stopped (shouldStop) before it had every fold's probabilities. */
export class SuspectsCancelled extends Error {
  constructor() {
    super('Finding likely mislabeled rows was stopped.');
    this.name = 'SuspectsCancelled';
  }
}
