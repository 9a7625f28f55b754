import { INCIDENT_ACTS, judgeIncident, type IncidentAct, type IncidentFacts } from '../../handlers/policy';
import type { Actor, IdentitySource } from '../../handlers/model/identity';
import type { Team } from '../../handlers/team';
import { exampleTeam } from '../helpers';

const alice = 'U0ALICE001'; // engineer, sre, approver
const bob = 'U0BOB00001'; // engineer, sre
const dave = 'U0DAVE0001'; // engineer only
const stranger = 'U0NOBODY01';

const team: Team = { ...exampleTeam(), people: [...exampleTeam().people, { slack: dave, name: 'Dave', roles: ['engineer'] }] };
const actor = (id: string, via: IdentitySource = 'slack'): Actor => ({ id, via, ...(via === 'console' || via === 'cli' ? { as: 'ops' } : {}) });
// Bob commands INC-7; Dave leads its communications.
const incident: IncidentFacts = { ref: 'INC-7', commander: bob, communications: dave, severity: 'SEV2' };

/** The incident rows of the policy table: who may do what to an incident, and from where. */
describe('incident policy', () => {
  test.each<[string, Actor, IncidentAct, Partial<IncidentFacts> | undefined, true | RegExp]>([
    ['anyone of the team declares', actor(dave), 'incident_declare', undefined, true],
    ['a terminal declares an internal one', actor(dave, 'cli'), 'incident_declare', undefined, true],
    ['a terminal may not declare a public one', actor(alice, 'console'), 'incident_declare', { customerFacing: true }, /posts to customers on the status forum need Slack/],
    ['nobody outside the team file', actor(stranger), 'incident_declare', undefined, /not in the team file/],
    ['the scheduler never changes an incident', actor('scheduler', 'scheduler'), 'incident_update', {}, /never changes one/],
    ['the commander moves the state', actor(bob), 'incident_update', { changesState: true, customerFacing: true }, true],
    ['an approver moves the state', actor(alice), 'incident_update', { changesState: true }, true],
    ['communications may not move the state', actor(dave), 'incident_update', { changesState: true }, /commander \(Bob\) or an approver may change its state/],
    ['communications posts customer updates', actor(dave), 'incident_update', { customerFacing: true }, true],
    ['anyone adds an internal note', actor(dave), 'incident_update', {}, true],
    ['a terminal adds an internal state change', actor(bob, 'console'), 'incident_update', { changesState: true }, true],
    ['a terminal never posts to customers', actor(bob, 'console'), 'incident_update', { customerFacing: true }, /need Slack/],
    ['the demo console is vouched for', actor(bob, 'demo'), 'incident_update', { customerFacing: true }, true],
    ['communications publishes', actor(dave), 'incident_publish', { customerFacing: true }, true],
    ['the commander assigns roles', actor(bob), 'incident_assign', { role: 'communications', assignee: alice }, true],
    ['others may not assign', actor(dave), 'incident_assign', { role: 'communications', assignee: alice }, /assign its roles/],
    ['an SRE takes command', actor(alice), 'incident_assign', { role: 'commander', assignee: alice }, true],
    ['an engineer may not take command', actor(dave), 'incident_assign', { role: 'commander', assignee: dave }, /Only an SRE or an approver may take command/],
    ['the commander changes the severity', actor(bob), 'incident_severity', {}, true],
    ['lowering below SEV2 from a terminal lifts a freeze', actor(bob, 'cli'), 'incident_severity', { liftsFreeze: true }, /lifting INC-7's deploy freeze needs Slack/],
    ['the commander resolves', actor(bob), 'incident_resolve', { changesState: true, customerFacing: true, liftsFreeze: true }, true],
    ['communications may not resolve', actor(dave), 'incident_resolve', { changesState: true }, /resolve it/],
    ['a terminal closes (internal, nothing lifted)', actor(bob, 'console'), 'incident_close', { changesState: true }, true],
  ])('%s', (_, who, act, facts, expected) => {
    const verdict = judgeIncident(team, who, act, facts === undefined ? undefined : { ...incident, ...facts });
    if (expected === true) expect(verdict).toEqual({ allowed: true });
    else expect(verdict).toMatchObject({ allowed: false, reason: expect.stringMatching(expected) });
  });

  test('every incident act has a row', () => {
    expect(INCIDENT_ACTS).toEqual(['incident_declare', 'incident_update', 'incident_assign', 'incident_severity', 'incident_publish', 'incident_resolve', 'incident_close']);
  });
});
