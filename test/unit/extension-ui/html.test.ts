import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCsp, buildDashboardHtml, createNonce, escapeHtml } from '../../../src/extension/dashboard/html';

test('nonces are fresh, long and base64', () => {
  const a = createNonce();
  const b = createNonce();
  assert.notEqual(a, b);
  assert.match(a, /^[A-Za-z0-9+/]{22}==$/);
});

test('the CSP allows scripts by nonce only and nothing remote', () => {
  const csp = buildCsp('https://x.vscode-cdn.net', 'N0nce');
  const directives = new Map(csp.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1)]));
  assert.deepEqual(directives.get('default-src'), ["'none'"]);
  assert.deepEqual(directives.get('script-src'), ["'nonce-N0nce'"]);
  assert.ok(!csp.includes('unsafe-inline') && !csp.includes('unsafe-eval') && !csp.includes('*'));
});

test('escapeHtml neutralises markup and attribute quotes', () => {
  assert.equal(escapeHtml('<img src=x onerror=alert(1)>'), '&lt;img src=x onerror=alert(1)&gt;');
  assert.equal(escapeHtml(`a"b'c&d`), 'a&quot;b&#39;c&amp;d');
});

test('the shell puts the nonce on the script, escapes the title and loads only the given files', () => {
  const html = buildDashboardHtml({
    cspSource: 'vscode-resource:',
    nonce: 'abc',
    scriptUri: 'vscode-resource:/dist/webview.js',
    styleUri: 'vscode-resource:/dist/webview.css',
    title: '<script>alert(1)</script>',
  });
  assert.match(html, /<script nonce="abc" src="vscode-resource:\/dist\/webview.js"><\/script>/);
  assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  assert.equal(html.match(/<script/g)?.length, 1, 'exactly one script element');
  assert.match(html, /http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;/);
});
