/** `bertft predict`: classify --text values and/or the texts of a --file; one line per text (JSON with --json). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataError } from '../core/errors';
import { readInputRows } from '../core/infer/batch-predict';
import { loadPredictor } from '../core/infer/predictor';
import { getList, getString, requireString, UsageError, type ParsedArgs } from './args';
import { EXIT_OK, Output, type CliIo } from './output';

/** Texts of a --file: a .txt file holds one text per line; CSV/TSV/JSONL/JSON use their text column. */
export async function readTexts(file: string, textColumn?: string): Promise<string[]> {
  if (path.extname(file).toLowerCase() !== '.txt')
    return (await readInputRows(file, { textColumn })).rows.map((r) => r.text);
  let content: string;
  try {
    content = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new DataError(`Cannot read ${file}.`, {
      file,
      code: 'DATA_UNREADABLE',
      cause: e,
      fix: 'Check the path given to --file.',
    });
  }
  return content
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '');
}

const PREDICT_CHUNK = 256;

export async function predictCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const modelDir = requireString(args, 'model', 'predict', 'runs/my-run');
  const file = getString(args, 'file');
  const texts = [
    ...getList(args, 'text'),
    ...(file !== undefined ? await readTexts(file, getString(args, 'text-column')) : []),
  ];
  if (texts.length === 0)
    throw new UsageError(
      '`bertft predict` needs texts to classify.',
      'Add --text "some text" (repeatable) or --file texts.txt.',
    );
  const predictor = await loadPredictor(modelDir, { device: getString(args, 'device') as 'cpu' | undefined });
  try {
    const output = new Output(io, args.flags.get('json') === true);
    // In chunks, so that results of a long file appear as they are computed and memory stays bounded.
    for (let start = 0; start < texts.length; start += PREDICT_CHUNK) {
      const chunk = texts.slice(start, start + PREDICT_CHUNK);
      (await predictor.predict(chunk)).forEach((p, i) => {
        if (p.value !== undefined) {
          output.result(
            { value: p.value },
            () => `${p.value!.toFixed(4)}\t${chunk[i].replace(/\s+/g, ' ').slice(0, 80)}\n`,
          );
          return;
        }
        output.result(
          { label: p.label, score: p.score, scores: p.scores },
          () => `${p.label}\t${p.score.toFixed(4)}\t${chunk[i].replace(/\s+/g, ' ').slice(0, 80)}\n`,
        );
      });
    }
  } finally {
    await predictor.dispose();
  }
  return EXIT_OK;
}
