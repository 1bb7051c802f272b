/**
 * Deciding whether two spellings name the same file or folder. The default file systems of Windows (NTFS) and macOS
 * (APFS) ignore case, so there `C:\Data\Train.csv` and `c:\data\train.csv` are one file; Linux's do not. Windows also
 * accepts `/` as a separator. `platform` is injectable so that each platform's answer is tested on any.
 */
import * as path from 'node:path';

/** Whether file names that differ only in case name the same file on `platform`'s default file systems. */
export function ignoresCase(platform: NodeJS.Platform = process.platform): boolean {
  return platform === 'win32' || platform === 'darwin';
}

/** A string that is equal for every spelling of the same absolute path on `platform` (relative paths: from the cwd). */
export function pathKey(file: string, platform: NodeJS.Platform = process.platform): string {
  const resolved = (platform === 'win32' ? path.win32 : path.posix).resolve(file);
  return ignoresCase(platform) ? resolved.toLowerCase() : resolved;
}

export function samePath(a: string, b: string, platform: NodeJS.Platform = process.platform): boolean {
  return pathKey(a, platform) === pathKey(b, platform);
}
