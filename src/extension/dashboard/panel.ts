/**
 * The training dashboard: one webview panel per run folder, fed from that run's shared RunWatcher.
 * The panel does not keep its context when hidden; the webview saves its state with setState and, on every (re)load,
 * says `ready` and gets a fresh snapshot. After a window reload the serializer re-creates panels from that state.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TrainerEvent } from '../../trainer/protocol';
import { runName } from '../protocol/dashboardState';
import {
  DASHBOARD_VIEW_TYPE,
  isDashboardWebviewState,
  parseWebviewMessage,
  type ExtensionToWebview,
  type WebviewToExtension,
} from '../protocol/messages';
import type { RunWatchers } from '../runs/runWatcher';
import { markWalkthroughStep } from '../walkthrough';
import { createWebviewPanel, error as showError, long, plainTitle, say } from '../display/ui';
import { Batcher } from './batcher';
import { buildDashboardHtml, createNonce } from './html';
import { runPaths } from '../../core/run/paths';

/** What the dashboard's buttons do; implemented by the training commands. */
export interface DashboardActions {
  stop(runDir: string): Promise<void> | void;
  resume(runDir: string): Promise<void> | void;
  classifyWithModel(modelDir: string): Promise<void> | void;
  fineTuneFromModel(modelDir: string): Promise<void> | void;
  /** A cluster run's newest job log. */
  openJobLog(runDir: string): Promise<void> | void;
}

/** Deltas go out at most 4 times a second. */
const UPDATE_INTERVAL_MS = 250;

export class DashboardPanels implements vscode.Disposable {
  private readonly panels = new Map<string, DashboardPanel>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly watchers: RunWatchers,
    private readonly actions: DashboardActions,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** Registers the serializer that brings dashboards back after a window reload. */
  register(context: vscode.ExtensionContext): void {
    context.subscriptions.push(
      vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, {
        deserializeWebviewPanel: (panel, state: unknown) => {
          if (isDashboardWebviewState(state)) this.adopt(panel, state.runDir);
          else panel.dispose();
          return Promise.resolve();
        },
      }),
    );
  }

  /** Shows the dashboard of `runDir`, creating it or bringing an open one to the front. */
  show(runDir: string, column: vscode.ViewColumn = vscode.ViewColumn.Active): DashboardPanel {
    const key = path.resolve(runDir);
    const open = this.panels.get(key);
    if (open) {
      open.panel.reveal(column);
      return open;
    }
    const panel = createWebviewPanel(
      DASHBOARD_VIEW_TYPE,
      say`BERT: ${runName(key)}`,
      column,
      panelOptions(this.extensionUri),
    );
    markWalkthroughStep('bert.dashboardShown');
    return this.adopt(panel, key);
  }

  get(runDir: string): DashboardPanel | undefined {
    return this.panels.get(path.resolve(runDir));
  }

  dispose(): void {
    for (const p of [...this.panels.values()]) p.panel.dispose();
  }

  private adopt(panel: vscode.WebviewPanel, runDir: string): DashboardPanel {
    const key = path.resolve(runDir);
    panel.webview.options = panelOptions(this.extensionUri);
    const dashboard = new DashboardPanel(panel, key, this.extensionUri, this.watchers, this.actions, this.log);
    this.panels.set(key, dashboard);
    panel.onDidDispose(() => {
      if (this.panels.get(key) === dashboard) this.panels.delete(key);
    });
    return dashboard;
  }
}

/** Scripts on, and only our bundle folders readable. No retainContextWhenHidden: state is restored instead. */
function panelOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    enableForms: false,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

export class DashboardPanel {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly batcher: Batcher<TrainerEvent>;
  private readonly held: ReturnType<RunWatchers['acquire']>;
  private ready = false;

