/**
 * The Runs view: every run in each workspace folder's run folder (`bert.runsDirectory`), newest first, with status,
 * best accuracy and date; a sweep is one row with its trials under it, best first (./sweeps.ts); a run submitted to a
 * cluster also shows its scheduler state (./jobs.ts). Refreshed when run files change (debounced), while a run is
 * training, and while a cluster job is queued or running (the scheduler asked no more often than every 10 s).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { JobRecord } from '../../core/scheduler/scheduler';
import { Slurm } from '../../core/scheduler/slurm';
import { packageVersion } from '../../core/util/package-version';
import { readSettings } from '../config';
import { join, say, treeItem, type Message } from '../display/ui';
import { describeJob, describeJobTooltip, jobBusy, jobIcon, JobStates, MIN_POLL_MS, type JobQuery } from './jobs';
import {
  RunStateCache,
  describeRun,
  describeRunTooltip,
  isProcessAlive,
  listRuns,
  phaseText,
  type RunInfo,
} from './runStore';
import {
  describeSweep,
  describeSweepTooltip,
  describeTrial,
  listSweeps,
  settingsLabel,
  type SweepInfo,
} from './sweeps';

const ICONS: Record<RunInfo['phase'], string> = {
  waiting: 'clock',
  training: 'sync~spin',
  done: 'pass',
  stopped: 'debug-stop',
  failed: 'error',
  interrupted: 'warning',
};

/** A row of the view: a run, a sweep, or (under a sweep) one of its trials, a run with its `trial` set. */
export type RunsNode = RunInfo | SweepInfo;

export function isSweep(node: RunsNode): node is SweepInfo {
  return 'trials' in node;
}

/** The absolute run folder of each workspace folder. */
export function runFolders(): string[] {
  return (vscode.workspace.workspaceFolders ?? [])
    .filter((f) => f.uri.scheme === 'file')
    .map((f) => path.resolve(f.uri.fsPath, readSettings(f).runsDirectory));
}

