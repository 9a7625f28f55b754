import { judgeByRole } from '../../handlers/policy';
import type { Actor } from '../../handlers/model/identity';
import { exampleTeam } from '../helpers';

/** Who may run a restore drill, by identity and role (the rest of the act table is test/handlers/policy.test.ts's). */

const team = exampleTeam();
const alice: Actor = { id: 'U0ALICE001', via: 'slack' }; // engineer, sre, approver
const carol: Actor = { id: 'U0CAROL001', via: 'slack' }; // engineer, approver: no sre
const scheduler: Actor = { id: 'scheduler', via: 'scheduler' };

test.each([
  ['a deployer, from Slack', alice, 'integration', true],
  ['a deployer, from the console (claimed): the result is measured by Cockpit, not vouched for', { ...alice, via: 'console', as: 'alice' } as Actor, 'integration', true],
  ['a deployer, from the CLI', { ...alice, via: 'cli', as: 'alice' } as Actor, 'prod', true],
  ['an engineer on prod, whose deployers are sre', carol, 'prod', false],
  ['someone outside the team file', { id: 'U0STRANGER', via: 'slack' } as Actor, 'integration', false],
  ['the scheduler, on a permanent stack (the weekly drill of prod)', scheduler, 'prod', true],
  ['the scheduler, on an ephemeral one (the gate on integration)', scheduler, 'integration', true],
])('drill: %s → %s', (_who, actor, stack, allowed) => {
  expect(judgeByRole(team, actor, 'drill', stack).allowed).toBe(allowed);
});

test('the scheduler still may not deploy, and a refusal names what it may do', () => {
  const verdict = judgeByRole(team, scheduler, 'deploy', 'integration');
  expect(verdict).toMatchObject({ allowed: false, reason: 'The scheduler may only bring stacks up, tear them down and run drills, not deploy.' });
});
