import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseTeamConfig } from '../../bot/teamConfig';
import type { Team } from '../../handlers/team';

export const ALICE = 'U0ALICE001'; // engineer, sre, approver
export const BOB = 'U0BOB00001'; // engineer, sre
export const CAROL = 'U0CAROL001'; // engineer, approver
export const DAVE = 'U0DAVE0001'; // engineer, on L1 with Carol
export const ERIN = 'U0ERIN0001'; // engineer, in no rotation

/**
 * The example team file with a fourth and fifth person and simpler rotations, read through the real schema:
 * from Monday 16 November 2026 10:00 Paris time, L1 is Carol then Dave week by week, L2 Alice, L3 Bob.
 * On Wednesday 25 November (the tests' clock) Dave holds L1.
 */
export function oncallTeam(extra = ''): Team {
  const example = readFileSync(join(__dirname, '..', '..', 'cockpit.yml'), 'utf8');
  const base = example.slice(0, example.indexOf('\noncall:'));
  const text = `${base.replace(
    'people:\n',
    `people:\n  - slack: ${DAVE}\n    name: Dave\n    roles: [engineer]\n  - slack: ${ERIN}\n    name: Erin\n    roles: [engineer]\n`,
  )}
oncall:
  timezone: Europe/Paris
  rotations:
    L1:
      layers:
        - { members: [${CAROL}, ${DAVE}], start: 2026-11-16 }
    L2:
      layers:
        - { members: [${ALICE}], start: 2026-11-16 }
    L3:
      layers:
        - { members: [${BOB}], start: 2026-11-16 }
${extra}`;
  return parseTeamConfig(text, 'test-team.yml') as Team;
}
