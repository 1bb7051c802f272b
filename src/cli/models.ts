/**
 * `bertft models`: the model families we train, with suggested Hub ids and when to pick each, and the families named
 * as not supported yet (core/model/catalog.ts, the table the extension's model step shows too).
 */
import { formatCatalog, MODEL_CATALOG } from '../core/model/catalog';
import type { ParsedArgs } from './args';
import { EXIT_OK, Output, type CliIo } from './output';

export function modelsCommand(args: ParsedArgs, io: CliIo): number {
  new Output(io, args.flags.get('json') === true).result({ families: MODEL_CATALOG }, () => formatCatalog());
  return EXIT_OK;
}
