/**
 * `bertft predict`: classify --text values and/or the texts of a --file; one line per text (JSON with --json). With
 * --explain, each text's tokens by integrated gradient toward the predicted label (core/infer/explain.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataError } from '../core/errors';
import { readInputRows } from '../core/infer/batch-predict';
import { DEFAULT_IG_STEPS, loadExplainer, type Explanation, type TokenAttribution } from '../core/infer/explain';
import { tokenSurface } from '../core/infer/token-surface';
import { loadPredictor } from '../core/infer/predictor';
import { getBool, getList, getNumber, getString, requireString, UsageError, type ParsedArgs } from './args';
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
  const explain = getBool(args, 'explain');
  if (!explain && (args.flags.has('explain-steps') || args.flags.has('top'))) {
    throw new UsageError('--explain-steps and --top go with --explain.', 'Add --explain, or leave them out.');
  }
  const predictor = await loadPredictor(modelDir, { device: getString(args, 'device') as 'cpu' | undefined });
  const explainer = explain ? await loadExplainer(modelDir) : undefined;
  const steps = getNumber(args, 'explain-steps') ?? DEFAULT_IG_STEPS;
  const top = getNumber(args, 'top') ?? DEFAULT_TOP_TOKENS;
  try {
    const output = new Output(io, args.flags.get('json') === true);
    if (explainer) {
      for (const [i, text] of texts.entries()) {
        const textPair = pairs?.[i];
        const [p] = await predictor.predict([text], textPair === undefined ? undefined : [textPair]);
        // The predicted label by name; a regression model's one output, or a multi-label model's labels joined into
        // one name, leave the explainer its own choice: the largest logit.
        const label = predictor.labels.includes(p.label) ? p.label : undefined;
        const e = await explainer.explain(text, { steps, label, ...(textPair === undefined ? {} : { textPair }) });
        const prediction =
          p.value !== undefined ? { value: p.value } : { label: p.label, score: p.score, scores: p.scores };
        output.result({ ...prediction, explanation: explanationJson(e) }, () => {
          const head = p.value !== undefined ? p.value.toFixed(4) : `${p.label}\t${p.score.toFixed(4)}`;
          const shown = `${oneLine(text)}${textPair === undefined ? '' : `\t${oneLine(textPair)}`}`;
          return `${head}\t${shown}\n${explanationText([text, textPair ?? ''], e, top, p.value !== undefined)}`;
        });
      }
      return EXIT_OK;
    }
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
        if (p.predicted !== undefined) {
          // Multi-label: every label at or above its threshold, with its probability ("(none)" when none is).
          const found = p.predicted.map((l) => `${l.label} ${l.score.toFixed(4)}`).join(', ') || '(none)';
          output.result(
            { labels: p.predicted, scores: p.scores },
            () => `${found}\t${chunk[i].replace(/\s+/g, ' ').slice(0, 80)}\n`,
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
    await explainer?.dispose();
  }
  return EXIT_OK;
}

const DEFAULT_TOP_TOKENS = 5;

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').slice(0, 80);
}

/** --json: everything explain.ts found, every token with its span in the text. */
function explanationJson(e: Explanation) {
  return {
    label: e.label,
    method: 'integrated-gradients',
    steps: e.steps,
    baseline: e.baseline,
    logit: e.logit,
    baselineLogit: e.baselineLogit,
    truncated: e.truncated,
    // A pair's tokens say which text their offsets point into (segment 0 or 1).
    tokens: e.tokens.map((t) => ({
      token: t.token,
      start: t.start,
      end: t.end,
      score: t.score,
      ...(t.segment === undefined ? {} : { segment: t.segment }),
    })),
  };
}

/**
 * Two indented lines: the `top` tokens pushing toward the label, and those pushing away from it. `texts`: the text,
 * and a pair's second text, which a token's segment points into.
 */
function explanationText(texts: [string, string], e: Explanation, top: number, regression: boolean): string {
  const shown = (t: TokenAttribution) =>
    `${JSON.stringify(tokenSurface(texts, t))} ${t.score >= 0 ? '+' : ''}${t.score.toFixed(3)}`;
  const ranked = [...e.tokens].sort((a, b) => b.score - a.score);
  const toward = ranked.filter((t) => t.score > 0).slice(0, top);
  const against = ranked
    .filter((t) => t.score < 0)
    .reverse()
    .slice(0, top);
  const [up, down] = regression
    ? ['toward a higher value', 'toward a lower value']
    : [`toward ${e.label}`, `against ${e.label}`];
  const list = (ts: TokenAttribution[]) => (ts.length > 0 ? ts.map(shown).join(', ') : '(none)');
  return (
    `  ${up}: ${list(toward)}\n  ${down}: ${list(against)}\n` +
    (e.truncated ? '  (only the part of the text the model reads is explained)\n' : '')
  );
}
