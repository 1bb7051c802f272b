/** `bertft check`: the dataset report (text, or one JSON object with --json); exit 1 when a problem is fatal. */
import { checkDataset, formatCheckReport } from '../core/data/check';
import { modelDirOf } from '../core/run/paths';
import { getBool, getNumber, getString, requireString, type ParsedArgs } from './args';
import { EXIT_BAD_INPUT, EXIT_OK, Output, type CliIo } from './output';

export async function checkCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const data = requireString(args, 'data', 'check', 'examples/spam-ham.csv');
  const model = getString(args, 'model');
  const report = await checkDataset(data, {
    textColumn: getString(args, 'text-column'),
    labelColumn: getString(args, 'label-column'),
    textPairColumn: getString(args, 'text-pair-column'),
    validationFile: getString(args, 'valid'),
    maxLength: getNumber(args, 'max-length'),
    tokenizer: model === undefined || model.startsWith('random:') ? undefined : modelDirOf(model),
  });
  new Output(io, getBool(args, 'json')).result(report, () => formatCheckReport(report) + '\n');
  return report.fatal ? EXIT_BAD_INPUT : EXIT_OK;
}
