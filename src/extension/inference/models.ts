/** Names and folders of models as the inference UI shows them (no `vscode`). */
import * as path from 'node:path';
import { isQuantizedCopy, runDirOfModel } from '../../core/run/paths';

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
