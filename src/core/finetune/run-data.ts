/**
 * A fine-tuning run's record and data as training reads them, without the engine: run.json's shape (RunJson) and its
 * check, and the data read and split by the run's task (prepareData). The extension host uses it to rebuild a run's
 * validation rows (runValidationExamples) without loading onnxruntime.
 */
import { UserError } from '../errors';
import { readDataset } from '../data/read';
import { splitDataset } from '../data/split';
import type { Example } from '../data/types';
import { readRunJson } from '../run/run-json';
import type { TrainConfig } from '../train/presets';
import { prepareMultiLabelData } from './multi-label';
import { REGRESSION_LABELS, regressionTargets, splitRegression } from './regression';

export interface RunJson {
  format: 1;
  created: string;
  package_version: string;
  config: TrainConfig;
  seed: number;
  data: { file: string; sha256: string }[];
  labels: string[];
  model: { spec: string; dir?: string; model_config: Record<string, unknown> };
  device: string;
  device_notes: string[];
  node: string;
}

/** run.json of an existing fine-tuning run, checked enough to resume from; a damaged one is the user's to restore. */
export function asRunJson(value: unknown, file: string): RunJson {
  const run = value as Partial<RunJson> | null;
  if (typeof run !== 'object' || run === null || typeof run.config?.data !== 'string' || !Array.isArray(run.data)) {
    throw new UserError(`${file} is not the run.json of a bertft training run (it has no training configuration).`, {
      file,
      code: 'RUN_JSON_UNREADABLE',
      fix: 'Restore run.json from a backup, or start a new run in another --out folder.',
    });
  }
  return run as RunJson;
}

export interface PreparedData {
  train: Example[];
  valid: Example[];
  labels: string[];
  files: string[];
  /** Regression: the target of each train and valid example (their labels hold the numbers). */
  targets?: { train: Float32Array; valid: Float32Array };
  /** The second text's column, for a text-pair task. */
  textPairColumn?: string;
  /** Multi-label (given, or detected from list labels): each train and valid row's 0/1 targets, [rows, labels]. */
  multiLabelTargets?: { train: Float32Array; valid: Float32Array };
}

export async function prepareData(
  problemType: TrainConfig['problemType'],
  config: Pick<
    TrainConfig,
    | 'data'
    | 'valid'
    | 'textColumn'
    | 'labelColumn'
    | 'textPairColumn'
    | 'validRatio'
    | 'seed'
    | 'labelSeparator'
    | 'labelColumns'
  >,
): Promise<PreparedData> {
  const columns = {
    textColumn: config.textColumn,
    labelColumn: config.labelColumn,
    textPairColumn: config.textPairColumn,
    labelColumns: config.labelColumns,
    labelSeparator: config.labelSeparator,
    multiLabel: problemType === 'multi-label',
    numericLabels: problemType === 'regression',
  };
  const train = await readDataset(config.data, columns);
  const valid = config.valid !== undefined ? await readDataset(config.valid, columns) : undefined;
  if (train.multiLabel !== undefined && problemType !== undefined && problemType !== 'multi-label') {
    throw new UserError(`The labels of ${config.data} are label sets, but --task ${problemType} was given.`, {
      file: config.data,
      code: 'CONFIG_TASK_MISMATCH',
      fix: 'Use --task multi-label (or leave --task out), or give one label per row.',
    });
  }
  if (train.multiLabel !== undefined) {
    const multi = prepareMultiLabelData(train, valid, { validationRatio: config.validRatio, seed: config.seed });
    const files = [config.data, ...(config.valid !== undefined ? [config.valid] : [])];
    return {
      train: multi.train,
      valid: multi.valid,
      labels: multi.labels,
      files,
      multiLabelTargets: multi.targets,
      ...(train.textPairColumn !== undefined ? { textPairColumn: train.textPairColumn } : {}),
    };
  }
  if (problemType === 'regression') {
    // Parsed before the split, so that the first bad value is reported in file order.
    regressionTargets(train.examples);
    if (valid) regressionTargets(valid.examples);
    const split = splitRegression(train.examples, {
      validationRatio: config.validRatio,
      seed: config.seed,
      validation: valid?.examples,
    });
    const files = [config.data, ...(config.valid !== undefined ? [config.valid] : [])];
    const targets = { train: regressionTargets(split.train), valid: regressionTargets(split.validation) };
    return { train: split.train, valid: split.validation, labels: REGRESSION_LABELS, files, targets };
  }
  const split = splitDataset(train.examples, {
    validationRatio: config.validRatio,
    seed: config.seed,
    validation: valid?.examples,
  });
  const files = [config.data, ...(config.valid !== undefined ? [config.valid] : [])];
  return {
    train: split.train,
    valid: split.validation,
    labels: split.labelMap.labels,
    files,
    ...(train.textPairColumn !== undefined ? { textPairColumn: train.textPairColumn } : {}),
  };
}

/**
 * The validation rows a run was evaluated on, rebuilt from its run.json as its training split them (the same files,
 * columns, task and split seed): what an int8 copy of its model is measured on.
 */
export async function runValidationExamples(runJsonFile: string): Promise<Example[]> {
  const run = asRunJson(readRunJson(runJsonFile), runJsonFile);
  return (await prepareData(run.config.problemType, run.config)).valid;
}
