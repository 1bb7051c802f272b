/**
 * Preloaded by bench/estimate.ts into `bertft` (NODE_OPTIONS=--require): at exit, each process (the CLI's parent and
 * its training child) appends its pid and peak resident set size (getrusage maxrss, bytes) to $BERTFT_BENCH_PEAK_FILE.
 */
import { appendFileSync } from 'node:fs';

const file = process.env.BERTFT_BENCH_PEAK_FILE;
if (file) {
  process.on('exit', () => {
    appendFileSync(
      file,
      JSON.stringify({ pid: process.pid, peak_bytes: process.resourceUsage().maxRSS * 1024 }) + '\n',
    );
  });
}
