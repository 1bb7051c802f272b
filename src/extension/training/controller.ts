/**
 * Owns the training side of the extension: trainer child processes started here, the shared run watchers, the
 * dashboards, the status bar driver, the Runs view and the Likely Mislabeled view. Commands (./index.ts) and the
 * dashboard's buttons call it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ALLOCATOR_MODE_VAR } from '../../core/train/allocator';
import { claimRunDir } from '../../core/run/folder';
import {
  estimateInChild,
  startTrainer,
  suspectsInChild,
  type SuspectsInChildOptions,
  type TrainerHandle,
} from '../../trainer/client';
import { readSettings } from '../config';
import { trainerEnv, type HubTokenStore } from '../network';
import type { EstimateEvent, SuspectsReport, TrainerEvent, TrainerRequest } from '../../trainer/protocol';
import type { EstimateOptions } from '../../core/finetune/session';
import { DashboardPanels } from '../dashboard/panel';
import { StatusDriver } from '../dashboard/statusDriver';
import { isProcessAlive, readRunState } from '../runs/runStore';
import { jobBusy } from '../runs/jobs';
import { clusterActive } from '../protocol/cluster';
import type { JobRecord } from '../../core/scheduler/scheduler';
import { RunsTreeProvider } from '../runs/view';
import { RunWatchers } from '../runs/runWatcher';
import { SuspectsTreeProvider } from './suspectsView';
import type { Ctx } from '../context';
import { error as showError, info, long, notify, say, warn, withProgress } from '../display/ui';
import { requireTrust } from '../trust';
import { resumeOptions } from './options';
import { runPaths } from '../../core/run/paths';
import { requestRunStop } from '../../core/run/stop-request';
import { deviceFallback, logLineForUser } from '../../core/run/events';
import { readRunJson } from '../../core/run/run-json';

export class TrainingController implements vscode.Disposable {
  readonly watchers: RunWatchers;
  readonly dashboards: DashboardPanels;
  readonly status: StatusDriver;
  readonly runs: RunsTreeProvider;
  /** The Likely Mislabeled view: the last report of Find Likely Mislabeled Rows. */
  readonly suspects: SuspectsTreeProvider;
  /** Trainer processes this window started, by run folder. */
  private readonly children = new Map<string, TrainerHandle>();
  private readonly log: vscode.LogOutputChannel;

  private readonly context: vscode.ExtensionContext;
  private readonly hubToken: HubTokenStore;

  constructor(ctx: Ctx) {
    this.context = ctx.extension;
    this.hubToken = ctx.hubToken;
    this.log = ctx.log;
    this.runs = new RunsTreeProvider(this.log);
    // The dashboards and the status bar ask the scheduler through the Runs view's poller: one poll per job, not two.
    this.watchers = new RunWatchers({
      onError: (e) => this.log.warn(`Following a run failed: ${String(e)}`),
      jobs: this.runs.jobs,
      onJobChanged: () => this.runs.refresh(),
    });
    this.dashboards = new DashboardPanels(
      this.context.extensionUri,
      this.watchers,
      {
        stop: (runDir) => this.stop(runDir),
        resume: (runDir) => this.resume(runDir),
        classifyWithModel: (modelDir) => this.classifyWithModel(modelDir),
        fineTuneFromModel: (modelDir) => this.fineTuneFromModel(modelDir),
        openJobLog: async (runDir) => {
          await vscode.commands.executeCommand('bert.runs.openJobLog', runDir);
        },
      },
      this.log,
    );
    this.dashboards.register(this.context);
    this.status = new StatusDriver(this.watchers, (s) => ctx.statusBar.set(s));
    this.suspects = new SuspectsTreeProvider();
  }

  /**
   * The context keys the command palette's `when` clauses read: `bert.hasRuns` (Open Training Dashboard) and
   * `bert.trainingActive` (Stop Training).
   */
  updateContext(): void {
    const runs = this.runs.list();
    const active = this.children.size > 0 || runs.some((r) => r.phase === 'training' || r.phase === 'waiting');
    void vscode.commands.executeCommand('setContext', 'bert.hasRuns', runs.length > 0);
    void vscode.commands.executeCommand('setContext', 'bert.trainingActive', active);
  }

  /**
   * After a window reload: follow the newest run that is still training (its process alive), or whose cluster job is
   * queued or running, in the status bar.
   */
  reattach(): void {
    const live = this.runs.list().find((r) => r.phase === 'training' || jobBusy(r.job));
    if (live) {
      this.log.info(`Reattached to the training run ${live.dir}`);
      this.status.follow(live.dir);
    }
  }

  /**
   * Starts the trainer child for `options`, fine-tuning or pre-training (never blocks the extension host), follows
   * it and opens its dashboard.
   */
  start(options: TrainerRequest): string {
    const runDir = path.resolve(options.out);
    if (this.children.has(runDir)) throw new Error(`A trainer is already running for ${runDir}.`);
    // Ours before anything is written into it (trainer.log): the trainer accepts only a run folder of ours.
    claimRunDir(runDir);
    this.log.info(`Starting the trainer for ${runDir}: ${JSON.stringify(options)}`);
    const handle = startTrainer({
      options,
      ...this.trainerProcess(),
      // Training outlives this extension host (a window reload restarts it); the next window reattaches.
      keepAliveWithoutParent: { stderrFile: path.join(runDir, 'trainer.log') },
    });
    this.log.info(`Trainer pid ${handle.pid}; its stderr goes to ${path.join(runDir, 'trainer.log')}`);
    this.children.set(runDir, handle);
    handle.events.on('event', (event: { event: string; message?: string; level?: string }) => {
      if (event.event === 'log') this.log.info(`[trainer] ${event.message ?? ''}`);
      if (event.event === 'error') void this.reportFailure(runDir, event.message ?? 'Training failed.');
      // The Runs view and the palette show the new phase now, not at their next poll.
      if (event.event === 'started' || event.event === 'done' || event.event === 'error') {
        this.runs.refresh();
        this.updateContext();
      }
      // The child appends each event to metrics.jsonl before sending it: read now rather than at the next poll.
      this.watchers.find(runDir)?.poll();
    });
    void handle.exited.then((exit) => {
      this.children.delete(runDir);
      this.log.info(`Trainer for ${runDir} exited (code ${exit.code}, signal ${exit.signal})`);
      const watcher = this.watchers.find(runDir);
      const before = watcher?.state.phase;
      const phase = watcher?.processEnded();
      if (before === 'waiting' && phase === 'failed') {
        void this.reportFailure(
          runDir,
          `the trainer process exited (code ${exit.code}, signal ${exit.signal}) before it started. See the BERT log for details.`,
        );
      }
      this.runs.refresh();
      this.updateContext();
    });
    this.status.follow(runDir);
    this.dashboards.show(runDir);
    this.runs.refresh();
    this.showStartup(runDir, handle);
    this.updateContext();
    return runDir;
  }

  /**
   * The trainer child's entry and environment (the training memory setting, VS Code's proxy settings, the Hugging Face
   * token), the same for a run and its estimate.
   */
  private trainerProcess(): { entry: string; env: NodeJS.ProcessEnv } {
    return {
      entry: path.join(this.context.extensionPath, 'dist', 'trainer.js'),
      env: trainerEnv({ ...process.env, [ALLOCATOR_MODE_VAR]: readSettings().trainingMemory }, this.hubToken),
    };
  }

  /**
   * The expected time and peak memory of a fine-tuning run, measured in a trainer child started as start() starts
   * one (the model and its warm-up steps never run in the extension host); the child answers and exits. `signal`
   * cancels it.
   */
  estimate(options: EstimateOptions, signal: AbortSignal): Promise<EstimateEvent> {
    this.log.info(`Estimating a run: ${JSON.stringify(options)}`);
    return estimateInChild({
      options,
      signal,
      ...this.trainerProcess(),
      onLog: (e) => this.log.info(`[estimate] ${e.message}`),
    });
  }

  /**
   * A dataset's likely mislabeled rows (`bertft check --suspects`), found in a trainer child started as start() starts
   * one: its k fold runs never load onnxruntime in the extension host. `signal` cancels it.
   */
  findSuspects(
    options: SuspectsInChildOptions['options'],
    signal: AbortSignal,
    onProgress: SuspectsInChildOptions['onProgress'],
  ): Promise<SuspectsReport> {
    this.log.info(`Finding likely mislabeled rows: ${JSON.stringify(options)}`);
    return suspectsInChild({ options, signal, onProgress, ...this.trainerProcess() });
  }

  /**
   * A cancellable notification while the trainer starts (model download, tokenization, graph compilation), until its
   * first step. Cancelling kills the trainer: nothing has been trained yet, so nothing is lost.
   */
  private showStartup(runDir: string, handle: TrainerHandle): void {
    void withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: say`BERT: starting ${path.basename(runDir)}`,
        cancellable: true,
      },
      (report, token) =>
        new Promise<void>((resolve) => {
          const onEvent = (event: TrainerEvent) => {
            const line = event.event === 'log' ? logLineForUser(event) : undefined;
            if (line !== undefined) report({ message: say`${long(line)}` });
            if (event.event === 'started') {
              report({ message: say`preparing the first step…` });
              const fallback = deviceFallback(event);
              if (fallback)
                void warn(
                  say`BERT: ${path.basename(runDir)} trains on ${event.device}: ${long(fallback.reasons.join('; '))}`,
                );
            }
            if (event.event === 'step' || event.event === 'done' || event.event === 'error') finish();
          };
          const finish = () => {
            handle.events.off('event', onEvent);
            resolve();
          };
          handle.events.on('event', onEvent);
          void handle.exited.then(finish);
          token.onCancellationRequested(() => {
            this.log.info(`Start-up of ${runDir} cancelled: killing the trainer`);
            handle.kill();
            finish();
          });
        }),
    );
  }

  /** Resolves true once the run's trainer has started training (its `started` event), false if it ended before. */
  started(runDir: string): Promise<boolean> {
    const handle = this.children.get(path.resolve(runDir));
    if (!handle) return Promise.resolve(readRunState(runDir).phase !== 'waiting');
    return new Promise((resolve) => {
      const onEvent = (event: { event: string }) => {
        if (event.event === 'started') done(true);
        if (event.event === 'error') done(false);
      };
      const done = (ok: boolean) => {
        handle.events.off('event', onEvent);
        resolve(ok);
      };
      handle.events.on('event', onEvent);
      void handle.exited.then(() => done(false));
    });
  }

  /**
   * Shows the dashboard of `runDir`. A cluster run is followed in the status bar too (its trainer is no child of this
   * window, so nothing else would), unless a run this window started is training.
   */
  showDashboard(runDir: string): void {
    const panel = this.dashboards.show(runDir);
    if (this.children.size === 0 && this.watchers.find(panel.runDir)?.job) this.status.follow(panel.runDir);
  }

  /**
   * Asks the run's trainer to stop gracefully (checkpoint, then `done` with stopped). A run whose cluster job is
   * queued or running is stopped through the scheduler (scancel): its job script stops the trainer the same way.
   */
  stop(runDir: string): void {
    const key = path.resolve(runDir);
    const child = this.children.get(key);
    if (child) {
      child.stop();
      this.log.info(`Asked the trainer for ${key} to stop`);
      return;
    }
    const job = this.liveClusterJob(key);
    if (job) {
      void this.cancelClusterJob(key, job);
      return;
    }
    // A run started by an earlier window (no IPC channel to it): its stop request file, which the trainer polls after
    // every step. Not a signal: on Windows SIGTERM ends the process at once, without a checkpoint.
    const state = readRunState(key);
    if (state.phase === 'training' && state.pid !== undefined && isProcessAlive(state.pid)) {
      const pid = state.pid;
      requestRunStop(key).then(
        (asked) =>
          asked
            ? this.log.info(`Asked trainer ${pid} for ${key} to stop (its stop request file)`)
            : void info(say`BERT: ${path.basename(key)} is not a run folder of this extension; nothing was changed.`),
        (error: unknown) =>
          void showError(say`BERT: Cannot ask ${path.basename(key)} to stop: ${long((error as Error).message)}`),
      );
      return;
    }
    void info(say`BERT: ${path.basename(key)} is not training.`);
  }

  /** The job of `key` when it was submitted to a cluster and is queued or running there. */
  private liveClusterJob(key: string): JobRecord | undefined {
    const watcher = this.watchers.find(key);
    if (watcher?.job) return clusterActive(watcher.cluster) ? watcher.job : undefined;
    this.runs.list();
    const found = this.runs.jobOf(key);
    return found && jobBusy(found.run.job) ? found.record : undefined;
  }

  private async cancelClusterJob(key: string, record: JobRecord): Promise<void> {
    try {
      await this.runs.scheduler.cancel(record.jobId);
    } catch (error) {
      void showError(say`BERT: Cannot stop ${path.basename(key)}: ${long((error as Error).message)}`);
      return;
    }
    this.log.info(`Stop: cancelled cluster job ${record.jobId} of ${key} (its trainer writes a checkpoint first)`);
    await this.watchers.find(key)?.checkCluster(true);
    this.runs.refreshAll();
  }

  /** The run the status bar shows, else the single running child. */
  currentRun(): string | undefined {
    return this.status.runDir ?? [...this.children.keys()].at(-1);
  }

  isRunning(runDir: string): boolean {
    const key = path.resolve(runDir);
    return this.children.has(key) || readRunState(key).phase === 'training';
  }

  async resume(runDir: string): Promise<void> {
    const key = path.resolve(runDir);
    // A trainer that has just stopped (its `done` logged, the run's lock released) can still be exiting: wait for
    // that briefly instead of calling a stopped run "already training" (Resume right after Stop).
    const exiting = this.children.get(key);
    if (exiting && ['stopped', 'done', 'failed'].includes(readRunState(key).phase)) {
      await Promise.race([exiting.exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
    }
    if (this.isRunning(key)) {
      void info(say`BERT: ${path.basename(key)} is already training.`);
      return;
    }
    if (!requireTrust('Resuming a run')) return;
    let runJson: unknown;
    try {
      runJson = readRunJson(runPaths(key).runJson);
    } catch (error) {
      void showError(
        say`BERT: Cannot resume ${path.basename(key)}: its run.json cannot be read (${long((error as Error).message)}). Start a new run instead.`,
      );
      return;
    }
    const options = resumeOptions(runJson, key);
    if (!options) {
      void showError(
        say`BERT: Cannot resume ${path.basename(key)}: its run.json has no training configuration. Start a new run instead.`,
      );
      return;
    }
    this.start(options);
  }

  async classifyWithModel(modelDir: string): Promise<void> {
    if (!fs.existsSync(modelDir)) {
      void info(say`BERT: This run has not saved a model yet; it is saved at the first evaluation.`);
      return;
    }
    await vscode.commands.executeCommand('bert.useModel', modelDir);
  }

  /** Starts the Fine-tune flow with a pre-training run's model as the model (it asks for the dataset and the rest). */
  async fineTuneFromModel(modelDir: string): Promise<void> {
    if (!fs.existsSync(modelDir)) {
      void info(say`BERT: This run has not saved a model yet; it is saved at the first evaluation.`);
      return;
    }
    await vscode.commands.executeCommand('bert.fineTune', undefined, { model: modelDir });
  }

  async deleteRun(runDir: string): Promise<boolean> {
    const key = path.resolve(runDir);
    if (this.isRunning(key)) {
      void warn(say`BERT: ${path.basename(key)} is training. Stop it before deleting it.`);
      return false;
    }
    const answer = await notify(
      'warning',
      say`Delete the run "${path.basename(key)}"?`,
      {
        modal: true,
        detail: say`This deletes ${long(key)} with its checkpoints and its saved model. It cannot be undone.`,
      },
      'Delete',
    );
    if (answer !== 'Delete') return false;
    this.dashboards.get(key)?.panel.dispose();
    if (this.status.runDir === key) this.status.clear();
    await fs.promises.rm(key, { recursive: true, force: true });
    this.log.info(`Deleted run ${key}`);
    this.runs.refresh();
    this.updateContext();
    return true;
  }

  private async reportFailure(runDir: string, message: string): Promise<void> {
    const choice = await showError(
      say`BERT: Training ${path.basename(runDir)} failed: ${long(message)}`,
      'Open Dashboard',
      'Show Log',
    );
    if (choice === 'Open Dashboard') this.dashboards.show(runDir);
    if (choice === 'Show Log') this.log.show();
  }

  dispose(): void {
    // Our trainers keep going (a reload must not stop training); the next window reattaches from metrics.jsonl.
    this.children.clear();
    this.dashboards.dispose();
    this.status.dispose();
    this.runs.dispose();
    this.suspects.dispose();
    this.watchers.dispose();
  }
}
