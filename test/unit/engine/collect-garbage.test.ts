import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';
import { setImmediate as tick, setTimeout as delay } from 'node:timers/promises';
import { collectGarbage } from '../../../src/core/train/collect-garbage';

test('collectGarbage runs a full (major) collection at once', async () => {
  const majors: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (
        (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ===
        constants.NODE_PERFORMANCE_GC_MAJOR
      )
        majors.push(entry.startTime);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  await tick();
  const before = majors.length;
  collectGarbage();
  collectGarbage();
  await delay(100); // gc entries are delivered on a later turn of the event loop
  observer.disconnect();
  assert.ok(majors.length - before >= 2, `${majors.length - before} major collections seen`);
});
