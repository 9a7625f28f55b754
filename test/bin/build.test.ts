import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * bin/build.js, the launchers' "build once, rebuild when the sources changed", on a tiny project of its own: it
 * runs the real compiler, in a fresh process as `npm start` would.
 */
const builder = join(__dirname, '..', '..', 'bin', 'build.js');

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cockpit-build-'));
  const write = (path: string, text: string) => {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  write('tsconfig.json', JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'commonjs', strict: true, rootDir: '.', outDir: 'dist', skipLibCheck: true, types: [] } }));
  write('tsconfig.build.json', JSON.stringify({ extends: './tsconfig.json', compilerOptions: { incremental: true, tsBuildInfoFile: 'dist/.tsbuildinfo' }, include: ['bot', 'handlers'] }));
  write('bot/main.ts', "export const main = 'v1';\n");
  write('bot/cli.ts', 'export const cli = 1;\n');
  write('bot/demo/main.ts', 'export const demo = 1;\n');
  write('handlers/rule.ts', 'export const rule = (n: number): number => n + 1;\n');
  return dir;
}

/** Runs ensureBuilt on `dir`; what it printed says whether it compiled. */
function ensureBuilt(dir: string): { ok: boolean; compiled: boolean; stderr: string } {
  const run = spawnSync(process.execPath, ['-e', `process.exit(require(${JSON.stringify(builder)}).ensureBuilt(${JSON.stringify(dir)}) ? 0 : 1)`], { encoding: 'utf8', timeout: 120_000 });
  return { ok: run.status === 0, compiled: run.stderr.includes('compiling the TypeScript sources'), stderr: run.stderr };
}

describe('build once, again only when the sources changed', () => {
  let dir: string;
  beforeAll(() => {
    dir = project();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('a fresh checkout compiles; the next start does not', () => {
    expect(ensureBuilt(dir)).toMatchObject({ ok: true, compiled: true });
    expect(readFileSync(join(dir, 'dist', 'bot', 'main.js'), 'utf8')).toContain("'v1'");
    expect(ensureBuilt(dir)).toMatchObject({ ok: true, compiled: false });
  });

  test('a changed source compiles again, and the build holds the change', () => {
    writeFileSync(join(dir, 'bot', 'main.ts'), "export const main = 'v2';\n");
    expect(ensureBuilt(dir)).toMatchObject({ ok: true, compiled: true });
    expect(readFileSync(join(dir, 'dist', 'bot', 'main.js'), 'utf8')).toContain("'v2'");
    expect(ensureBuilt(dir)).toMatchObject({ compiled: false });
  });

  test('a deleted output is written again, though the sources did not change', () => {
    rmSync(join(dir, 'dist', 'bot', 'cli.js'));
    expect(ensureBuilt(dir)).toMatchObject({ ok: true, compiled: true });
    expect(existsSync(join(dir, 'dist', 'bot', 'cli.js'))).toBe(true);
  });

  test('sources that do not compile: refused, and no stale build is taken for a good one', () => {
    writeFileSync(join(dir, 'handlers', 'rule.ts'), "export const rule = (n: number): number => 'not a number';\n");
    const broken = ensureBuilt(dir);
    expect(broken.ok).toBe(false);
    expect(ensureBuilt(dir)).toMatchObject({ ok: false, compiled: true });
    writeFileSync(join(dir, 'handlers', 'rule.ts'), 'export const rule = (n: number): number => n + 2;\n');
    expect(ensureBuilt(dir)).toMatchObject({ ok: true, compiled: true });
  });

  test('without sources (the image ships dist/ alone) nothing is checked', () => {
    const image = mkdtempSync(join(tmpdir(), 'cockpit-image-'));
    try {
      expect(ensureBuilt(image)).toMatchObject({ ok: true, compiled: false });
    } finally {
      rmSync(image, { recursive: true, force: true });
    }
  });
});