export class RunsTreeProvider implements vscode.TreeDataProvider<RunsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private watchers: vscode.FileSystemWatcher[] = [];
  private debounce: ReturnType<typeof setTimeout> | undefined;
  private runs: RunInfo[] = [];
  private sweepList: SweepInfo[] = [];
  private readonly cache = new RunStateCache();
  readonly jobs: JobStates;
  /** The next poll is forced (the Refresh command). */
  private forcePoll = false;

  constructor(
    private readonly log: vscode.LogOutputChannel,
    /** Slurm is the only scheduler so far; tests give another. */
    readonly scheduler: JobQuery & Pick<Slurm, 'cancel'> = new Slurm(packageVersion()),
  ) {
    this.jobs = new JobStates(scheduler, {
      onUnavailable: (reason) => this.log.warn(`Runs view: cannot ask the cluster scheduler: ${reason}`),
    });
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

  /** The runs as last listed (newest first; a sweep's trials are not among them). */
  get current(): readonly RunInfo[] {
    return this.runs;
  }

  /** The sweeps as last listed (newest first). */
  get sweeps(): readonly SweepInfo[] {
    return this.sweepList;
  }

  refresh(): void {
    this.changed.fire();
  }

  /** Refresh, asking the scheduler about every submitted run now (the view's Refresh button). */
  refreshAll(): void {
    this.forcePoll = true;
    this.refresh();
  }

  /** Lists the runs now (also what getChildren uses), and the sweeps beside them. */
  list(): RunInfo[] {
    // Restricted Mode: run folders are workspace files, read only once the workspace is trusted.
    if (!vscode.workspace.isTrusted) {
      this.sweepList = [];
      return (this.runs = []);
    }
    const runs: RunInfo[] = [];
    const sweeps: SweepInfo[] = [];
    for (const folder of runFolders()) {
      try {
        runs.push(...listRuns(folder, isProcessAlive, this.cache));
        sweeps.push(...listSweeps(folder, isProcessAlive, this.cache));
      } catch (error) {
        this.log.warn(`Runs view: cannot read ${folder}: ${String(error)}`);
      }
    }
    this.runs = runs.map((r) => this.jobs.apply(r)).sort((a, b) => b.date.localeCompare(a.date));
    this.sweepList = sweeps
      .map((s) => ({ ...s, trials: s.trials.map((t) => this.jobs.apply(t)) }))
      .sort((a, b) => b.date.localeCompare(a.date));
    const all = [...this.runs, ...this.sweepList.flatMap((s) => s.trials)];
    const dirs = new Set(all.map((r) => r.dir));
    this.cache.prune(dirs);
    this.jobs.prune(dirs);
    this.askScheduler(all);
    // A training run can die without touching its files; look again soon so it shows as interrupted.
    if (all.some((r) => r.phase === 'training' && !r.job)) this.refreshSoon(5000);
    return this.runs;
  }

  getChildren(element?: RunsNode): RunsNode[] {
    if (element) return isSweep(element) ? element.trials : [];
    const runs = this.list();
    return [...this.sweepList, ...runs].sort((a, b) => b.date.localeCompare(a.date));
  }

  getParent(element: RunsNode): RunsNode | undefined {
    if (isSweep(element) || !element.trial) return undefined;
    const sweepDir = element.trial.sweepDir;
    return this.sweepList.find((s) => s.dir === sweepDir);
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    return isSweep(node) ? this.sweepItem(node) : this.runItem(node);
  }

  /** The tree item of a run (Open Dashboard on click, as for every run) or a sweep's trial. */
  runItem(run: RunInfo): vscode.TreeItem {
    const parts: Message[] = [run.trial ? describeTrial(run, phaseText(run)) : say`${describeRun(run)}`];
    if (run.job) parts.push(describeJob(run.job));
    const label = run.trial ? settingsLabel(run.trial.settings, run.name) : say`${run.name}`;
    const tooltip = [describeRunTooltip(run), ...(run.job ? describeJobTooltip(run.job) : [])];
    const item = treeItem(label, { description: join(parts, ' · '), tooltip: join(tooltip, '  \n') });
    item.id = run.dir;
    const busy = jobBusy(run.job);
    const icon = (run.job && jobIcon(run.job)) ?? (run.trial?.best ? 'star-full' : undefined);
    item.iconPath = new vscode.ThemeIcon(
      icon ?? (run.task === 'mlm' && run.phase === 'done' ? 'book' : ICONS[run.phase]),
    );
    // e.g. `bertRun.done+model`: the phase drives Stop/Resume/Delete, `+model` offers Classify with This Model (not for
    // a pre-training run, whose model has no classes: the fine-tune flow offers it as a starting model instead).
    // A run whose cluster job is queued or running is `bertRun.training+job`: Cancel Job, no Stop, Resume or Delete.
    // Any run submitted to a cluster ends in `+log`: Open Job Log.
    const log = run.job?.record ? '+log' : '';
    item.contextValue = busy
      ? `bertRun.training+job${log}`
      : `bertRun.${run.phase}${run.bestModelDir && run.task !== 'mlm' ? '+model' : ''}${log}`;
    item.resourceUri = vscode.Uri.file(run.dir);
    item.command = { command: 'bert.runs.openDashboard', title: 'Open Dashboard', arguments: [run] };
    return item;
  }

  sweepItem(sweep: SweepInfo): vscode.TreeItem {
    const item = treeItem(say`${sweep.name}`, {
      description: describeSweep(sweep),
      tooltip: describeSweepTooltip(sweep),
      collapsible: sweep.trials.length > 0 ? 'collapsed' : 'none',
    });
    item.id = sweep.dir;
    item.iconPath = new vscode.ThemeIcon(sweep.error !== undefined ? 'warning' : 'beaker');
    item.contextValue = 'bertSweep';
    item.resourceUri = vscode.Uri.file(sweep.dir);
    return item;
  }

  /** The job record of a run or trial listed now. */
  jobOf(runDir: string): { run: RunInfo; record: JobRecord } | undefined {
    const key = path.resolve(runDir);
    const run = [...this.runs, ...this.sweepList.flatMap((s) => s.trials)].find((r) => path.resolve(r.dir) === key);
    return run?.job?.record ? { run, record: run.job.record } : undefined;
  }

  dispose(): void {
    if (this.debounce !== undefined) clearTimeout(this.debounce);
    for (const w of this.watchers) w.dispose();
    for (const d of this.disposables) d.dispose();
  }

  /** Asks the scheduler about due jobs; shows what changed, and looks again while a job is queued or running. */
  private askScheduler(runs: readonly RunInfo[]): void {
    if (!runs.some((r) => r.job?.record)) return;
    const force = this.forcePoll;
    this.forcePoll = false;
    void this.jobs.poll(runs, force).then((changed) => {
      if (changed) this.refresh();
      else if (this.jobs.anyActive(runs)) this.refreshSoon(MIN_POLL_MS);
    });
  }

  private watchFolders(): void {
    for (const w of this.watchers) w.dispose();
    // A run's files and the job records `bertft submit` / `jobs` write; a sweep's trials are one level deeper. A new
    // trial folder counts by itself: inotify can report a new folder without the file written into it at once.
    const globs: [string, boolean][] = [
      ['*/{metrics.jsonl,run.json,job.json,sweep.json}', false],
      ['*/*/{metrics.jsonl,run.json,job.json}', false],
      ['*/*', true],
    ];
    this.watchers = runFolders().flatMap((folder) =>
      globs.map(([glob, createOnly]) => {
        const watcher = vscode.workspace.createFileSystemWatcher(
          new vscode.RelativePattern(vscode.Uri.file(folder), glob),
          false,
          createOnly,
          createOnly,
        );
        const later = () => this.refreshSoon();
        watcher.onDidCreate(later);
        watcher.onDidChange(later);
        watcher.onDidDelete(later);
        return watcher;
      }),
    );
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
