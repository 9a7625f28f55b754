import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Cockpit's version from its package.json, found from source (bot/) and from the build (dist/bot/) alike. */
export function cockpitVersion(start = __dirname): string {
  for (let dir = start; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'cockpit') return pkg.version ?? 'unknown';
    }
  }
  return 'unknown';
}
