// ESLint (typescript-eslint, type-checked) for every TypeScript file; `npm test` runs it first (scripts/test-all.sh).
// Besides the recommended rules it enforces the layers of ARCHITECTURE.md: src/core never imports vscode or anything
// above it, and inside src/core a folder imports only from lower layers (test/unit/layout/imports.test.ts checks the
// same on the sources, with the import graph).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** The layers inside src/core, lowest first (keep in step with ARCHITECTURE.md and the layout test). */
const CORE_LAYERS = [
  ['errors.ts'],
  ['util'],
  ['net', 'tokenize', 'graph', 'run'],
  ['data', 'model', 'runtime'],
  ['train'],
  ['infer'],
  ['finetune', 'pretrain'],
];

/** An import specifier pattern for `unit` as seen from a file one or two folders deep inside src/core. */
function unitPatterns(unit) {
  const name = unit.replace(/\.ts$/, '');
  return [`../${name}`, `../${name}/*`, `../../${name}`, `../../${name}/*`];
}

/** For each core folder: the folders of its own layer and above, which it must not import. */
const layerRules = CORE_LAYERS.flatMap((layer, rank) =>
  layer
    .filter((unit) => !unit.endsWith('.ts'))
    .map((unit) => ({
      files: [`src/core/${unit}/**/*.ts`],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            paths: [{ name: 'vscode', message: 'src/core runs without VS Code (the CLI, the trainer child).' }],
            patterns: [
              {
                group: ['**/extension/**', '**/trainer/**', '**/cli/**', '**/cli'],
                message: 'src/core never imports the layers above it.',
              },
              {
                group: CORE_LAYERS.slice(rank)
                  .flat()
                  .filter((other) => other !== unit)
                  .flatMap(unitPatterns),
                message: `core/${unit} is in layer ${rank} of ARCHITECTURE.md: import only from lower layers.`,
              },
            ],
          },
        ],
      },
    })),
);

export default tseslint.config(
  {
    ignores: [
      'out/**',
      'dist/**',
      'node_modules/**',
      '.vscode-test/**',
      'test-output/**',
      'media/**',
      'assets/**',
      '**/*.js',
      '**/*.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // `_name` marks a value that is deliberately unused (a destructured-away field, an interface's argument).
      // node:test's test() and suite() return promises the runner awaits itself (typescript-eslint's documented setting).
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'],
              package: 'node:test',
            },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          caughtErrors: 'none',
        },
      ],
    },
  },
  ...layerRules,
);
