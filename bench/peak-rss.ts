import { readFileSync } from 'node:fs';

/** This process's peak resident set size so far (Linux /proc/self/status VmHWM), in MiB; NaN elsewhere. */
export function peakRssMb(): number {
  try {
    const line = readFileSync('/proc/self/status', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmHWM:'));
    return line ? Number(line.split(/\s+/)[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}
