// Jest runs CommonJS. ESM-only packages as large as @kubernetes/client-node (about a thousand generated files)
// take minutes through ts-jest; esbuild turns each into CommonJS in milliseconds, with nothing else changed.
const { createHash } = require('node:crypto');
const { transformSync, version } = require('esbuild');

module.exports = {
  process(source, filename) {
    const { code, map } = transformSync(source, { loader: 'js', format: 'cjs', target: 'node20', sourcemap: true, sourcefile: filename });
    return { code, map };
  },
  getCacheKey(source, filename) {
    return createHash('sha256').update(version).update('\0').update(filename).update('\0').update(source).digest('hex');
  },
};
