/** The run the explanation tests explain: the shared tiny run's settings, trained once per test file. */
import * as path from 'node:path';
import { runTrainingSession } from '../../../src/core/finetune/session';
import { TINY_RUN_SETTINGS } from '../../helpers/tiny-run';
import { tempDir, writeSentimentCsv } from '../runner/fixtures';

let trained: Promise<string> | undefined;

/** A random:tiny classifier trained on word-list reviews (labels pos / neg); its run folder. */
export function trainedRun(): Promise<string> {
  trained ??= (async () => {
    const dir = tempDir('explain');
    const out = path.join(dir, 'run');
    await runTrainingSession(
      { ...TINY_RUN_SETTINGS, data: writeSentimentCsv(dir), out },
      { emit: () => {}, shouldStop: () => false },
    );
    return out;
  })();
  return trained;
}
