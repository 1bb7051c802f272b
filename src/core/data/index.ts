/** Data: reading every supported format, column and label handling, the split, and the dataset check. */
export type { DataFormat, DataProblem, Dataset, Example, LabelKind, Severity } from './types';
export { readDataset, detectFormat, type ReadOptions } from './read';
export {
  detectColumns,
  TEXT_COLUMN_NAMES,
  LABEL_COLUMN_NAMES,
  TEXT_PAIR_COLUMN_NAMES,
  detectTextPairColumns,
  type ColumnChoice,
  type ColumnOverrides,
} from './columns';
export {
  buildLabelMap,
  labelId,
  labelIdsOf,
  labelMapFromId2Label,
  labelKindOf,
  canonicalLabel,
  type LabelMap,
} from './labels';
export { splitDataset, DEFAULT_SEED, DEFAULT_VALIDATION_RATIO, type Split, type SplitOptions } from './split';
export {
  checkDataset,
  formatCheckReport,
  tokenLengthStats,
  type CheckOptions,
  type CheckReport,
  type TokenLengthStats,
} from './check';
export { createRng, epochRng, shuffleInPlace, randomInt, RNG_STREAM, type Rng } from '../util/random';
