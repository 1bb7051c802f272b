/**
 * The names in a run folder, in one place, and how a model folder relates to its run:
 *
 *   <run>/run.json             resolved settings, seed, data hashes, package version, device
 *   <run>/metrics.jsonl        one TrainerEvent per line, appended as they happen
 *   <run>/checkpoints/step-N/  resumable training state (core/train/checkpoint.ts)
 *   <run>/best/                the best model so far in Hugging Face layout (`best/int8/`: its quantized copy;
 *                              a seed ensemble's other members in `best/members/N/`)
 *   <run>/members/N/           a seed ensemble's member N (2, 3, …): a run folder of its own (core/finetune/ensemble.ts)
 *   <run>/.bertft-run          written first: the folder is ours even before run.json exists
 *   <run>/.lock                the one writer's pid and host
 *   <run>/.stop-request        a stop asked for by a process with no channel to the trainer (stop-request.ts)
 *
 * Nothing here reads more than directory entries (and loads no onnxruntime), so the extension host uses it freely.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const RUN_JSON = 'run.json';
export const METRICS_FILE = 'metrics.jsonl';
export const CHECKPOINTS_DIR = 'checkpoints';
export const BEST_DIR = 'best';
/** A seed ensemble's other members: their run folders in the run, their models in best/. */
export const MEMBERS_DIR = 'members';
export const RUN_MARKER = '.bertft-run';
export const RUN_LOCK = '.lock';
export const STOP_REQUEST = '.stop-request';

export interface RunPaths {
  root: string;
  runJson: string;
  metrics: string;
  checkpoints: string;
  best: string;
  stopRequest: string;
}

export function runPaths(root: string): RunPaths {
  return {
    root,
    runJson: path.join(root, RUN_JSON),
    metrics: path.join(root, METRICS_FILE),
    checkpoints: path.join(root, CHECKPOINTS_DIR),
    best: path.join(root, BEST_DIR),
    stopRequest: path.join(root, STOP_REQUEST),
  };
}

/** A complete checkpoint's folder name (`step-N`); `step-N.tmp` is one being written. */
export const CHECKPOINT_NAME = /^step-(\d+)$/;

export function checkpointDir(checkpointsDir: string, step: number): string {
  return path.join(checkpointsDir, `step-${step}`);
}

/**
 * A seed ensemble's model folders inside a model folder (`best/members/N/`, N = 2, 3, …), in member order; none for a
 * single model. The model folder itself holds member 1.
 */
export function memberModelDirs(modelDir: string): string[] {
  const members = path.join(modelDir, MEMBERS_DIR);
  if (!fs.existsSync(members)) return [];
  return fs
    .readdirSync(members)
    .filter((n) => /^[1-9][0-9]*$/.test(n) && fs.existsSync(path.join(members, n, 'config.json')))
    .sort((a, b) => Number(a) - Number(b))
    .map((n) => path.join(members, n));
}

/** Whether `dir` is a run folder with a run (its run.json). */
export function hasRun(dir: string): boolean {
  return fs.existsSync(path.join(dir, RUN_JSON));
}

/** A run folder stands for its best/ model; any other folder for itself. */
export function modelDirOf(dir: string): string {
  const best = path.join(dir, BEST_DIR);
  return hasRun(dir) && fs.existsSync(best) ? best : dir;
}

/**
 * A quantized copy lives inside the model folder it was made from (`best/int8/`, see core/infer/quantize.ts).
 * Decided from the layout, not the name.
 */
export function isQuantizedCopy(dir: string): boolean {
  return fs.existsSync(path.join(path.dirname(dir), 'config.json')) && fs.existsSync(path.join(dir, 'config.json'));
}

/** The run folder a model folder belongs to (`<run>`, `<run>/best`, `<run>/best/int8`), if any. */
export function runDirOfModel(dir: string): string | undefined {
  let d = path.resolve(dir);
  if (isQuantizedCopy(d)) d = path.dirname(d);
  if (hasRun(d)) return d;
  if (path.basename(d) === BEST_DIR && hasRun(path.dirname(d))) return path.dirname(d);
  return undefined;
}
