// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

// The domain (handlers/) stays vendor-free: every side effect goes through a port in handlers/ports.ts.
const vendorSdks = ['@slack/*', '@octokit/*', '@pulumi/*', '@kubernetes/*', 'pg', 'better-sqlite3', 'kysely', 'discourse2', 'node-cron', 'pino'];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'coverage/', '.cockpit/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-console': 'off',
    },
  },
  {
    files: ['handlers/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: vendorSdks, message: 'handlers/ is the vendor-free domain: define a port in handlers/ports.ts and implement it in bot/integrations/.' }],
      }],
    },
  },
  {
    // The demo's simulated adapters are chosen by `npm run demo` alone: nothing else may reach them, so they can
    // never become a fallback.
    files: ['bot/**/*.ts'],
    ignores: ['bot/demo/**'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['**/demo', '**/demo/*'], message: 'bot/demo/ is reached only through `npm run demo` (bot/demo/main.ts).' }],
      }],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
