/**
 * The Likely Mislabeled view (in the BERT view container): the rows of the last "Find Likely Mislabeled Rows" report,
 * most likely wrong first, each as given label → suggested label with the fold models' confidence in the suggestion.
 * Clicking a row opens its data file at the row's line. Labels and texts are data: every one is shown through a
 * Message (display/ui.ts).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Suspect, SuspectsReport } from '../../core/finetune/suspects-report';
import { ownValue } from '../../core/util/records';
import { say, setViewMessage, snippet, treeItem, type Message } from '../display/ui';

export const SUSPECTS_VIEW = 'bert.suspects';
export const OPEN_SUSPECT = 'bert.suspects.open';

export const percent = (p: number): string => `${(100 * p).toFixed(0)}%`;

/** The out-of-fold probability of the label the finder suggests instead of the given one. */
export function suggestedConfidence(suspect: Suspect): number {
  return ownValue(suspect.probabilities, suspect.suggested) ?? 0;
}

/** The view's one-line summary of a report: how many rows, of how many, in which file. */
export function reportSummary(report: SuspectsReport): Message {
  const file = vscode.workspace.asRelativePath(report.data);
  return say`${report.suspects.length} likely mislabeled rows of ${report.rows} in ${file} (${report.folds} folds; the fold models agreed with ${percent(report.outOfFoldAccuracy)} of the labels)`;
}

/** Opens a suspect's data file with the cursor at the start of its row. */
export async function openSuspect(suspect: Suspect): Promise<void> {
  const position = new vscode.Position(Math.max(0, suspect.line - 1), 0);
  await vscode.window.showTextDocument(vscode.Uri.file(suspect.file), {
    selection: new vscode.Range(position, position),
  });
}

export class SuspectsTreeProvider implements vscode.TreeDataProvider<Suspect>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  readonly view: vscode.TreeView<Suspect>;
  private report: SuspectsReport | undefined;

  constructor() {
    this.view = vscode.window.createTreeView(SUSPECTS_VIEW, { treeDataProvider: this, showCollapseAll: false });
  }

  /** The report the view lists (undefined before the first). */
  get current(): SuspectsReport | undefined {
    return this.report;
  }

  /** Lists `report`'s suspects (an empty report clears the list and says so). */
  show(report: SuspectsReport): void {
    this.report = report;
    setViewMessage(this.view, report.suspects.length > 0 ? reportSummary(report) : undefined);
    void vscode.commands.executeCommand('setContext', 'bert.hasSuspects', report.suspects.length > 0);
    this.changed.fire();
  }

  clear(): void {
    this.report = undefined;
    setViewMessage(this.view, undefined);
    void vscode.commands.executeCommand('setContext', 'bert.hasSuspects', false);
    this.changed.fire();
  }

  getChildren(element?: Suspect): Suspect[] {
    return element || !this.report ? [] : this.report.suspects;
  }

  getTreeItem(suspect: Suspect): vscode.TreeItem {
    const where = `${path.basename(suspect.file)}:${suspect.line}`;
    const probabilities = [...(this.report?.labels ?? [])]
      .map((label) => ({ label, p: ownValue(suspect.probabilities, label) ?? 0 }))
      .sort((a, b) => b.p - a.p)
      .slice(0, 5)
      .map(({ label, p }) => say`- ${label}: ${percent(p)}`);
    const tooltip = say`**${suspect.given} → ${suspect.suggested}** (${where})

${snippet(suspect.text, 400)}

Out-of-fold probabilities:

${probabilities.reduce((all, line) => say`${all}${line}\n`, say``)}`;
    const item = treeItem(say`${suspect.given} → ${suspect.suggested}`, {
      description: say`${percent(suggestedConfidence(suspect))} · ${where} · ${snippet(suspect.text, 80)}`,
      tooltip,
    });
    item.id = `${suspect.file}:${suspect.line}`;
    item.iconPath = new vscode.ThemeIcon('warning');
    item.contextValue = 'bertSuspect';
    item.command = { command: OPEN_SUSPECT, title: 'Open Row', arguments: [suspect] };
    return item;
  }

  dispose(): void {
    this.view.dispose();
    this.changed.dispose();
  }
}
