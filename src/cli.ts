#!/usr/bin/env node
/** The `bertft` executable: see src/cli/main.ts. */
import { runCli } from './cli/main';

runCli(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => { process.stderr.write(`bertft: internal error: ${String(e)}\n`); process.exitCode = 2; },
);
