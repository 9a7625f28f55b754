import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../../handlers/ports';
import type { StackTarget } from '../../../handlers/model/stacks';

export const STAGING: StackTarget = { stack: 'staging', pulumiStack: 'staging', branch: 'staging' };

/** A temp directory removed by `cleanup()`. */
export function tempDir(prefix: string): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), `cockpit-${prefix}-`));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** A local infra directory with a program in `infra/`, as `infraRepo.localDir` points at in development. */
export function localInfraDir(root: string, pulumiYaml = 'name: infra\nruntime: nodejs\n'): string {
  mkdirSync(join(root, 'infra'), { recursive: true });
  writeFileSync(join(root, 'infra', 'Pulumi.yaml'), pulumiYaml);
  return root;
}

export type LogRecord = { level: string; obj: object; msg?: string };

/** A Logger that keeps every record, to assert what reached the log (and what did not). */
export function recordingLogger(records: LogRecord[] = []): Logger & { records: LogRecord[] } {
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      records.push({ level, obj, msg });
    };
  const logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger, records };
  return logger;
}
