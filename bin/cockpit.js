#!/usr/bin/env node
// `npx cockpit <command>`: the one-shot CLI, as compiled JavaScript (built first when the sources changed).
const { ensureBuilt } = require('./build');

if (!ensureBuilt()) {
  process.stderr.write('cockpit: the TypeScript sources do not compile (above); fix them, or run `npm run typecheck`.\n');
  process.exit(1);
}
require('../dist/bot/cli.js').run();
