import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDashboardWebviewState, parseWebviewMessage } from '../../../src/extension/protocol/messages';

test('known messages pass, with only their own fields', () => {
  assert.deepEqual(parseWebviewMessage({ type: 'ready', extra: 1 }), { type: 'ready' });
  assert.deepEqual(parseWebviewMessage({ type: 'stop' }), { type: 'stop' });
  assert.deepEqual(parseWebviewMessage({ type: 'openExample', file: '/ws/a.csv', line: 3, x: 'y' }), {
    type: 'openExample',
    file: '/ws/a.csv',
    line: 3,
  });
});

test('malformed messages are refused', () => {
  for (const bad of [
    null,
    'ready',
    42,
    {},
    { type: 'rm -rf' },
    { type: 'openExample', file: '', line: 1 },
    { type: 'openExample', file: 'a', line: 0 },
    { type: 'openExample', file: 'a', line: 1.5 },
    { type: 'openExample', file: 3, line: 1 },
  ]) {
    assert.equal(parseWebviewMessage(bad), undefined, JSON.stringify(bad));
  }
});

test('persisted webview state needs a run folder', () => {
  assert.ok(isDashboardWebviewState({ runDir: '/r' }));
  assert.ok(!isDashboardWebviewState({}));
  assert.ok(!isDashboardWebviewState(undefined));
});
