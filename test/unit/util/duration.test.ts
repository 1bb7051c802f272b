import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration } from '../../../src/core/util/duration';

test('durations read the same in the CLI and the editor: seconds, then minutes (with seconds under ten), then hours and minutes', () => {
  assert.equal(formatDuration(9), '9s');
  assert.equal(formatDuration(45.4), '45s');
  assert.equal(formatDuration(75), '1m 15s');
  assert.equal(formatDuration(300), '5m');
  assert.equal(formatDuration(599), '9m 59s');
  assert.equal(formatDuration(720), '12m');
  assert.equal(formatDuration(749), '12m');
  assert.equal(formatDuration(3725), '1h 02m');
  assert.equal(formatDuration(3900), '1h 05m');
  assert.equal(formatDuration(-3), '0s');
  assert.equal(formatDuration(Infinity), '?');
  assert.equal(formatDuration(Number.NaN), '?');
});
