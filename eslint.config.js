// ESLint for the TypeScript and JavaScript of lib/, test/, benchmarks/ and scripts/: the recommended JavaScript and
// typescript-eslint rules, and @stylistic rules set to the house style: 2-space indent, single quotes, semicolons,
// trailing commas in multi-line lists, comments wrapped at 120 columns. Code lines aim at 120 columns too but may run
// longer where breaking them reads worse; 200 (string literals not counted) is the hard limit.
// `npm run lint` runs it; so does `npm test` (test/package/lint.test.ts).
import js from '@eslint/js';
import stylistic from '@stylistic/eslint-plugin';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['dist/**', 'build/**', 'build-*/**', 'node_modules/**', 'prebuilds/**', 'test/fixtures/**', 'test-artifacts/**', 'data/**', 'examples/**'],
  },
  {
    files: ['lib/**/*.{ts,mts}', 'test/**/*.{ts,mts}', 'benchmarks/**/*.{ts,mts,mjs}', 'scripts/**/*.{mjs,mts,js}', '*.{js,ts}'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    plugins: { '@stylistic': stylistic },
    rules: {
      '@stylistic/indent': ['error', 2, {
        SwitchCase: 1, flatTernaryExpressions: true, offsetTernaryExpressions: true, ignoredNodes: ['TemplateLiteral *'],
      }],
      '@stylistic/quotes': ['error', 'single', { avoidEscape: true, allowTemplateLiterals: 'always' }],
      '@stylistic/semi': ['error', 'always'],
      '@stylistic/comma-dangle': ['error', 'always-multiline'],
      // a row of a Markdown table in a doc comment cannot wrap
      '@stylistic/max-len': ['error', {
        code: 200, comments: 120, ignoreUrls: true, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true,
        ignorePattern: '^\\s*\\* \\|',
      }],
      '@stylistic/eol-last': 'error',
      '@stylistic/no-trailing-spaces': 'error',
      '@stylistic/no-tabs': 'error',
      '@stylistic/linebreak-style': ['error', 'unix'],
      // `_name` marks a value left unused on purpose (a destructured field dropped, a callback's unused argument)
      '@typescript-eslint/no-unused-vars': ['error', {
        argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true,
      }],
    },
  },
);
