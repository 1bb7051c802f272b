import * as vscode from 'vscode';
import { ALL_DEVICES, type DeviceChoice } from '../core/runtime/devices';
import type { AllocatorMode } from '../core/train/allocator';

/** The `bert.device` setting: where training and inference run; 'auto' picks the platform's first GPU, else cpu. */
export type DeviceSetting = DeviceChoice;

/** The extension's settings (`bert.*` in package.json `contributes.configuration`), read fresh on every call. */
export interface BertSettings {
  /** Hugging Face model id or a local folder used when no model is chosen with "BERT: Select Model". */
  model: string;
  device: DeviceSetting;
  /** Folder (relative to the workspace folder) where training runs are written. */
  runsDirectory: string;
  /** The trainer process's malloc settings (core/train/allocator.ts): lean, fast or system. */
  trainingMemory: AllocatorMode;
}

const DEVICES: readonly DeviceSetting[] = ['auto', ...ALL_DEVICES];
const MEMORY_MODES: readonly AllocatorMode[] = ['lean', 'fast', 'system'];

export function readSettings(scope?: vscode.ConfigurationScope): BertSettings {
  const c = vscode.workspace.getConfiguration('bert', scope);
  const device = c.get<string>('device', 'auto');
  return {
    model: c.get<string>('model', '').trim(),
    // A hand-edited settings.json can hold anything; fall back instead of failing later in the trainer.
    device: pick(DEVICES, device, 'auto'),
    runsDirectory: c.get<string>('runsDirectory', '.bert/runs').trim() || '.bert/runs',
    trainingMemory: pick(MEMORY_MODES, c.get<string>('trainingMemory', 'lean'), 'lean'),
  };
}

function pick<T extends string>(allowed: readonly T[], value: string, fallback: T): T {
  return (allowed as readonly string[]).includes(value) ? (value as T) : fallback;
}
