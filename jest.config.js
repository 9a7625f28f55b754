/** @type {import('jest').Config} */
// Type-checking is `npm run typecheck`; ts-jest only transpiles here, which keeps the suite fast.
// @octokit/rest 22 and a few of its dependencies ship ESM only, so they are transformed too.
const esmOnly = ['@octokit', 'universal-user-agent', 'before-after-hook', 'json-with-bigint', 'content-type', 'universal-github-app-jwt'];
// So do @kubernetes/client-node 1.x and its ESM dependencies, through esbuild: ts-jest takes minutes on its thousand files.
const esmByEsbuild = ['@kubernetes', 'openid-client', 'oauth4webapi', 'jose', 'jsonpath-plus', 'rfc4648'];
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    [`/node_modules/(${esmByEsbuild.join('|')})/.+\\.js$`]: '<rootDir>/test/esmTransform.cjs',
    '^.+\\.[tj]sx?$': ['ts-jest', { tsconfig: { allowJs: true, module: 'commonjs', esModuleInterop: true, isolatedModules: true } }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${[...esmOnly, ...esmByEsbuild].join('|')})/)`],
  // @octokit/webhooks-methods exports only an `import` condition, which jest's require-based resolver never matches.
  // The composition root loads optional fronts and adapters with `import('./x.js')`, as Node resolves them from
  // the build; from the sources that path is x.ts.
  moduleNameMapper: {
    '^@octokit/webhooks-methods$': '<rootDir>/node_modules/@octokit/webhooks-methods/dist-node/index.js',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testTimeout: 20000,
};
