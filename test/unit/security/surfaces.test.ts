/**
 * Keeps new code from bypassing the display helper: outside src/extension/display/ui.ts, no file of the extension
 * calls VS Code's display APIs or sets a displayed property, so everything shown goes through a Message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const EXTENSION = path.join(ROOT, 'src', 'extension');
const DOOR = path.join(EXTENSION, 'display', 'ui.ts');

/** The APIs that render text (links, icons, markdown) and the properties that show it. */
const DISPLAY_APIS: [RegExp, string][] = [
  [/\bshow(Information|Warning|Error)Message\b/, 'a notification'],
  [/\bwindow\s*\.\s*withProgress\b/, 'a progress notification'],
  [/\bshowQuickPick\b|\bcreateQuickPick\b/, 'a quick pick'],
  [/\bshowInputBox\b|\bcreateInputBox\b/, 'an input box'],
  [/\bMarkdownString\s*\(/, 'markdown'],
  [/\bTreeItem\s*\(/, 'a tree item'],
  [/\bwindow\s*\.\s*createWebviewPanel\b/, 'a panel title'],
  [
    /\.(text|tooltip|description|message|title|label|detail|placeholder|placeHolder|prompt|validationMessage|badge)\s*=(?![=>])/,
    'a displayed property',
  ],
];

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? sources(full) : e.name.endsWith('.ts') ? [full] : [];
  });
}

test('only src/extension/display/ui.ts calls VS Code display APIs', () => {
  const found: string[] = [];
  for (const file of sources(EXTENSION)) {
    if (file === DOOR) continue;
    fs.readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (/^\s*(\/\/|\*|\/\*)/.test(line)) return;
        for (const [pattern, what] of DISPLAY_APIS) {
          if (pattern.test(line)) found.push(`${path.relative(ROOT, file)}:${i + 1}: ${what}: ${line.trim()}`);
        }
      });
  }
  assert.deepEqual(found, [], 'show it through src/extension/display/ui.ts (a Message built with say`…`)');
  // The door itself uses them (the scan would find nothing if the patterns were wrong).
  const door = fs.readFileSync(DOOR, 'utf8');
  for (const [pattern, what] of DISPLAY_APIS.slice(0, 7)) assert.match(door, pattern, what);
});
