/**
 * The injection battery, display side: every payload through every way the extension shows data (notifications,
 * quick-pick items and prompts, the status bar, markdown hovers and tooltips, the Runs view, the webview's text), then
 * checked the way VS Code 1.100 would render it: its link syntax, its icon syntax, and markdown rendered by marked 14
 * (the engine VS Code's markdown renderer vendors). Prints the counts: payloads × surfaces, live links or elements.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { marked } from 'marked';
import {
  asLabel,
  asLog,
  asMarkdown,
  asPlain,
  long,
  say,
  snippet,
  visible,
  type Message,
} from '../../../src/extension/display/text';
import { describePredictions, hoverMarkdown } from '../../../src/extension/inference/text';
import { formatStatus } from '../../../src/extension/dashboard/statusText';
import { describeRun, describeRunTooltip, type RunInfo } from '../../../src/extension/runs/runStore';
import { applyEvents, emptyDashboardState } from '../../../src/extension/protocol/dashboardState';
import type { Prediction } from '../../../src/core/infer/predictor';
import { recordOf } from '../../../src/core/util/records';
import { payloads, SPOOFING, VSCODE_ICON, VSCODE_LINK } from '../../helpers/payloads';
import { failure, started } from '../extension-ui/sampleRun';

const ORIGIN = 'http://127.0.0.1:9';
const PAYLOADS = payloads(ORIGIN);

type Kind = 'plain' | 'label' | 'markdown';

/** What one surface shows for a payload: its rendered text and how VS Code interprets that text. */
interface Surface {
  name: string;
  kind: Kind;
  show(payload: string): string;
}

const prediction = (label: string): Prediction => ({
  label,
  score: 0.9,
  scores: recordOf([
    [label, 0.9],
    ['other', 0.1],
  ]),
});
const run = (name: string, error?: string): RunInfo => ({
  dir: `/ws/.bert/runs/${name}`,
  name,
  phase: error ? 'failed' : 'done',
  task: 'classify',
  kind: 'single-label',
  date: '2026-12-06T10:00:00Z',
  step: 10,
  totalSteps: 10,
  bestAccuracy: 0.9,
  bestMacroF1: 0.8,
  bestStep: 10,
  errorMessage: error,
});
const failedRunState = (name: string, message: string) => {
  const state = emptyDashboardState(`/ws/.bert/runs/${name.replace(/\//g, '_')}`);
  applyEvents(state, [started(), failure(message)]);
  return state;
};
const statusOf = (state: ReturnType<typeof failedRunState>) => {
  const s = formatStatus(state);
  assert.ok(s.kind !== 'idle');
  return s;
};

const SURFACES: Surface[] = [
  { name: 'notification', kind: 'plain', show: (p) => asPlain(say`BERT: Training ${p} failed: ${long(p)}`) },
  { name: 'progress title', kind: 'plain', show: (p) => asPlain(say`BERT: checking ${p}…`) },
  { name: 'modal detail', kind: 'plain', show: (p) => asPlain(say`• ${p}: ${long(p, 300)}`) },
  {
    name: 'classify notification',
    kind: 'plain',
    show: (p) => asPlain(say`BERT ${p}: ${describePredictions([prediction(p)])}`),
  },
  {
    name: 'classify notification, several',
    kind: 'plain',
    show: (p) => asPlain(describePredictions([prediction(p), prediction(p)])),
  },
  { name: 'snippet of a text', kind: 'plain', show: (p) => asPlain(say`← ${snippet(p)}`) },
  { name: 'quick-pick label', kind: 'label', show: (p) => asLabel(say`$(check) Text: "${p}", label: "${p}"`) },
  {
    name: 'input prompt',
    kind: 'label',
    show: (p) => asLabel(say`${long(`Cannot tell which column holds the text. Columns found: "${p}"`)}`),
  },
  {
    name: 'status bar text',
    kind: 'label',
    show: (p) => asLabel(say`$(error) BERT: ${statusOf(failedRunState(p, p)).text}`),
  },
  {
    name: 'status bar tooltip',
    kind: 'plain',
    show: (p) => asPlain(statusOf(failedRunState(p, p)).tooltip as Message),
  },
  { name: 'Runs view label and description', kind: 'plain', show: (p) => asPlain(say`${p} ${describeRun(run(p))}`) },
  { name: 'Runs view tooltip', kind: 'markdown', show: (p) => asMarkdown(describeRunTooltip(run(p, p))) },
  { name: 'hover', kind: 'markdown', show: (p) => asMarkdown(hoverMarkdown(prediction(p), p, `/ws/.bert/runs/${p}`)) },
];

