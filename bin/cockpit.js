#!/usr/bin/env node
// `npx cockpit <command>`: runs the built CLI when there is one (the Docker image), else the TypeScript source.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const built = join(__dirname, '..', 'dist', 'bot', 'cli.js');
if (existsSync(built)) {
  require(built);
} else {
  require('tsx/cjs');
  require(join(__dirname, '..', 'bot', 'cli.ts'));
}