  constructor(
    readonly panel: vscode.WebviewPanel,
    readonly runDir: string,
    extensionUri: vscode.Uri,
    watchers: RunWatchers,
    private readonly actions: DashboardActions,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.held = watchers.acquire(runDir);
    this.batcher = new Batcher((events) => this.post({ type: 'events', events }), UPDATE_INTERVAL_MS);
    const webview = panel.webview;
    webview.html = buildDashboardHtml({
      cspSource: webview.cspSource,
      nonce: createNonce(),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview.css')).toString(),
      title: plainTitle(say`BERT: ${runName(runDir)}`),
      translations: vscode.l10n.bundle,
      lang: vscode.env.language,
    });
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'dashboard.svg');
    this.disposables.push(
      webview.onDidReceiveMessage((raw: unknown) => this.received(raw)),
      this.held.watcher.subscribe({
        events: (events) => {
          if (this.ready) for (const e of events) this.batcher.push(e);
        },
        reset: () => this.sendSnapshot(),
        phase: (phase) => {
          if (this.ready) {
            this.batcher.flush();
            this.post({ type: 'phase', phase });
          }
        },
        cluster: (cluster) => {
          if (this.ready) this.post({ type: 'cluster', cluster });
        },
      }),
      // A hidden webview is torn down; it says `ready` again when shown and gets a snapshot then.
      panel.onDidChangeViewState(() => {
        if (!panel.visible) this.ready = false;
      }),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  get state() {
    return this.held.watcher.state;
  }

  private received(raw: unknown): void {
    const message = parseWebviewMessage(raw);
    if (!message) {
      this.log.warn(`Dashboard: ignored an unexpected message: ${JSON.stringify(raw)?.slice(0, 200)}`);
      return;
    }
    void this.handle(message).catch((error: unknown) => {
      this.log.error(`Dashboard action ${message.type} failed: ${String(error)}`);
      void showError(say`BERT: ${long(error instanceof Error ? error.message : String(error))}`);
    });
  }

  private async handle(message: WebviewToExtension): Promise<void> {
    switch (message.type) {
      case 'ready':
        this.ready = true;
        this.sendSnapshot();
        return;
      case 'stop':
        return this.actions.stop(this.runDir);
      case 'resume':
        return this.actions.resume(this.runDir);
      case 'openModelFolder':
        return revealFolder(this.modelDir());
      case 'classifyWithModel':
        return this.actions.classifyWithModel(this.modelDir());
      case 'fineTuneFromModel':
        return this.actions.fineTuneFromModel(this.modelDir());
      case 'openExample':
        return this.openExample(message.file, message.line);
      case 'openJobLog':
        return this.actions.openJobLog(this.runDir);
    }
  }

  private modelDir(): string {
    return this.state.done?.best_dir ?? runPaths(this.runDir).best;
  }

  /** Opens only files this run's events named (the webview is not trusted to pick arbitrary paths). */
  private async openExample(file: string, line: number): Promise<void> {
    const known =
      this.state.latestEval?.misclassified.some((m) => m.file === file) ||
      this.state.bestEval?.misclassified.some((m) => m.file === file) ||
      this.state.dataset?.files.includes(file);
    if (!known) {
      this.log.warn(`Dashboard: refused to open ${file}, which this run does not use.`);
      return;
    }
    const position = new vscode.Position(line - 1, 0);
    await vscode.window.showTextDocument(vscode.Uri.file(file), {
      selection: new vscode.Range(position, position),
      preview: true,
      viewColumn: vscode.ViewColumn.Beside,
    });
  }

  private sendSnapshot(): void {
    if (!this.ready) return;
    this.batcher.clear();
    this.post({ type: 'snapshot', state: this.state });
    const cluster = this.held.watcher.cluster;
    if (cluster) this.post({ type: 'cluster', cluster });
  }

  private post(message: ExtensionToWebview): void {
    void this.panel.webview.postMessage(message);
  }

  private dispose(): void {
    this.batcher.dispose();
    for (const d of this.disposables) d.dispose();
    this.disposables.length = 0;
    this.held.release();
  }
}

/** The model folder in the Explorer when it is inside the workspace, else in the OS file manager. */
async function revealFolder(dir: string): Promise<void> {
  const uri = vscode.Uri.file(dir);
  if (vscode.workspace.getWorkspaceFolder(uri)) {
    await vscode.commands.executeCommand('revealInExplorer', uri);
  } else {
    await vscode.commands.executeCommand('revealFileInOS', uri);
  }
}
