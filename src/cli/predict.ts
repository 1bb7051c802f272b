/** `bertft predict`: classify --text values and/or the texts of a --file; one line per text (JSON with --json). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataError } from '../core/errors';
import { readInputRows } from '../core/infer/batch-predict';
import { loadPredictor } from '../core/infer/predictor';
import { getList, getString, requireString, UsageError, type ParsedArgs } from './args';
import { EXIT_OK, Output, type CliIo } from './output';

/** Texts of a --file, with second texts where it has a pair column. */
interface FileTexts {
  texts: string[];
  pairs?: string[];
}

/**
 * Texts of a --file: a .txt file holds one text per line; CSV/TSV/JSONL/JSON use their text column (and a pair
 * column, given or detected, for a pair model).
 */
export async function readFileTexts(file: string, textColumn?: string, textPairColumn?: string): Promise<FileTexts> {
  if (path.extname(file).toLowerCase() !== '.txt') {
    const { rows } = await readInputRows(file, { textColumn, textPairColumn });
    const paired = rows.length > 0 && rows[0].textPair !== undefined;
    return { texts: rows.map((r) => r.text), ...(paired ? { pairs: rows.map((r) => r.textPair ?? '') } : {}) };
  }
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
  const texts = content
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '');
  return { texts };
}

/** The texts of a --file (readFileTexts without second texts). */
export async function readTexts(file: string, textColumn?: string): Promise<string[]> {
  return (await readFileTexts(file, textColumn)).texts;
}

const PREDICT_CHUNK = 256;

export async function predictCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const modelDir = requireString(args, 'model', 'predict', 'runs/my-run');
  const file = getString(args, 'file');
  const given = getList(args, 'text');
  const givenPairs = getList(args, 'text-pair');
  if (givenPairs.length > 0 && givenPairs.length !== given.length) {
    throw new UsageError(
      `${given.length} --text but ${givenPairs.length} --text-pair: a pair model classifies each --text with its --text-pair.`,
      'Give one --text-pair after each --text (bertft predict --text "A" --text-pair "B").',
    );
  }
  const fromFile =
    file !== undefined
      ? await readFileTexts(file, getString(args, 'text-column'), getString(args, 'text-pair-column'))
      : { texts: [] };
  const texts = [...given, ...fromFile.texts];
  const paired = givenPairs.length > 0 || fromFile.pairs !== undefined;
  if (paired && ((given.length > 0 && givenPairs.length === 0) || (fromFile.texts.length > 0 && !fromFile.pairs))) {
    throw new UsageError(
      'Some texts have a second text and some do not.',
      'Predict pairs and single texts in separate calls.',
    );
  }
  const pairs = paired ? [...givenPairs, ...(fromFile.pairs ?? [])] : undefined;
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
      const chunkPairs = pairs?.slice(start, start + PREDICT_CHUNK);
      (await predictor.predict(chunk, chunkPairs)).forEach((p, i) => {
        if (p.value !== undefined) {
          output.result(
            { value: p.value },
            () => `${p.value!.toFixed(4)}\t${chunk[i].replace(/\s+/g, ' ').slice(0, 80)}\n`,
          );
          return;
        }
        output.result(
          { label: p.label, score: p.score, scores: p.scores },
          () =>
            `${p.label}\t${p.score.toFixed(4)}\t${chunk[i].replace(/\s+/g, ' ').slice(0, 80)}` +
            `${chunkPairs ? `\t${chunkPairs[i].replace(/\s+/g, ' ').slice(0, 80)}` : ''}\n`,
        );
      });
    }
  } finally {
    await predictor.dispose();
  }
  return EXIT_OK;
}
