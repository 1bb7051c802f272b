/** A small trained run (random:tiny on a learnable sentiment CSV) shared by the inference tests. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runTrainingSession } from '../../../src/core/finetune/session';
import { tempDir, writeSentimentCsv } from '../runner/fixtures';
import { TINY_RUN_SETTINGS } from '../../helpers/tiny-run';

export { tempDir };

export interface TrainedRun {
  dir: string;
  run: string;
  data: string;
}

/** Trains once per test process (a few seconds) and returns the run folder. */
let trained: Promise<TrainedRun> | undefined;
export function trainedRun(): Promise<TrainedRun> {
  trained ??= (async () => {
    const dir = tempDir('infer');
    process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    const data = writeSentimentCsv(dir, 96);
    const run = path.join(dir, 'run');
    await runTrainingSession(
      {
        data,
        out: run,
        ...TINY_RUN_SETTINGS,
      },
      { emit: () => {}, shouldStop: () => false },
    );
    if (!fs.existsSync(path.join(run, 'best', 'model.onnx'))) throw new Error('training wrote no best/model.onnx');
    return { dir, run, data };
  })();
  return trained;
}
