/**
 * Temporary folders for tests, removed when the test process exits (each test file runs in its own process), so a
 * test run leaves nothing behind in the system's temp folder. BERTFT_KEEP_TEST_TEMP=1 keeps them for a post-mortem.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const created: string[] = [];

function removeAll(): void {
  if (process.env.BERTFT_KEEP_TEST_TEMP) return;
  for (const dir of created) {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // A folder a test left read-only or a process still writes to: the system's temp cleaning gets it.
    }
  }
}

/** A new empty folder `<tmp>/<prefix>XXXXXX`, removed when this process exits. */
export function tempFolder(prefix: string): string {
  if (created.length === 0) process.once('exit', removeAll);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  created.push(dir);
  return dir;
}