/** The anchors, images and other elements marked 14 makes of a markdown text (gfm, as VS Code renders hovers). */
function elementsFrom(markdownText: string): string[] {
  const html = marked.parse(markdownText, { gfm: true, async: false });
  return [...html.matchAll(/<\s*([a-zA-Z][a-zA-Z0-9-]*)([^>]*)>/g)].map((m) => `${m[1].toLowerCase()}${m[2]}`);
}

/** Elements our own markdown makes: paragraphs, emphasis, code spans, line breaks, and the dashboard link. */
const OURS = /^(p|strong|em|code|br)$|^a href="command:bert\.openDashboard\?[^"]*"$/;

/** What VS Code would make of `shown` on a surface of this kind that did not come from our own literal text. */
function problemsOf(kind: Kind, shown: string, ownIcons: readonly string[] = []): string[] {
  const problems: string[] = [];
  if (kind !== 'markdown' && [...shown.matchAll(VSCODE_LINK)].length > 0) problems.push('a live link');
  if (kind === 'label') {
    const icons = [...shown.matchAll(VSCODE_ICON)].filter((m) => m[1] === undefined).map((m) => m[2]);
    if (icons.some((name) => !ownIcons.includes(name))) problems.push(`a drawn icon (${icons.join(', ')})`);
  }
  if (kind === 'markdown') {
    const foreign = elementsFrom(shown)
      .map((e) => e.replace(/^([a-z]+)\s*\/?$/, '$1').trim())
      .filter((e) => !OURS.test(e));
    if (foreign.length > 0) problems.push(`elements ${foreign.join(' | ')}`);
  }
  if (SPOOFING.test(shown)) problems.push('an invisible or reordering character');
  return problems;
}

test('the battery checks catch the payloads when they are shown raw', () => {
  const raw = (name: string) => PAYLOADS.find((p) => p.name === name)?.text ?? '';
  assert.deepEqual(problemsOf('plain', raw('markdown command link')), ['a live link']);
  assert.deepEqual(problemsOf('label', raw('codicon')), ['a drawn icon (zap)']);
  assert.ok(problemsOf('markdown', raw('markdown http link'))[0]?.startsWith('elements a href='));
  assert.ok(problemsOf('markdown', raw('bare url'))[0]?.startsWith('elements a href='), 'marked autolinks a bare URL');
  assert.ok(problemsOf('markdown', raw('img onerror'))[0]?.startsWith('elements img'));
  assert.deepEqual(problemsOf('plain', raw('bidi override')), ['an invisible or reordering character']);
});

test('injection battery: no payload becomes a link, an icon, markup or an invisible character on any surface', () => {
  let tried = 0;
  let live = 0;
  const failures: string[] = [];
  for (const payload of PAYLOADS) {
    for (const surface of SURFACES) {
      tried++;
      const shown = surface.show(payload.text);
      // Our own icons are the literal parts; any other drawn icon came from the payload.
      const problems = problemsOf(surface.kind, shown, ['check', 'error']);
      if (problems.length > 0) {
        live++;
        failures.push(
          `${surface.name} × ${payload.name}: ${problems.join(', ')}\n    ${JSON.stringify(shown.slice(0, 300))}`,
        );
      }
    }
  }
  console.log(
    `injection battery (display): ${PAYLOADS.length} payloads × ${SURFACES.length} surfaces = ${tried} tried; live links or elements from data: ${live}`,
  );
  assert.deepEqual(failures, []);
  assert.ok(PAYLOADS.length >= 25);
});

test('what is shown still says what the data says: visible escapes, cut with an ellipsis, whole in the log', () => {
  assert.equal(asPlain(say`${'\u202Egnp.exe'}`), '\\u202Egnp.exe');
  assert.equal(asPlain(say`${'a\nb'}`), 'a\\nb');
  assert.equal(asPlain(say`${snippet('a\n\n b  c')}`), 'a b c');
  assert.equal(asLabel(say`${'$(zap) x'}`), '\\$(zap) x', 'VS Code draws \\$(zap) as the text $(zap)');
  assert.equal(asPlain(say`${'[spam](command:x)'}`), '[spam] (command:x)');
  assert.equal(asMarkdown(say`**${'a_b'}**`), '**a\\_b**');
  const long5000 = 'x'.repeat(5000);
  assert.equal([...asPlain(say`${long5000}`)].length, 120);
  assert.ok(asPlain(say`${long5000}`).endsWith('…'));
  assert.equal(asLog(say`${long5000}`).length, 5000);
  assert.equal(asLog(say`${'a\nb'}`), 'a\\nb', 'a newline in data cannot fake a log line');
  assert.equal(visible('tab\tand\nline', { keepLineBreaks: true }), 'tab\tand\nline');
  assert.equal(visible('\u{E0041}'), '\\u{E0041}', 'tag characters hide text');
  assert.equal(visible('👨‍👩‍👧 ❤️ نص‌عربي'), '👨‍👩‍👧 ❤️ نص‌عربي', 'joiners and variation selectors in real text stay');
});
