/**
 * Localization (#18): the manifest's user-facing strings are %keys% of package.nls.json, the extension's messages are
 * keyed by their `say` template in l10n/bundle.l10n.json, both up to date with the sources (scripts/l10n.mjs), and a
 * translation may reorder a message's values while data stays inert.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { asMarkdown, asPlain, say, setTranslator, templateOf } from '../../../src/extension/display/text';

const REPO = path.join(__dirname, '..', '..', '..', '..');
const read = (file: string): unknown => JSON.parse(fs.readFileSync(path.join(REPO, file), 'utf8'));

test('package.nls.json and l10n/bundle.l10n.json are up to date with package.json and the say templates', () => {
  const r = spawnSync(process.execPath, [path.join(REPO, 'scripts', 'l10n.mjs'), '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stderr}${r.stdout}`);
});

test('every title, category, description and name the manifest contributes is a %key% of package.nls.json', () => {
  const manifest = read('package.json') as { l10n: string; contributes: unknown };
  const nls = read('package.nls.json') as Record<string, string>;
  assert.equal(manifest.l10n, './l10n');
  const fields = /^(title|category|description|markdownDescription|altText|contents|contextualTitle|name)$/;
  const literal: string[] = [];
  const visit = (node: unknown, trail: string): void => {
    if (Array.isArray(node)) node.forEach((item, i) => visit(item, `${trail}[${i}]`));
    else if (node && typeof node === 'object') {
      for (const [field, value] of Object.entries(node)) {
        const texts = field === 'enumDescriptions' && Array.isArray(value) ? (value as unknown[]) : [value];
        if (!fields.test(field) && field !== 'enumDescriptions') visit(value, `${trail}.${field}`);
        else
          for (const text of texts) {
            const key = typeof text === 'string' ? /^%([^%]+)%$/.exec(text)?.[1] : undefined;
            if (key === undefined || nls[key] === undefined) literal.push(`${trail}.${field}: ${String(text)}`);
          }
      }
    }
  };
  visit(manifest.contributes, 'contributes');
  assert.deepEqual(literal, [], 'run `npm run l10n`');
  assert.equal(nls['commands.bert.fineTune.title'], 'Fine-tune BERT');
});

test('the bundle holds the templates of messages the extension shows and its button titles', () => {
  const bundle = read('l10n/bundle.l10n.json') as Record<string, string>;
  for (const template of ['$(beaker) BERT', '$(check) Text: "{0}", label: "{1}"', '$(sync~spin) BERT: {0}'])
    assert.equal(bundle[template], template);
  // Button titles passed to the display helpers, literal or in an array spread into the call.
  for (const button of ['Open First Problem', 'Use Int8 Model', 'Set Hugging Face Token'])
    assert.equal(bundle[button], button);
  assert.equal(templateOf(say`Training ${'a.csv'} on ${'cpu'}`.parts), 'Training {0} on {1}');
});

test("the bundle holds the dashboard webview's text", () => {
  const bundle = read('l10n/bundle.l10n.json') as Record<string, string>;
  const dashboard = [
    'Stop',
    'Resume',
    'Classify with this model',
    'Open model folder',
    'Confusion matrix (step {0})',
    'Learning rate',
    '{0} chart: no data yet',
    'true {0}, predicted {1}: {2} examples',
    'True “{0}”, predicted “{1}”',
    'Loading the dashboard…',
  ];
  for (const template of dashboard) assert.equal(bundle[template], template);
});

test('a translation reorders the values; data stays inert and is never read as a placeholder', () => {
  const german: Record<string, string> = { 'Training {0} on {1}': 'Auf {1} wird {0} trainiert' };
  setTranslator((template) => german[template] ?? template);
  try {
    assert.equal(asPlain(say`Training ${'reviews.csv'} on ${'cpu'}`), 'Auf cpu wird reviews.csv trainiert');
    // A value that looks like a placeholder or a link stays what it is.
    assert.equal(asPlain(say`Training ${'{1}'} on ${'[x](command:y)'}`), 'Auf [x] (command:y) wird {1} trainiert');
    assert.equal(asMarkdown(say`Training ${'**b**'} on ${'cpu'}`), 'Auf cpu wird \\*\\*b\\*\\* trainiert');
    assert.equal(asPlain(say`Not in the bundle: ${'x'}`), 'Not in the bundle: x');
  } finally {
    setTranslator((template) => template);
  }
});
