/** The version of this product (the extension and `bertft`), read from our own package.json. */
import * as fs from 'node:fs';
import * as path from 'node:path';

const PACKAGE_NAME = 'bert-finetune';

/**
 * Our package.json is above this file wherever it runs: out/src/core/util/ when compiled, dist/ when bundled (in the
 * repository, the VSIX or the npm package). 'unknown' when none is found.
 */
export function packageVersion(): string {
  for (let dir = __dirname; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === PACKAGE_NAME && pkg.version) return pkg.version;
    } catch {
      // no (readable) package.json here; look further up
    }
  }
  return 'unknown';
}
