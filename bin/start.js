#!/usr/bin/env node
// `npm start` (the bot, or the local console without Slack tokens): compiled JavaScript, built first when the
// sources changed.
const { ensureBuilt } = require('./build');

const entries = { main: '../dist/bot/main.js' };
const entry = entries[process.argv[2] ?? 'main'];
if (!entry) {
  process.stderr.write(`cockpit: unknown entry "${process.argv[2]}" (main)\n`);
  process.exit(2);
}
if (!ensureBuilt()) {
  process.stderr.write('cockpit: the TypeScript sources do not compile (above); fix them, or run `npm run typecheck`.\n');
  process.exit(1);
}
require(entry).run();
