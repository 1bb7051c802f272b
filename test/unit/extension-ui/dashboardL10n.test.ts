/**
 * The dashboard's translations (#18): `t` fills a translated template's placeholders in one pass (a translation may
 * reorder them; a value is never read as one), falls back to the English template, and the page carries the locale's
 * bundle in a data attribute that the webview reads back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseTranslations,
  t,
  tParts,
  translate,
  useTranslations,
  type Translations,
} from '../../../src/extension/protocol/l10n';
import { chartSummary, confusionCellName } from '../../../src/extension/dashboard/accessibility';
import { buildDashboardHtml } from '../../../src/extension/dashboard/html';

const GERMAN: Translations = {
  Stop: 'Anhalten',
  'Open {0} at line {1}': 'Öffne {0} in Zeile {1}',
  'step {0} / {1}': 'Schritt {0} von {1}',
  'true {0}, predicted {1}: {2} examples': '{2} Beispiele: vorhergesagt {1}, tatsächlich {0}',
  'True “{0}”, predicted “{1}”': 'Vorhergesagt „{1}“, tatsächlich „{0}“',
  '{0} chart: {1}': 'Diagramm {0}: {1}',
  '{0} steps': '{0} Schritte',
  '{0} {1} at step {2}': '{0} {1} bei Schritt {2}',
  'Loading the dashboard…': 'Dashboard wird geladen…',
};

/** Runs `body` with `translations` installed, English again afterwards. */
function inLocale(translations: Translations | undefined, body: () => void): void {
  useTranslations(translations);
  try {
    body();
  } finally {
    useTranslations(undefined);
  }
}

test('without translations t fills the English template', () => {
  assert.equal(t('Stop'), 'Stop');
  assert.equal(t('step {0} / {1}', 3, 10), 'step 3 / 10');
  assert.equal(t('{0}{0}', 'a'), 'aa');
});

test('a translation may reorder the values; a missing key is the English template', () => {
  inLocale(GERMAN, () => {
    assert.equal(t('Stop'), 'Anhalten');
    assert.equal(t('step {0} / {1}', 3, 10), 'Schritt 3 von 10');
    assert.equal(t('Open {0} at line {1}', 'a.csv', 7), 'Öffne a.csv in Zeile 7');
    assert.equal(t('Not translated {0}', 'x'), 'Not translated x');
    // Keys are looked up as own entries only.
    assert.equal(t('constructor'), 'constructor');
    assert.equal(t('__proto__'), '__proto__');
  });
});

test('a value is never read as a placeholder, and a placeholder without a value stays as written', () => {
  inLocale(GERMAN, () => {
    assert.equal(t('step {0} / {1}', '{1}', 'x'), 'Schritt {1} von x');
    assert.equal(t('Open {0} at line {1}', '{0}{1}', '$&'), 'Öffne {0}{1} in Zeile $&');
  });
  assert.equal(t('{0} and {1}', 'only'), 'only and {1}');
});

test('tParts keeps the values as they are, in the translation order', () => {
  const a = { node: 'a' };
  const b = { node: 'b' };
  assert.deepEqual(tParts('True “{0}”, predicted “{1}”', a, b), ['True “', a, '”, predicted “', b, '”']);
  inLocale(GERMAN, () =>
    assert.deepEqual(tParts('True “{0}”, predicted “{1}”', a, b), ['Vorhergesagt „', b, '“, tatsächlich „', a, '“']),
  );
});

test('translate uses the translations it is given, not the installed ones', () => {
  assert.equal(translate(GERMAN, 'step {0} / {1}', 1, 2), 'Schritt 1 von 2');
  assert.equal(translate(undefined, 'step {0} / {1}', 1, 2), 'step 1 / 2');
  inLocale(GERMAN, () => assert.equal(translate(undefined, 'Stop'), 'Stop'));
});

test('the page attribute is read as a bundle of strings, or as none', () => {
  assert.equal(parseTranslations(undefined), undefined);
  assert.equal(parseTranslations('not json'), undefined);
  assert.equal(parseTranslations('["Stop"]'), undefined);
  assert.equal(parseTranslations('null'), undefined);
  assert.deepEqual(parseTranslations('{"Stop":"Anhalten","x":{"message":"y"}}'), { Stop: 'Anhalten' });
  const hostile = parseTranslations('{"__proto__":"p","Stop":"Anhalten"}');
  assert.equal(hostile?.Stop, 'Anhalten');
  assert.equal(Object.getPrototypeOf(hostile), Object.prototype, 'a "__proto__" key sets no prototype');
});

test('the accessibility summaries follow the installed translations', () => {
  const chart = {
    title: 'Verlust',
    unit: 'step' as const,
    series: [{ name: 'train loss', format: 'metric' as const }],
  };
  inLocale(GERMAN, () => {
    assert.equal(confusionCellName('ham', 'spam', 3), '3 Beispiele: vorhergesagt spam, tatsächlich ham');
    assert.equal(
      chartSummary(chart, [
        [1, 2],
        [0.5, 0.25],
      ]),
      'Diagramm Verlust: 2 Schritte, train loss 0.250 bei Schritt 2',
    );
  });
  assert.equal(confusionCellName('ham', 'spam', 1), 'true ham, predicted spam: 1 example');
});

test('the page carries the bundle in a data attribute, its language and the translated loading text', () => {
  const options = {
    cspSource: 'vscode-resource:',
    nonce: 'abc',
    scriptUri: 'vscode-resource:/dist/webview.js',
    styleUri: 'vscode-resource:/dist/webview.css',
    title: 'BERT: run',
  };
  const english = buildDashboardHtml(options);
  assert.ok(!english.includes('data-l10n'));
  assert.match(english, /<html lang="en">/);
  assert.ok(english.includes('Loading the dashboard…'));

  // A translation is text: quotes and markup in it stay inside the attribute.
  const translations = { ...GERMAN, Resume: '"><script>alert(1)</script>' };
  const html = buildDashboardHtml({ ...options, translations, lang: 'de' });
  assert.match(html, /<html lang="de">/);
  assert.ok(html.includes('<p class="muted">Dashboard wird geladen…</p>'));
  assert.equal(html.match(/<script/g)?.length, 1, 'exactly one script element');
  const attribute = /data-l10n="([^"]*)"/.exec(html)?.[1];
  assert.ok(attribute !== undefined);
  const unescaped = attribute
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
  assert.deepEqual(parseTranslations(unescaped), translations);
});
