// Builds Cockpit's JavaScript (dist/) when the TypeScript sources changed since the last build, so every start
// runs compiled code (a fraction of a second) instead of compiling at each start (seconds), and a fresh clone
// still needs nothing more than `npm ci && npm start`.
//
// "Changed" is judged on content: a hash of every source file and the compiler settings, written beside the
// build once it succeeded. An interrupted build leaves the old hash or none, so the next start builds again.
const { spawnSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { join, relative } = require('node:path');

const ROOT = join(__dirname, '..');
const SOURCE_DIRS = ['bot', 'handlers'];
const SETTINGS = ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];
/** What the launchers require; tsc's incremental build would not write them again if they were deleted. */
const ENTRIES = ['dist/bot/main.js', 'dist/bot/cli.js', 'dist/bot/demo/main.js'];

function sourceFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** One hash over the sources' paths and contents and the compiler settings. */
function sourceHash(root) {
  const hash = createHash('sha256');
  const files = [...SOURCE_DIRS.flatMap((d) => sourceFiles(join(root, d))), ...SETTINGS.map((f) => join(root, f)).filter((f) => existsSync(f))].sort();
  for (const file of files) hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
  return hash.digest('hex');
}

/**
 * Makes dist/ match the sources; true when it does. Without sources (the Docker image ships dist/ alone) there
 * is nothing to check. False when the compiler failed (it has printed why).
 */
function ensureBuilt(root = ROOT) {
  if (!SOURCE_DIRS.every((d) => existsSync(join(root, d)))) return true;
  const stamp = join(root, 'dist', '.sources.sha256');
  const wanted = sourceHash(root);
  const complete = ENTRIES.every((e) => existsSync(join(root, e)));
  if (complete && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === wanted) return true;
  process.stderr.write('cockpit: compiling the TypeScript sources (first start, or they changed)…\n');
  rmSync(stamp, { force: true });
  if (!complete) rmSync(join(root, 'dist', '.tsbuildinfo'), { force: true });
  const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
  if (tsc.status !== 0) return false;
  writeFileSync(stamp, `${wanted}\n`);
  return true;
}

module.exports = { ensureBuilt, sourceHash };

if (require.main === module) process.exit(ensureBuilt() ? 0 : 1);
