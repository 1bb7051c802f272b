/**
 * "BERT: Find Likely Mislabeled Rows": `bertft check --suspects` in a trainer child (controller.findSuspects), with a
 * cancellable progress notification, then the suspects in the Likely Mislabeled view (suspectsView.ts), most likely
 * wrong first; clicking one opens the data file at that row's line. The fold runs go to a temporary folder the child
 * deletes.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Suspect, SuspectsOptions, SuspectsReport } from '../../core/finetune/suspects-report';
import type { Ctx } from '../context';
import { info, say, withProgress } from '../display/ui';
import { requireTrust } from '../trust';
import type { TrainingController } from './controller';
import { OPEN_SUSPECT, SUSPECTS_VIEW, openSuspect, percent } from './suspectsView';

const DATA_FILE = /\.(csv|tsv|jsonl|ndjson|json)$/i;

/** What the command answers with: the report, and the row it opened (when one was picked). */
export interface SuspectsOutcome {
  report: SuspectsReport;
  opened?: { file: string; line: number };
}

/**
 * Arguments answer the questions (tests, other commands): the data file (a Uri from the Explorer, or `data` with the
 * finder's options), and `open`: the suspect (by rank, from 0) to open as a click on it in the view does.
 */
type SuspectsArgument = vscode.Uri | (Partial<SuspectsOptions> & { open?: number }) | undefined;

async function dataFileOf(arg: SuspectsArgument): Promise<string | undefined> {
  if (arg instanceof vscode.Uri) return arg.fsPath;
  if (arg?.data !== undefined) return arg.data;
  const active = vscode.window.activeTextEditor?.document.uri;
  if (active?.scheme === 'file' && DATA_FILE.test(active.fsPath)) return active.fsPath;
  const chosen = await vscode.window.showOpenDialog({
    title: 'Find Likely Mislabeled Rows: dataset',
    canSelectFiles: true,
    canSelectFolders: true,
    canSelectMany: false,
    filters: { Datasets: ['csv', 'tsv', 'jsonl', 'json'], 'All files': ['*'] },
  });
  return chosen?.[0]?.fsPath;
}

/** Runs the finder with a progress notification; undefined when cancelled. */
function runFinder(controller: TrainingController, options: SuspectsOptions): Thenable<SuspectsReport | undefined> {
  return withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: say`BERT: finding likely mislabeled rows in ${path.basename(options.data)}`,
      cancellable: true,
    },
    async (report, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      let fold = 1;
      let folds = options.folds ?? 5;
      let done = 0;
      const advance = (to: number, message: ReturnType<typeof say>) => {
        report({ increment: Math.max(0, to - done), message });
        done = Math.max(done, to);
      };
      try {
        return await controller.findSuspects(options, abort.signal, (event) => {
          if (event.event === 'suspects-progress') {
            ({ fold, folds } = event);
            const phase = event.phase === 'train' ? say`training` : say`predicting its rows`;
            advance((100 * (fold - 1)) / folds, say`fold ${fold} of ${folds}: ${phase}`);
          } else if (event.event === 'step') {
            const share = event.step / event.total_steps;
            advance(
              (100 * (fold - 1 + share)) / folds,
              say`fold ${fold} of ${folds}: training, ${percent(share)} of its steps`,
            );
          }
        });
      } catch (e) {
        if (abort.signal.aborted) return undefined;
        throw e;
      }
    },
  );
}

export function registerSuspectsCommands(ctx: Ctx, controller: TrainingController): void {
  ctx.command(OPEN_SUSPECT, (suspect?: Suspect) => (suspect ? openSuspect(suspect) : undefined));
  ctx.command('bert.suspects.clear', () => controller.suspects.clear());

  ctx.command('bert.findSuspects', async (arg?: SuspectsArgument): Promise<SuspectsOutcome | undefined> => {
    if (!requireTrust('Finding likely mislabeled rows')) return undefined;
    const data = await dataFileOf(arg);
    if (data === undefined) return undefined;
    const given = arg instanceof vscode.Uri || arg === undefined ? {} : arg;
    const { open, ...options } = given;
    const report = await runFinder(controller, { ...options, data });
    if (!report) return undefined;
    controller.suspects.show(report);
    if (report.suspects.length === 0) {
      const where = vscode.workspace.asRelativePath(report.data);
      void info(
        say`BERT: No likely mislabeled rows in ${where} (${report.rows} rows; the fold models agreed with ${percent(report.outOfFoldAccuracy)} of the labels).`,
      );
      return { report };
    }
    await vscode.commands.executeCommand(`${SUSPECTS_VIEW}.focus`);
    const suspect = open === undefined ? undefined : report.suspects[open];
    if (!suspect) return { report };
    await openSuspect(suspect);
    return { report, opened: { file: suspect.file, line: suspect.line } };
  });
}
