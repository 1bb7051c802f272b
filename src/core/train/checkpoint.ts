/**
 * Resumable training checkpoints: `<run>/checkpoints/step-N/` holds
 *   model.safetensors      the weights (HF tensor names)
 *   optimizer.safetensors  AdamW moments as `m.<name>` / `v.<name>`, with the optimizer step in the metadata
 *   trainer_state.json     the loop's position (epoch, batch within the epoch; the data order is a function of
 *                          (seed, epoch), so the position is enough to replay it) and early-stopping / best state
 * The directory is filled as `step-N.tmp/` and renamed when complete, so only complete checkpoints carry the
 * `step-N` name; a kill during the write leaves the previous checkpoint as the latest.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Tensor, Weights } from '../model/params';
import { readSafetensors, writeSafetensors } from '../model/safetensors';
import { writeJsonAtomic } from '../util/files';
import { checkpointDir, CHECKPOINT_NAME } from '../run/paths';
import { commitDir, prepareTempDir } from '../run/folder';

export interface TrainerState {
  /** Optimizer steps taken. */
  step: number;
  /** 0-based epoch the next batch belongs to. */
  epoch: number;
  /** How many batches of `epoch` are already consumed. */
  batchInEpoch: number;
  totalSteps: number;
  seed: number;
  metricName: string;
  /** Best value of the selection metric so far (null before the first evaluation). */
  bestMetric: number | null;
  bestStep: number;
  /** Evaluations in a row without improvement (early stopping). */
  evalsWithoutImprovement: number;
}

export interface OptimizerState {
  step: number;
  m: Weights;
  v: Weights;
}

export interface Checkpoint {
  dir: string;
  weights: Weights;
  optimizer: OptimizerState;
  state: TrainerState;
}

export async function saveCheckpoint(checkpointsDir: string, data: Omit<Checkpoint, 'dir'>): Promise<string> {
  const final = checkpointDir(checkpointsDir, data.state.step);
  const tmp = await prepareTempDir(final);
  await writeSafetensors(path.join(tmp, 'model.safetensors'), data.weights);
  const moments = new Map<string, Tensor>();
  for (const [name, t] of data.optimizer.m) moments.set(`m.${name}`, t);
  for (const [name, t] of data.optimizer.v) moments.set(`v.${name}`, t);
  await writeSafetensors(path.join(tmp, 'optimizer.safetensors'), moments, { step: String(data.optimizer.step) });
  await writeJsonAtomic(path.join(tmp, 'trainer_state.json'), data.state);
  await commitDir(tmp, final);
  return final;
}

/** Steps of the complete checkpoints, ascending. */
export function listCheckpoints(checkpointsDir: string): number[] {
  if (!fs.existsSync(checkpointsDir)) return [];
  return fs
    .readdirSync(checkpointsDir)
    .map((name) => CHECKPOINT_NAME.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  const state = JSON.parse(await fs.promises.readFile(path.join(dir, 'trainer_state.json'), 'utf8')) as TrainerState;
  const weights = await readSafetensors(path.join(dir, 'model.safetensors'));
  const moments = await readSafetensors(path.join(dir, 'optimizer.safetensors'));
  const m: Weights = new Map();
  const v: Weights = new Map();
  for (const [name, t] of moments) {
    if (name.startsWith('m.')) m.set(name.slice(2), t);
    else if (name.startsWith('v.')) v.set(name.slice(2), t);
  }
  return { dir, weights, optimizer: { step: state.step, m, v }, state };
}

/** The newest checkpoint that reads back completely, or undefined when there is none. */
export async function loadLatestCheckpoint(checkpointsDir: string): Promise<Checkpoint | undefined> {
  for (const step of listCheckpoints(checkpointsDir).reverse()) {
    try {
      return await loadCheckpoint(checkpointDir(checkpointsDir, step));
    } catch {
      // damaged (e.g. a disk error); fall back to the one before
    }
  }
  return undefined;
}

/** `save_total_limit`: keep the newest `keepLast` checkpoints and the one at `keepStep` (the best), delete the rest. */
export async function pruneCheckpoints(checkpointsDir: string, keepLast: number, keepStep?: number): Promise<number[]> {
  const steps = listCheckpoints(checkpointsDir);
  const keep = new Set(steps.slice(Math.max(0, steps.length - keepLast)));
  if (keepStep !== undefined) keep.add(keepStep);
  const removed = steps.filter((s) => !keep.has(s));
  for (const s of removed) await fs.promises.rm(checkpointDir(checkpointsDir, s), { recursive: true, force: true });
  return removed;
}
