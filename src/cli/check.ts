/**
 * `bertft check`: the dataset report (text, or one JSON object with --json); exit 1 when a problem is fatal.
 * With --suspects: the likely mislabeled rows instead (suspects.ts), which trains models and so needs onnxruntime.
 */
import { checkDataset, formatCheckReport } from '../core/data/check';
import { modelDirContext } from '../core/model/load';
import { nativeRuntimeError } from '../core/runtime/devices';
import { modelDirOf } from '../core/run/paths';
import { getBool, getNumber, getString, requireString, UsageError, type ParsedArgs } from './args';
import { labelSetOptions, SLURM_FLAGS } from './commands';
import { EXIT_BAD_INPUT, EXIT_OK, Output, type CliIo } from './output';

/** Flags of the finder alone, and the check's flags the finder has no use for. */
const SUSPECTS_ONLY = [
  'folds',
  'epochs',
  'seed',
  'rank-by',
  'out',
  'device',
  'aggregate',
  ...SLURM_FLAGS.map((f) => f.name),
];
const SUSPECTS_REFUSE = ['valid'];

export async function checkCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const suspects = getBool(args, 'suspects');
  const misplaced = suspects
    ? SUSPECTS_REFUSE.find((f) => args.flags.has(f))
    : SUSPECTS_ONLY.find((f) => args.flags.has(f));
  if (misplaced !== undefined) {
    throw new UsageError(
      suspects ? `--${misplaced} is not used with --suspects.` : `--${misplaced} is used only with --suspects.`,
      suspects ? `Leave out --${misplaced}.` : `Add --suspects, or leave out --${misplaced}.`,
    );
  }
  if (suspects) {
    const unsupported = nativeRuntimeError();
    if (unsupported) throw unsupported;
    return (await import('./suspects')).suspectsCommand(args, io);
  }
  const data = requireString(args, 'data', 'check', 'examples/spam-ham.csv');
  const model = getString(args, 'model');
  const modelDir = model === undefined || model.startsWith('random:') ? undefined : modelDirOf(model);
  const report = await checkDataset(data, {
    textColumn: getString(args, 'text-column'),
    labelColumn: getString(args, 'label-column'),
    textPairColumn: getString(args, 'text-pair-column'),
    ...labelSetOptions(args),
    validationFile: getString(args, 'valid'),
    maxLength: getNumber(args, 'max-length') ?? (modelDir === undefined ? undefined : await modelDirContext(modelDir)),
    tokenizer: modelDir,
  });
  new Output(io, getBool(args, 'json')).result(report, () => formatCheckReport(report) + '\n');
  return report.fatal ? EXIT_BAD_INPUT : EXIT_OK;
}
