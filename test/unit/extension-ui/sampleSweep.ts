/**
 * A sweep folder as `bertft sweep` leaves it, for tests: sweep.json and four trials — trial-000 done (accuracy 0.80),
 * trial-001 done (0.95, the best), trial-002 failed, trial-003 not started (no folder yet). trial-001's setting
 * holds link syntax, as a value typed on a command line may.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SweepRecord } from '../../../src/core/sweep/sweep';
import { done, evaluation, failure, started, step, toJsonl } from './sampleRun';

export const HOSTILE_SETTING = '[x](command:workbench.action.quit)';

export function writeSweep(root: string, name = 'sweep-lr'): string {
  const dir = path.join(root, name);
  const settings = [
    { lr: 0.001, truncation: 'head' },
    { lr: 0.002, truncation: HOSTILE_SETTING },
    { lr: 0.005, truncation: 'head' },
    { lr: 0.01, truncation: 'head' },
  ];
  const record: SweepRecord = {
    tool: 'bertft',
    kind: 'sweep',
    created: '2026-12-06T10:00:00.000Z',
    grid: [
      { name: 'lr', values: [0.001, 0.002, 0.005, 0.01] },
      { name: 'truncation', values: ['head', HOSTILE_SETTING] },
    ],
    random: { count: 4, seed: 1 },
    baseArgs: ['train', '--data', 'data.csv', '--model', 'random:tiny'],
    trials: settings.map((s, index) => ({
      index,
      dir: `trial-00${index}`,
      settings: s,
      trainArgs: ['train', '--lr', String(s.lr)],
    })),
  };
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'sweep.json'), JSON.stringify(record));
  const trial = (index: number, events: string): void => {
    fs.mkdirSync(path.join(dir, `trial-00${index}`), { recursive: true });
    fs.writeFileSync(path.join(dir, `trial-00${index}`, 'metrics.jsonl'), events);
  };
  const finished = (index: number, accuracy: number): string =>
    toJsonl([
      started({ time: `2026-12-06T10:0${index}:00.000Z`, run_dir: path.join(dir, `trial-00${index}`) }),
      step(50),
      evaluation(50, accuracy, true),
      done({ best_metric: accuracy, best_step: 50, time: `2026-12-06T10:0${index}:30.000Z` }),
    ]);
  trial(0, finished(0, 0.8));
  trial(1, finished(1, 0.95));
  fs.mkdirSync(path.join(dir, 'trial-001', 'best'));
  trial(2, toJsonl([started({ time: '2026-12-06T10:02:00.000Z' }), failure('Out of memory. Lower the batch size.')]));
  return dir;
}
