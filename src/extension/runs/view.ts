/**
 * The Runs view: every run in each workspace folder's run folder (`bert.runsDirectory`), newest first, with status,
 * best accuracy and date. Refreshed when run files change (debounced) and while a run is training.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readSettings } from '../config';
import { say, treeItem } from '../display/ui';
import { RunStateCache, describeRun, describeRunTooltip, isProcessAlive, listRuns, type RunInfo } from './runStore';

const ICONS: Record<RunInfo['phase'], string> = {
  waiting: 'clock',
  training: 'sync~spin',
  done: 'pass',
  stopped: 'debug-stop',
  failed: 'error',
  interrupted: 'warning',
};

/** The absolute run folder of each workspace folder. */
export function runFolders(): string[] {
  return (vscode.workspace.workspaceFolders ?? [])
    .filter((f) => f.uri.scheme === 'file')
    .map((f) => path.resolve(f.uri.fsPath, readSettings(f).runsDirectory));
}

export class RunsTreeProvider implements vscode.TreeDataProvider<RunInfo>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private watchers: vscode.FileSystemWatcher[] = [];
  private debounce: ReturnType<typeof setTimeout> | undefined;
  private runs: RunInfo[] = [];
  private readonly cache = new RunStateCache();

  constructor(private readonly log: vscode.LogOutputChannel) {
    this.watchFolders();
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('bert.runsDirectory')) {
          this.watchFolders();
          this.refresh();
        }
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => {
        this.watchFolders();
        this.refresh();
      }),
    );
  }

  /** The runs as last listed (newest first). */
  get current(): readonly RunInfo[] {
    return this.runs;
  }

  refresh(): void {
    this.changed.fire();
  }

  /** Lists the runs now (also what getChildren uses). */
  list(): RunInfo[] {
    // Restricted Mode: run folders are workspace files, read only once the workspace is trusted.
    if (!vscode.workspace.isTrusted) return (this.runs = []);
    const runs: RunInfo[] = [];
    for (const folder of runFolders()) {
      try {
        runs.push(...listRuns(folder, isProcessAlive, this.cache));
      } catch (error) {
        this.log.warn(`Runs view: cannot read ${folder}: ${String(error)}`);
      }
    }
    this.runs = runs.sort((a, b) => b.date.localeCompare(a.date));
    this.cache.prune(new Set(this.runs.map((r) => r.dir)));
    // A training run can die without touching its files; look again soon so it shows as interrupted.
    if (this.runs.some((r) => r.phase === 'training')) this.refreshSoon(5000);
    return this.runs;
  }

  getChildren(element?: RunInfo): RunInfo[] {
    return element ? [] : this.list();
  }

  getTreeItem(run: RunInfo): vscode.TreeItem {
    const item = treeItem(say`${run.name}`, {
      description: say`${describeRun(run)}`,
      tooltip: describeRunTooltip(run),
    });
    item.id = run.dir;
    item.iconPath = new vscode.ThemeIcon(run.task === 'mlm' && run.phase === 'done' ? 'book' : ICONS[run.phase]);
    // e.g. `bertRun.done+model`: the phase drives Stop/Resume/Delete, `+model` offers Classify with This Model (not for
    // a pre-training run, whose model has no classes: the fine-tune flow offers it as a starting model instead).
    item.contextValue = `bertRun.${run.phase}${run.bestModelDir && run.task !== 'mlm' ? '+model' : ''}`;
    item.resourceUri = vscode.Uri.file(run.dir);
    item.command = { command: 'bert.runs.openDashboard', title: 'Open Dashboard', arguments: [run] };
    return item;
  }

  dispose(): void {
    if (this.debounce !== undefined) clearTimeout(this.debounce);
    for (const w of this.watchers) w.dispose();
    for (const d of this.disposables) d.dispose();
  }

  private watchFolders(): void {
    for (const w of this.watchers) w.dispose();
    this.watchers = runFolders().map((folder) => {
      const watcher = vscode.workspace.createFileSystemWatcher(
        new vscode.RelativePattern(vscode.Uri.file(folder), '*/{metrics.jsonl,run.json}'),
      );
      const later = () => this.refreshSoon();
      watcher.onDidCreate(later);
      watcher.onDidChange(later);
      watcher.onDidDelete(later);
      return watcher;
    });
  }

  /** metrics.jsonl changes every step; one refresh a second is plenty for a list. */
  private refreshSoon(delayMs = 1000): void {
    if (this.debounce !== undefined) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      this.refresh();
    }, delayMs);
  }
}
