/** @type {import('jest').Config} */
// Type-checking is `npm run typecheck`; ts-jest only transpiles here, which keeps the suite fast.
// @octokit/rest 22 and a few of its dependencies ship ESM only, so they are transformed too.
const esmOnly = ['@octokit', 'universal-user-agent', 'before-after-hook', 'json-with-bigint', 'content-type'];
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.[tj]sx?$': ['ts-jest', { isolatedModules: true, tsconfig: { allowJs: true, module: 'commonjs', esModuleInterop: true } }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
  testTimeout: 20000,
};
