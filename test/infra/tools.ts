import { execFile, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';

/**
 * Debian's Prometheus tools, run on what the program renders: `promtool` (rules, rule unit tests) and `amtool`
 * (Alertmanager config and routes). `.ci/run` installs them; elsewhere the suites that need them skip with one
 * line saying what to install, and under CI a missing tool fails instead, so a green run never hides a check
 * that did not happen.
 */

export type ToolName = 'promtool' | 'amtool';

/** The Debian package that ships each tool. */
const PACKAGES: Record<ToolName, string> = { promtool: 'prometheus', amtool: 'prometheus-alertmanager' };

export type Tools = Record<ToolName, string>;

/** The executable's path: the first on PATH, then /usr/bin (where Debian puts them, even when PATH is bare). */
export function findTool(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dirs = [...(env.PATH ?? '').split(path.delimiter).filter((d) => d !== ''), '/usr/bin'];
  for (const dir of dirs) {
    const file = path.join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // Not here; try the next directory.
    }
  }
  return undefined;
}

/**
 * describe() for suites that run the real tools. When one is missing: under CI (CI=true) one failing test, since
 * there it means `.ci/run` lost its install step; elsewhere one console line naming the packages and one skipped test.
 */
export function describeWithTools(title: string, body: (tools: Tools) => void, env: NodeJS.ProcessEnv = process.env): void {
  const found = Object.fromEntries((Object.keys(PACKAGES) as ToolName[]).map((t) => [t, findTool(t, env)]));
  const missing = (Object.keys(PACKAGES) as ToolName[]).filter((t) => found[t] === undefined);
  if (missing.length === 0) {
    describe(title, () => body(found as Tools));
    return;
  }
  const packages = [...new Set(missing.map((t) => PACKAGES[t]))].join(' ');
  const reason = `${missing.join(' and ')} not found; install Debian's ${packages} (apt-get install --no-install-recommends ${packages})`;
  if (env.CI === 'true') {
    describe(title, () => {
      it('runs under CI', () => {
        throw new Error(`the real-tool checks cannot run: ${reason}`);
      });
    });
    return;
  }
  console.warn(`infra tools suite SKIPPED: ${reason}`);
  describe(title, () => {
    it.skip(`SKIPPED: ${reason}`, () => undefined);
  });
}

export type ToolRun = { status: number | null; output: string };

const toolEnv = (home: string) => ({ PATH: '/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8', TZ: 'UTC' });

/**
 * Runs a tool with an allowlisted environment: no secrets of the caller's, and a HOME of its own so amtool reads
 * no personal ~/.config/amtool. Synchronous on purpose: these are short, and the suite runs them one at a time.
 */
export function runTool(executable: string, args: string[], opts: { cwd: string; timeoutMs?: number }): ToolRun {
  const result = spawnSync(executable, args, {
    cwd: opts.cwd,
    env: toolEnv(opts.cwd),
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 60_000,
  });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

/** runTool without blocking, so several runs can share the machine's cores. */
export function runToolAsync(executable: string, args: string[], opts: { cwd: string; timeoutMs?: number }): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    execFile(
      executable,
      args,
      { cwd: opts.cwd, env: toolEnv(opts.cwd), encoding: 'utf8', timeout: opts.timeoutMs ?? 60_000 },
      (error, stdout, stderr) => {
        const status = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        if (status === null) reject(error);
        else resolve({ status, output: `${stdout}${stderr}`.trim() });
      },
    );
  });
}

/** Fails with the tool's own words when it exited non-zero. */
export function passed(executable: string, args: string[], run: ToolRun): string {
  if (run.status !== 0) {
    throw new Error(`${path.basename(executable)} ${args.join(' ')} exited ${run.status}:\n${run.output}`);
  }
  return run.output;
}

/** Runs a tool and fails with its own words when it exits non-zero. */
export function mustPass(executable: string, args: string[], opts: { cwd: string; timeoutMs?: number }): string {
  return passed(executable, args, runTool(executable, args, opts));
}

/** A scratch directory for the files a tool reads; remove() deletes it with everything in it. */
export function scratchDir(prefix: string): { dir: string; write(name: string, doc: unknown): string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), `cockpit-${prefix}-`));
  return {
    dir,
    write(name, doc) {
      const file = path.join(dir, name);
      writeFileSync(file, typeof doc === 'string' ? doc : stringify(doc, { lineWidth: 0 }));
      return file;
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
