/**
 * From the Fine-tune flow's answers to the trainer's SessionOptions, and the run folder's name. Pure (no VS Code),
 * so the mapping is unit-tested; the flow only asks questions.
 */
import * as path from 'node:path';
import type { DeviceName, PresetName } from '../../core/train/presets';
import type { SessionOptions } from '../../trainer/session';

export interface FineTuneChoices {
  /** Absolute dataset file or folder. */
  data: string;
  textColumn?: string;
  labelColumn?: string;
  /** Hub id, local folder or random:SIZE. */
  model: string;
  preset: PresetName;
  device: DeviceName;
  /** Custom preset values and settings; undefined = the preset's. */
  epochs?: number;
  batchSize?: number;
  lr?: number;
  maxLength?: number;
}

/** `20261125-081502-reviews`: sortable by time, recognisable by dataset. */
export function runFolderName(date: Date, data: string): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp = `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}-${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`;
  const base = path.basename(data, path.extname(data)).toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40);
  return base ? `${stamp}-${base}` : stamp;
}

export function sessionOptions(choices: FineTuneChoices, out: string): SessionOptions {
  const options: SessionOptions = {
    data: choices.data,
    out,
    model: choices.model,
    preset: choices.preset,
    device: choices.device,
  };
  if (choices.textColumn !== undefined) options.textColumn = choices.textColumn;
  if (choices.labelColumn !== undefined) options.labelColumn = choices.labelColumn;
  if (choices.epochs !== undefined) options.epochs = choices.epochs;
  if (choices.batchSize !== undefined) options.batchSize = choices.batchSize;
  if (choices.lr !== undefined) options.lr = choices.lr;
  if (choices.maxLength !== undefined) options.maxLength = choices.maxLength;
  return options;
}

/**
 * Options that continue an existing run: its run.json config with `resume`. Returns undefined when run.json is
 * missing the fields a resume needs.
 */
export function resumeOptions(runJson: unknown, runDir: string): SessionOptions | undefined {
  const config = (runJson as { config?: Record<string, unknown> } | undefined)?.config;
  if (!config || typeof config.data !== 'string') return undefined;
  return { ...(config as unknown as SessionOptions), out: runDir, resume: true };
}

/** A positive number typed by the user, or an explanation why not (for showInputBox's validateInput). */
export function validatePositive(text: string, integer: boolean): string | undefined {
  const value = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) return 'Enter a number greater than 0.';
  if (integer && !Number.isInteger(value)) return 'Enter a whole number.';
  return undefined;
}
