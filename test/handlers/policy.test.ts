import { openStore, type Store } from '../../bot/store/connect';
import { ConflictError, InputError, NotAllowedError } from '../../handlers/errors';
import { describeActor, judgeByRole, Policy, STACK_ACTS, trustOf, type MergeFacts, type StackAct } from '../../handlers/policy';
import type { PullRequestReview } from '../../handlers/model/code';
import type { DeployPlan } from '../../handlers/model/deploys';
import type { Actor, IdentitySource } from '../../handlers/model/identity';
import type { Team } from '../../handlers/team';
import { MemoryDeployPlans, MemoryIncidentBoard } from '../fakes/memoryStores';
import { exampleTeam, manualClock } from '../helpers';

const ROLES = ['engineer', 'sre', 'approver'] as const;
const SOURCES: IdentitySource[] = ['slack', 'github', 'console', 'cli', 'demo', 'scheduler'];

/** Every subset of the example file's roles as a person of its own: U0ROLES0 (none) … U0ROLES7 (all three). */
function teamOfEveryRoleSet(): Team {
  const team = exampleTeam();
  team.people = [];
  for (let mask = 0; mask < 2 ** ROLES.length; mask++) {
    team.people.push({ slack: `U0ROLES${mask}`, name: `Roles${mask}`, roles: ROLES.filter((_, i) => mask & (2 ** i)) });
  }
  return team;
}

/**
 * The policy's role-and-identity decision, stated independently of the code as the team file and README say it:
 * deployers preview, deploy, cancel and promote; approvers approve, override a freeze and break a lock, and only
 * on a verified identity; stacks that come and go are brought up and torn down by their deployers or the
 * scheduler; a plan's asker, a deployer or an approver may cancel it.
 */
function expected(team: Team, act: StackAct, stack: string, roles: readonly string[], via: IdentitySource, isAsker: boolean): boolean {
  const s = team.stacks[stack]!;
  const comesAndGoes = s.ephemeral || s.availability !== undefined;
  // The scheduler tears down and brings up what comes and goes, and runs the drills nobody asks for.
  if (via === 'scheduler') return ((act === 'up' || act === 'down') && comesAndGoes) || act === 'drill';
  if (roles.length === 0 && !(act === 'cancel_plan' && isAsker)) return false; // ROLES0: in the file, no role
  const deployer = roles.some((r) => s.deployers.includes(r));
  const approver = roles.some((r) => (s.approvers.length > 0 ? s.approvers : ['approver']).includes(r));
  const verified = via === 'slack' || via === 'github' || via === 'demo';
  switch (act) {
    case 'approve':
    case 'override_freeze':
    case 'break_lock':
      return verified && approver;
    case 'cancel_plan':
      return isAsker || deployer || approver;
    case 'up':
    case 'down':
      return comesAndGoes && deployer;
    case 'extend':
      return s.ephemeral && deployer;
    default:
      return deployer;
  }
}

describe('the policy, by role and identity: every act, stack, role set and identity kind', () => {
  const team = teamOfEveryRoleSet();
  const cases: Array<[StackAct, string, number, IdentitySource, boolean]> = [];
  for (const act of STACK_ACTS) for (const stack of Object.keys(team.stacks)) for (let mask = 0; mask < 8; mask++) for (const via of SOURCES) for (const asker of [false, true]) cases.push([act, stack, mask, via, asker]);

  test(`matches the table in ${cases.length} cases`, () => {
    const wrong: string[] = [];
    for (const [act, stack, mask, via, asker] of cases) {
      const actor: Actor = via === 'scheduler' ? { id: 'scheduler', via } : { id: `U0ROLES${mask}`, via, as: 'someone' };
      const verdict = judgeByRole(team, actor, act, stack, { requestedBy: asker ? actor.id : 'U0SOMEONE1' });
      const want = expected(team, act, stack, team.people[mask]!.roles, via, asker);
      if (verdict.allowed !== want) wrong.push(`${act} ${stack} roles=[${team.people[mask]!.roles}] via=${via} asker=${asker}: got ${verdict.allowed}`);
      if (!verdict.allowed && verdict.reason.trim() === '') wrong.push(`${act} ${stack}: a refusal without a reason`);
    }
    expect(wrong).toEqual([]);
  });

  test('someone the team file does not name may do nothing, whatever vouches for them', () => {
    for (const act of STACK_ACTS) for (const via of SOURCES.filter((v) => v !== 'scheduler')) {
      expect(judgeByRole(team, { id: 'U0NOBODY01', via }, act, 'dev', { requestedBy: 'U0NOBODY01' }).allowed).toBe(false);
    }
  });

  test('an unknown stack is bad input, not a refusal', () => {
    expect(judgeByRole(team, { id: 'U0ROLES7', via: 'slack' }, 'deploy', 'qa')).toMatchObject({ allowed: false, code: 'INPUT', reason: 'No stack "qa".' });
  });

  test('trust and the audit form of each identity', () => {
    expect(SOURCES.map(trustOf)).toEqual(['verified', 'verified', 'claimed', 'claimed', 'verified', 'system']);
    expect(describeActor({ id: 'U0ALICE001', via: 'slack' })).toBe('U0ALICE001');
    expect(describeActor({ id: 'U0ALICE001', via: 'console', as: 'root' })).toBe('console:root for U0ALICE001');
    expect(describeActor({ id: 'U0ALICE001', via: 'cli', as: 'deploy' })).toBe('cli:deploy for U0ALICE001');
    expect(describeActor({ id: 'U0CAROL001', via: 'github', as: 'carol-gh' })).toBe('github:carol-gh for U0CAROL001');
    expect(describeActor({ id: 'scheduler', via: 'scheduler' })).toBe('scheduler');
  });
});

