/** `bertft check`: the dataset report (text, or one JSON object with --json); exit 1 when a problem is fatal. */
import { checkDataset, formatCheckReport } from '../core/data/check';
import { modelDirOf } from '../core/infer/predictor';
import { getNumber, getString, requireString, type ParsedArgs } from './args';
import { EXIT_BAD_INPUT, EXIT_OK, type CliIo } from './main';

export async function checkCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const data = requireString(args, 'data', 'check', 'examples/spam-ham.csv');
  const model = getString(args, 'model');
  const report = await checkDataset(data, {
    textColumn: getString(args, 'text-column'),
    labelColumn: getString(args, 'label-column'),
    validationFile: getString(args, 'valid'),
    maxLength: getNumber(args, 'max-length'),
    tokenizer: model === undefined || model.startsWith('random:') ? undefined : modelDirOf(model),
  });
  if (args.flags.get('json') === true) io.stdout(JSON.stringify(report) + '\n');
  else io.stdout(formatCheckReport(report) + '\n');
  return report.fatal ? EXIT_BAD_INPUT : EXIT_OK;
}
