#!/usr/bin/env node
/** The `bertft` executable: see src/cli/main.ts. Training commands restart in a child process (src/cli/training-process.ts). */
import { runCli } from './cli/main';
import { runInTrainingProcess, watchTrainingParent } from './cli/training-process';

const argv = process.argv.slice(2);
watchTrainingParent();
(runInTrainingProcess(argv, process.argv[1]) ?? runCli(argv)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`bertft: internal error: ${String(e)}\n`);
    process.exitCode = 2;
  },
);
