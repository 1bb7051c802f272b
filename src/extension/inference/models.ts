/** Names and folders of models as the inference UI shows them (no `vscode`). */
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * A quantized copy lives inside the model folder it was made from (`best/int8/`, see core/infer/quantize.ts).
 * Decided from the layout, not the name, so this module does not load onnxruntime into the extension host.
 */
function isQuantizedCopy(dir: string): boolean {
  return fs.existsSync(path.join(path.dirname(dir), 'config.json')) && fs.existsSync(path.join(dir, 'config.json'));
}

/** The run folder a model folder belongs to (`<run>`, `<run>/best`, `<run>/best/int8`), if any. */
export function runDirOfModel(dir: string): string | undefined {
  let d = path.resolve(dir);
  if (isQuantizedCopy(d)) d = path.dirname(d);
  if (fs.existsSync(path.join(d, 'run.json'))) return d;
  if (path.basename(d) === 'best' && fs.existsSync(path.join(path.dirname(d), 'run.json'))) return path.dirname(d);
  return undefined;
}

/** What the user calls a model: its run's folder name, else the folder name; "(int8)" for a quantized one. */
export function modelName(dir: string): string {
  const d = path.resolve(dir);
  const int8 = isQuantizedCopy(d);
  const run = runDirOfModel(d);
  const base = run ? path.basename(run) : path.basename(int8 ? path.dirname(d) : d);
  return int8 ? `${base} (int8)` : base;
}

/** `bert.activeModel` may be relative to the workspace folder. */
export function resolveModelSetting(value: string, workspaceRoot: string | undefined): string | undefined {
  const v = value.trim();
  if (v === '') return undefined;
  return path.isAbsolute(v) || workspaceRoot === undefined ? path.resolve(v) : path.resolve(workspaceRoot, v);
}