describe('Policy, with the store behind it', () => {
  let store: Store;
  let plans: MemoryDeployPlans;
  let incidents: MemoryIncidentBoard;
  let clock: ReturnType<typeof manualClock>;
  let policy: Policy;
  const alice: Actor = { id: 'U0ALICE001', name: 'Alice', via: 'slack' };
  const bob: Actor = { id: 'U0BOB00001', name: 'Bob', via: 'slack' };
  const carol: Actor = { id: 'U0CAROL001', name: 'Carol', via: 'slack' };
  const meta = (actor: Actor) => ({ actor, requestId: `r-${actor.id}` });

  beforeEach(async () => {
    clock = manualClock('2026-11-25T12:00:00Z');
    store = await openStore({ kind: 'sqlite', file: ':memory:' }, { clock });
    plans = new MemoryDeployPlans(clock.now);
    incidents = new MemoryIncidentBoard();
    policy = new Policy({ team: exampleTeam(), plans, incidents, audit: store.audit, clock });
  });
  afterEach(() => store.close());

  const plan = (over: Partial<DeployPlan> = {}): Promise<DeployPlan> =>
    plans.create({
      id: `p-${Math.random().toString(36).slice(2, 8)}`,
      stack: 'prod',
      requestedBy: alice.id,
      createdAt: clock.now(),
      status: 'awaiting_confirmation',
      preview: { counts: { create: 0, update: 1, replace: 0, delete: 0, same: 3 }, changes: [], steps: 4, durationMs: 1, revision: 'aaa' },
      risk: { stateful: [], openIncidents: [], frozen: false, level: 'low', reasons: [] },
      ...over,
    });

  test('every refusal is in the audit log, with the identity it was refused to', async () => {
    await expect(policy.mayPreview('prod', meta({ id: 'U0ALICE001', via: 'console', as: 'mallory' }), 'hotfix')).rejects.toThrow(/you act for Alice on your word alone/);
    const [entry] = await store.audit.query({ action: 'policy.override_freeze' });
    expect(entry).toMatchObject({ actor: 'console:mallory for U0ALICE001', outcome: 'refused', target: 'prod', detail: expect.objectContaining({ via: 'console', reason: expect.stringContaining('need Slack') }) });
  });

  test('the two-person rule: neither the asker nor whoever pressed Deploy approves', async () => {
    const p = await plan({ status: 'awaiting_approval', confirmedBy: bob.id, confirmedAt: clock.now() });
    await expect(policy.mayStart(p, 'approve', meta(alice))).rejects.toThrow('You asked for this deploy, so you cannot approve it: a second person must.');
    await expect(policy.mayStart({ ...p, requestedBy: carol.id, confirmedBy: carol.id }, 'approve', meta(carol))).rejects.toThrow(/You asked for this deploy/);
    await expect(policy.mayStart({ ...p, confirmedBy: carol.id }, 'approve', meta(carol))).rejects.toThrow('You confirmed this deploy, so you cannot approve it: a second person must.');
    await expect(policy.mayStart(p, 'approve', meta(carol))).resolves.toBeUndefined();
  });

  test('the approval window runs from the confirmation, not from the preview', async () => {
    const p = await plan();
    clock.advance(25 * 60_000);
    const confirmed = { ...p, status: 'awaiting_approval' as const, confirmedBy: bob.id, confirmedAt: clock.now() };
    clock.advance(25 * 60_000); // 50 minutes after the preview, 25 after the confirmation
    await expect(policy.mayStart(confirmed, 'approve', meta(carol))).resolves.toBeUndefined();
    clock.advance(6 * 60_000);
    await plans.transition(p.id, ['awaiting_confirmation'], 'awaiting_approval');
    await expect(policy.mayStart({ ...confirmed, status: 'awaiting_approval' }, 'approve', meta(carol))).rejects.toThrow(/waited 31 minutes for an approver, longer than 30/);
    expect((await plans.get(p.id))?.status).toBe('expired');
  });

  test('a plan the stack moved past is stale: a deploy that finished after its preview, or a tear-down', async () => {
    const older = await plan({ stack: 'staging' });
    clock.advance(1000);
    const newer = await plan({ stack: 'staging', id: 'p-newer', preview: { ...older.preview, revision: 'bbb' } });
    await plans.transition(newer.id, ['awaiting_confirmation'], 'running');
    clock.advance(1000);
    await plans.transition(newer.id, ['running'], 'succeeded', { result: { outcome: 'succeeded', durationMs: 1, counts: { create: 0, update: 1, replace: 0, delete: 0, same: 0 }, outputs: {}, logTail: [] } });
    const err = await policy.mayStart(older, 'deploy', meta(bob)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as ConflictError).message).toBe('staging changed since this preview: Alice deployed it (succeeded) with ref p-newer at bbb.');
    expect((err as ConflictError).hint).toBe('Preview again: /cockpit deploy staging');

    const dev = await plan({ stack: 'dev' });
    clock.advance(1000);
    await store.audit.record({ requestId: 'r-ttl', actor: 'scheduler', action: 'environment.expire', target: 'dev', outcome: 'succeeded' });
    await expect(policy.mayStart(dev, 'deploy', meta(bob))).rejects.toThrow(/dev changed since this preview: expire succeeded at 12:00 UTC, ref r-ttl/);
  });

  test('a freeze refuses a press unless the plan carries an approver’s override', async () => {
    incidents.add({ severity: 'SEV2', title: 'checkout errors', stacks: ['prod'] });
    const p = await plan({ status: 'awaiting_confirmation' });
    await expect(policy.mayStart(p, 'deploy', meta(alice))).rejects.toThrow(/prod is frozen: INC-1 SEV2 "checkout errors" is open/);
    await expect(policy.mayStart({ ...p, freezeOverride: { by: carol.id, reason: 'the fix' } }, 'deploy', meta(alice))).resolves.toBeUndefined();
  });

  test('tear-downs: nobody takes a stack down while a SEV1/SEV2 is open on it, not even the scheduler', async () => {
    incidents.add({ severity: 'SEV1', title: 'outage', stacks: ['dev'] });
    await expect(policy.mayChangeEnvironment('down', 'dev', meta(alice))).rejects.toThrow(/dev is frozen by INC-1 SEV1 "outage": it is not torn down/);
    await expect(policy.mayChangeEnvironment('down', 'dev', { actor: { id: 'scheduler', via: 'scheduler' }, requestId: 'r-sweep' })).rejects.toBeInstanceOf(NotAllowedError);
    await expect(policy.mayChangeEnvironment('up', 'dev', meta(alice))).resolves.toBeUndefined();
    await expect(policy.mayChangeEnvironment('up', 'prod', meta(alice))).rejects.toBeInstanceOf(InputError);
  });

  describe('merges', () => {
    const head = 'h'.repeat(40);
    const review = (reviewer: string, state: PullRequestReview['state'], minutesAgo = 1, commitSha = head): PullRequestReview => ({ reviewer, state, commitSha, submittedAt: new Date(clock.now().getTime() - minutesAgo * 60_000) });
    const merge = (over: Partial<MergeFacts> = {}): MergeFacts => ({ stack: 'prod', pullRequest: 9, mergeSha: 'm'.repeat(40), headSha: head, mergedBy: 'bob-gh', author: 'alice-gh', reviews: [], ...over });
    const judge = (over: Partial<MergeFacts> = {}) => policy.judgeMerge(merge(over), { requestId: 'r-merge' });

    test('a merger the team file does not name, or one who may not deploy the stack, deploys nothing', async () => {
      await expect(judge({ mergedBy: 'stranger-gh' })).rejects.toThrow('PR #9 was merged by @stranger-gh, who is not in cockpit.yml (people[].github): prod is not deployed.');
      await expect(judge({ mergedBy: 'carol-gh' })).rejects.toThrow(/PR #9 was merged by Carol, who may not deploy prod: You may not deploy prod: it needs the role sre/);
      const refused = await store.audit.query({ action: 'policy.deploy' });
      expect(refused.map((e) => e.actor)).toEqual(['github:carol-gh for U0CAROL001', 'github:stranger-gh for github:stranger-gh']);
    });

    test('prod with no approving review waits for an approver in Slack', async () => {
      await expect(judge()).resolves.toMatchObject({ kind: 'needs_approval', reason: 'prod needs a second person and nobody approved it on GitHub' });
    });

    test('approvals that do not count: the merger’s, the author’s, an asker’s, an older commit’s, a stranger’s, a non-approver’s', async () => {
      const verdict = await judge({
        mergedBy: 'alice-gh',
        author: 'stranger-gh',
        askedBy: ['U0CAROL001'],
        reviews: [review('alice-gh', 'APPROVED'), review('carol-gh', 'APPROVED'), review('stranger-gh', 'APPROVED'), review('bob-gh', 'APPROVED')],
      });
      expect(verdict).toMatchObject({ kind: 'needs_approval' });
      expect(verdict.kind === 'needs_approval' && verdict.reason).toBe(
        'prod needs a second person and no approving review counts: Alice merged it; Carol wrote or asked for it; @stranger-gh is not in cockpit.yml; Bob is not an approver of prod',
      );
      const old = await judge({ reviews: [review('carol-gh', 'APPROVED', 5, 'o'.repeat(40))] });
      expect(old.kind === 'needs_approval' && old.reason).toMatch(/Carol approved an older commit \(ooooooo\)/);
    });

    test('an approver who neither wrote nor merged it, on the merged head, is the second person; a later change request withdraws it', async () => {
      await expect(judge({ reviews: [review('carol-gh', 'APPROVED')] })).resolves.toMatchObject({ kind: 'deploy', merger: { id: 'U0BOB00001', via: 'github' }, approvedBy: { slack: 'U0CAROL001' } });
      await expect(judge({ reviews: [review('carol-gh', 'APPROVED', 5), review('carol-gh', 'CHANGES_REQUESTED', 2), review('carol-gh', 'COMMENTED', 1)] })).resolves.toMatchObject({ kind: 'needs_approval' });
    });

    test('staging deploys a merge only after a passing restore drill on the PR head', async () => {
      for (const drill of [undefined, 'pending', 'failure', 'error'] as const) {
        await expect(judge({ stack: 'staging', mergedBy: 'carol-gh', ...(drill ? { drill } : {}) })).rejects.toThrow(/staging deploys a merge only after a restore drill passed on the PR: cockpit\/restore-drill on hhhhhhh is not success/);
      }
      await expect(judge({ stack: 'staging', mergedBy: 'carol-gh', drill: 'success' })).resolves.toMatchObject({ kind: 'deploy' });
    });

    test('a freeze refuses the merge deploy and says how an approver deploys through it', async () => {
      incidents.add({ severity: 'SEV1', title: 'outage', stacks: ['dev'] });
      await expect(judge({ stack: 'dev', mergedBy: 'carol-gh' })).rejects.toThrow(/PR #9 merged into dev, but dev is frozen by INC-1 SEV1 "outage": not deployed/);
    });
  });

  test('PRs are previewed on their own only when their author is a team member who may preview the stack', () => {
    expect(policy.autoPreview('staging', 'Carol-GH')).toEqual({ allowed: true });
    expect(policy.autoPreview('prod', 'carol-gh')).toMatchObject({ allowed: false, reason: expect.stringContaining('You may not deploy prod') });
    expect(policy.autoPreview('dev', 'stranger-gh')).toMatchObject({ allowed: false, reason: '@stranger-gh is not in cockpit.yml (people[].github), so the PR is not previewed on its own.' });
  });
});
