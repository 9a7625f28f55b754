#!/usr/bin/env node
// `npm start` (the bot, or the local console without Slack tokens) and `npm run demo`: compiled JavaScript,
// built first when the sources changed.
const { ensureBuilt } = require('./build');

const entries = { main: '../dist/bot/main.js', demo: '../dist/bot/demo/main.js' };
const entry = entries[process.argv[2] ?? 'main'];
if (!entry) {
  process.stderr.write(`cockpit: unknown entry "${process.argv[2]}" (main or demo)\n`);
  process.exit(2);
}
if (!ensureBuilt()) {
  process.stderr.write('cockpit: the TypeScript sources do not compile (above); fix them, or run `npm run typecheck`.\n');
  process.exit(1);
}
require(entry).run();
