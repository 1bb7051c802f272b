/**
 * `bertft check --suspects`: the likely mislabeled rows of a dataset (core/finetune/suspects.ts), ranked, each as
 * file:line, the given and the suggested label and the out-of-fold probability of each. Progress on stderr; with
 * --json one `{"event":"suspects",...}` object on stdout. Ctrl-C stops after the current step (exit 130).
 */
import * as path from 'node:path';
import type { Ranking } from '../core/finetune/confident-learning';
import { findSuspects, SuspectsCancelled, type SuspectsReport } from '../core/finetune/suspects';
import { visible } from '../core/util/inert-text';
import { ownValue } from '../core/util/records';
import type { DeviceChoice } from '../core/runtime/devices';
import { getBool, getNumber, getString, requireString, type ParsedArgs } from './args';
import { EXIT_CANCELLED, EXIT_OK, Output, stopOnSignal, type CliIo } from './output';

/** Characters of a row's text shown after its suspect line. */
const PREVIEW = 60;

const percent = (p: number) => `${(100 * p).toFixed(1)}%`;

/** A row's text on one line, invisibles escaped, cut to `width`. */
function preview(text: string, width = PREVIEW): string {
  const line = visible(text.replace(/\s+/g, ' ').trim());
  return line.length > width ? `${line.slice(0, width - 1)}…` : line;
}

/** The report for a person: a summary, then one line a suspect, most likely wrong first. */
export function formatSuspects(report: SuspectsReport, cwd = process.cwd()): string {
  const n = report.suspects.length;
  const thresholds = report.labels
    .map((l) => `${visible(l)} ${(ownValue(report.thresholds, l) ?? NaN).toFixed(2)}`)
    .join(', ');
  const lines = [
    `${n} likely mislabeled row${n === 1 ? '' : 's'} of ${report.rows} (${report.folds} folds, ${report.epochs} epochs ` +
      `each, ${visible(report.model)}; out-of-fold accuracy ${percent(report.outOfFoldAccuracy)}; ` +
      `thresholds: ${thresholds}), ranked by ${report.ranking}:`,
  ];
  for (const s of report.suspects) {
    const where = `${path.relative(cwd, s.file) || s.file}:${s.line}`;
    const suggested = ownValue(s.probabilities, s.suggested) ?? NaN;
    lines.push(
      `  ${where}  ${visible(s.given)} → ${visible(s.suggested)}  ` +
        `(p ${percent(s.selfConfidence)} → ${percent(suggested)})  ${preview(s.text)}`,
    );
  }
  if (report.out !== undefined) lines.push(`The fold runs and suspects.json are in ${report.out}.`);
  return lines.join('\n') + '\n';
}

export async function suspectsCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const json = getBool(args, 'json');
  const output = new Output(io, json);
  const stop = stopOnSignal(output, '\nStopping after this step (press Ctrl-C again to quit at once)...\n');
  try {
    const options = {
      data: requireString(args, 'data', 'check --suspects', 'examples/spam-ham.csv'),
      textColumn: getString(args, 'text-column'),
      labelColumn: getString(args, 'label-column'),
      textPairColumn: getString(args, 'text-pair-column'),
      folds: getNumber(args, 'folds'),
      seed: getNumber(args, 'seed'),
      model: getString(args, 'model'),
      epochs: getNumber(args, 'epochs'),
      maxLength: getNumber(args, 'max-length'),
      device: getString(args, 'device') as DeviceChoice | undefined,
      out: getString(args, 'out'),
      ranking: getString(args, 'rank-by') as Ranking | undefined,
    };
    let shownTenth = -1;
    const report = await findSuspects(options, {
      shouldStop: stop.requested,
      onFold: ({ fold, folds, phase }) =>
        output.note(
          phase === 'train'
            ? `fold ${fold}/${folds}: training on the other folds...\n`
            : `fold ${fold}/${folds}: predicting its rows...\n`,
        ),
      emit: (e) => {
        // One progress line every 10% of a fold's steps is enough for a person.
        if (e.event === 'started') shownTenth = -1;
        if (e.event !== 'step') return;
        const tenth = Math.floor((10 * e.step) / e.total_steps);
        if (tenth > shownTenth) output.note(`  step ${e.step}/${e.total_steps}\n`);
        shownTenth = Math.max(shownTenth, tenth);
      },
    });
    output.result(report, () => formatSuspects(report));
    return EXIT_OK;
  } catch (e) {
    if (e instanceof SuspectsCancelled) return EXIT_CANCELLED;
    output.failed(e);
    throw e;
  } finally {
    stop.dispose();
  }
}
