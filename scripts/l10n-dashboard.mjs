// The dashboard webview's text for l10n/bundle.l10n.json (#18; scripts/l10n.mjs writes the bundle: VS Code has one
// per extension). The webview translates through src/extension/protocol/l10n.ts: the templates passed to t(…) and
// tParts(…) (first argument) and translate(translations, …) (second), in webview/ and src/extension/. They must be
// string literals: anything else would be missing from the bundle, so it stops the script with the places named.
import path from 'node:path';
import ts from 'typescript';
import { typeScriptSources } from './ts-sources.mjs';

/** How each translation function takes its template: the argument's index. */
const TEMPLATE_ARGUMENT = new Map([
  ['t', 0],
  ['tParts', 0],
  ['translate', 1],
]);

/** The templates of the TypeScript files under `dirs`; `root` only shortens the paths of an error. */
export function dashboardTemplates(dirs, root) {
  const found = new Set();
  const problems = [];
  for (const dir of dirs) {
    for (const { full, source } of typeScriptSources(dir)) {
      // The definitions themselves pass their parameter on.
      if (full.endsWith(path.join('protocol', 'l10n.ts'))) continue;
      const visit = (node) => {
        const index =
          ts.isCallExpression(node) && ts.isIdentifier(node.expression)
            ? TEMPLATE_ARGUMENT.get(node.expression.text)
            : undefined;
        if (index !== undefined) {
          const argument = node.arguments[index];
          if (argument && (ts.isStringLiteral(argument) || ts.isNoSubstitutionTemplateLiteral(argument))) {
            found.add(argument.text);
          } else {
            const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
            problems.push(`${path.relative(root, full)}:${line + 1}: ${node.getText(source).slice(0, 80)}`);
          }
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
    }
  }
  if (problems.length > 0) {
    throw new Error(
      `l10n: a translated template must be a string literal, or it is not in the bundle:\n${problems.join('\n')}`,
    );
  }
  return [...found].sort();
}
