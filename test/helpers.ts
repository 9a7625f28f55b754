import { join } from 'node:path';
import { createLogger, type Logger } from '../bot/log';
import { loadTeamConfig } from '../bot/teamConfig';
import type { Team } from '../handlers/team';

/** The shipped example team file: tests run against what a newcomer runs. */
export function exampleTeam(): Team {
  return loadTeamConfig(join(__dirname, '..', 'cockpit.yml'));
}

/** Cockpit's own logger (same redaction) writing into memory, so tests can assert on what was logged. */
export function memoryLogger(level = 'debug'): { log: Logger; lines: () => Array<Record<string, unknown>>; text: () => string } {
  const chunks: string[] = [];
  const log = createLogger({ level, destination: { write: (chunk: string) => void chunks.push(chunk) } });
  const text = () => chunks.join('');
  return {
    log,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** A clock tests move by hand. */
export function manualClock(iso = '2026-11-25T12:00:00Z') {
  let now = new Date(iso).getTime();
  return {
    now: () => new Date(now),
    advance(ms: number) {
      now += ms;
    },
  };
}
