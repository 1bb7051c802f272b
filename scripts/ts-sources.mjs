// The TypeScript files under a folder, parsed once per process (scripts/l10n.mjs and ./l10n-dashboard.mjs each read
// the same sources for their own strings).
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const parsed = new Map();

/** Every `.ts` file under `dir` as `{ full, source }` (source: a TypeScript SourceFile with parent links). */
export function typeScriptSources(dir) {
  if (!parsed.has(dir)) {
    const files = fs.readdirSync(dir, { recursive: true }).filter((f) => f.endsWith('.ts'));
    parsed.set(
      dir,
      files.map((file) => {
        const full = path.join(dir, file);
        return { full, source: ts.createSourceFile(full, fs.readFileSync(full, 'utf8'), ts.ScriptTarget.ES2022, true) };
      }),
    );
  }
  return parsed.get(dir);
}
