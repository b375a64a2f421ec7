// ESLint flat config: typescript-eslint for every .ts file, eslint-plugin-svelte for the renderer.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import svelteConfig from './renderer/svelte.config.js';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'out/',
      'release/',
      '.tmp/',
      'e2e/screenshots/',
      'bench/results/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // One error model (shared/errors.ts): user values in an error's words are quoted by q(), so every
    // message quotes the same way. Flags JSON.stringify and hand-written "${…}" inside the arguments of
    // failure(), inputError(), rpcError(), new WssError(…) and error-data literals ({ code, action, cause }).
    files: ['**/*.ts', '**/*.svelte'],
    rules: {
      'no-restricted-syntax': ['error', ...errorArgumentRules()],
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['renderer/**/*.{ts,svelte,svelte.ts}'],
    languageOptions: {
      globals: { ...globals.browser },
      parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'], svelteConfig },
    },
  },
  {
    // Design rule 1: only main/app/ may import electron. The engine and the other shells stay runnable without it.
    files: ['main/**/*.ts', 'shared/**/*.ts', 'renderer/**/*.{ts,svelte}'],
    ignores: ['main/app/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'electron',
              message:
                'Only main/app/ may import electron (design rule: the engine never imports electron).',
            },
          ],
        },
      ],
    },
  },
);

function errorArgumentRules() {
  const sites = [
    'CallExpression[callee.name=/^(failure|inputError|rpcError)$/]',
    "NewExpression[callee.name='WssError']",
    "ObjectExpression:has(> Property[key.name='action']):has(> Property[key.name='cause'])",
  ];
  return sites.flatMap((site) => [
    {
      selector: `${site} CallExpression[callee.object.name='JSON'][callee.property.name='stringify']`,
      message:
        'Quote values in error arguments with q() from shared/errors.ts, not JSON.stringify.',
    },
    {
      selector: `${site} TemplateElement[tail=false][value.raw=/"$/]`,
      message: 'Quote values in error arguments with q() from shared/errors.ts, not "${…}".',
    },
  ]);
}
