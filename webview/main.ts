/**
 * The training dashboard's script (bundled to dist/webview.js). It renders a DashboardState and keeps it current:
 * `ready` → snapshot from the extension → deltas. The state is saved with setState so a hidden or reloaded panel
 * draws at once (then the extension's fresh snapshot replaces it).
 */
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import { applyEvents, regressionScatter, runKind, type DashboardState } from '../src/extension/protocol/dashboardState';
import {
  isDashboardWebviewState,
  type DashboardWebviewState,
  type ExtensionToWebview,
  type WebviewToExtension,
} from '../src/extension/protocol/messages';
import type { ClusterStatus } from '../src/extension/protocol/cluster';
import { chartColumns } from '../src/extension/dashboard/viewModel';
import { parseTranslations, useTranslations } from '../src/extension/protocol/l10n';
import { Charts } from './charts';
import { Scatter } from './scatter';
import { h, keepingFocus } from './dom';
import { renderAll, type Sections, type UiState } from './render';

interface VsCodeApi {
  postMessage(message: WebviewToExtension): void;
  getState(): unknown;
  setState(state: DashboardWebviewState & { ui?: UiState }): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const saved = vscode.getState();
let state: DashboardState | undefined = isDashboardWebviewState(saved) ? saved.state : undefined;
// A run submitted to a cluster: its job's state (the extension sends it after each snapshot and when it changes).
let cluster: ClusterStatus | undefined = isDashboardWebviewState(saved) ? saved.cluster : undefined;
const ui: UiState = (saved as { ui?: UiState } | undefined)?.ui ?? {};

const app = document.getElementById('app')!;
// Before anything is drawn: every text of the page goes through t (the extension put the locale's bundle here).
useTranslations(parseTranslations(app.dataset.l10n));
const sections: Sections = {
  header: h('header', { id: 'header' }),
  actions: h('div', { class: 'actions', id: 'actions' }),
  problem: h('div', { id: 'problem' }),
  evals: h('section', { id: 'evals' }),
  confusion: h('section', { id: 'confusion-section' }),
  perClass: h('section', { id: 'per-class' }),
  config: h('section', { id: 'config' }),
};
const chartBox = h('div', { class: 'charts', id: 'charts' });
// A regression run's predicted-vs-true plot, where a classifier's confusion matrix would be.
const scatterBox = h('div', { class: 'charts', id: 'scatter' });
// The reading and focus order: the run and its state (a failure first), the buttons, the charts, the tables.
app.replaceChildren(
  sections.header,
  sections.problem,
  sections.actions,
  chartBox,
  scatterBox,
  h('div', { class: 'grid' }, sections.evals, sections.confusion, sections.perClass, sections.config),
);
const charts = new Charts(chartBox);
const scatter = new Scatter(scatterBox);

let frame = 0;
function scheduleRender(): void {
  if (frame !== 0) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    if (!state) return;
    const current = state;
    keepingFocus(app, () =>
      renderAll(sections, current, {
        post: (m) => vscode.postMessage(m),
        ui,
        cluster,
        rerender: () => {
          save();
          scheduleRender();
        },
      }),
    );
    charts.update(chartColumns(state), runKind(state));
    scatter.update(regressionScatter(state));
  });
}

function save(): void {
  if (saveTimer !== undefined) clearTimeout(saveTimer);
  saveTimer = undefined;
  if (state) vscode.setState({ runDir: state.runDir, state, cluster, ui });
}

/** A long run's state is megabytes of JSON: during training, save it every few seconds rather than on every delta. */
let saveTimer: ReturnType<typeof setTimeout> | undefined;
function saveSoon(): void {
  saveTimer ??= setTimeout(save, 2000);
}

window.addEventListener('message', (event: MessageEvent<ExtensionToWebview>) => {
  const message = event.data;
  switch (message.type) {
    case 'snapshot':
      if (state?.runDir !== message.state.runDir) {
        ui.cell = ui.focusCell = undefined;
        cluster = undefined;
      }
      state = message.state;
      break;
    case 'events':
      if (!state) return; // a delta before the snapshot cannot be applied; the snapshot will include it
      applyEvents(state, message.events);
      saveSoon();
      scheduleRender();
      return;
    case 'phase':
      if (!state) return;
      state.phase = message.phase;
      break;
    case 'cluster':
      cluster = message.cluster;
      break;
    default:
      return;
  }
  save();
  scheduleRender();
});

if (state) scheduleRender();
vscode.postMessage({ type: 'ready' });
