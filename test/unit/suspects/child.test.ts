/**
 * The likely-mislabeled-rows request of the trainer child protocol (task 'suspects'), with the real child
 * (src/trainer/main.ts) through suspectsInChild, as the extension runs it: progress per fold, the folds' training
 * events, one report, and the temporary fold runs gone; bad input is a SuspectsFailed with the user's message;
 * cancelling rejects at once with SuspectsCancelled.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SuspectsCancelled } from '../../../src/core/finetune/suspects-report';
import { suspectsInChild, SuspectsFailed } from '../../../src/trainer/client';
import type { SuspectsProgressEvent, TrainerEvent } from '../../../src/trainer/protocol';
import { tempDir, writeSentimentCsv } from '../runner/fixtures';

function privateTmp(dir: string): { tmp: string; env: NodeJS.ProcessEnv } {
  const tmp = path.join(dir, 'tmp');
  fs.mkdirSync(tmp);
  return { tmp, env: { ...process.env, TMPDIR: tmp, TMP: tmp, TEMP: tmp } };
}

test('suspectsInChild: the real child reports each fold, sends its training events, answers once and cleans up', async () => {
  const dir = tempDir('suspects-child');
  const data = writeSentimentCsv(dir);
  const { tmp, env } = privateTmp(dir);
  const progress: SuspectsProgressEvent[] = [];
  const events: TrainerEvent[] = [];
  const report = await suspectsInChild({
    options: { data, folds: 2, epochs: 1, maxLength: 16 },
    env,
    onProgress: (e) => (e.event === 'suspects-progress' ? progress.push(e) : events.push(e)),
  });
  assert.equal(report.event, 'suspects');
  assert.equal(report.folds, 2);
  assert.equal(report.rows, 48);
  assert.deepEqual(
    progress.map((p) => `${p.fold}/${p.folds} ${p.phase}`),
    ['1/2 train', '1/2 predict', '2/2 train', '2/2 predict'],
  );
  assert.equal(events.filter((e) => e.event === 'done').length, 2);
  assert.ok(events.some((e) => e.event === 'step'));
  for (const s of report.suspects) assert.equal(s.file, data);
  // The fold runs went to a temporary folder, deleted; nothing was written beside the data.
  assert.deepEqual(
    fs.readdirSync(tmp).filter((f) => f.startsWith('bertft-suspects-')),
    [],
  );
  assert.deepEqual(fs.readdirSync(dir).sort(), ['reviews.csv', 'tmp']);
});

test('suspectsInChild: bad input is a SuspectsFailed saying what to fix; cancelling rejects with SuspectsCancelled', async () => {
  const dir = tempDir('suspects-child-bad');
  const { env } = privateTmp(dir);
  const missing = path.join(dir, 'missing.csv');
  await assert.rejects(
    suspectsInChild({ options: { data: missing }, env }),
    (e: unknown) => e instanceof SuspectsFailed && e.message.includes('missing.csv'),
  );
  const data = writeSentimentCsv(dir);
  const abort = new AbortController();
  const pending = suspectsInChild({
    options: { data, folds: 2, epochs: 50, maxLength: 16 },
    env,
    signal: abort.signal,
    onProgress: (e) => {
      if (e.event === 'step') abort.abort();
    },
  });
  await assert.rejects(pending, SuspectsCancelled);
});
