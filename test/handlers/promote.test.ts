import { openStore, type Store } from '../../bot/store/connect';
import { InputError, NotAllowedError, NotFoundError } from '../../handlers/errors';
import type { CodeHost } from '../../handlers/ports';
import type { BranchComparison, CommentRef, CommitState, CommitStatus, PullRequestDetails, PullRequestRef, PullRequestReview } from '../../handlers/model/code';
import type { PreviewCode } from '../../handlers/model/infra';
import { Policy } from '../../handlers/policy';
import { MemoryDeployPlans, MemoryIncidentBoard } from '../fakes/memoryStores';
import { diffStackConfig, Promoter } from '../../handlers/promote';
import type { Measurement } from '../../handlers/risk';
import { MemoryDrillHistory } from '../fakes/memoryStores';
import { exampleTeam, manualClock } from '../helpers';

/** A code host in memory: branches with commits and files, and the PRs opened against them. */
class MemoryCodeHost implements CodeHost {
  commits = new Map<string, BranchComparison['commits']>();
  files = new Map<string, string>(); // `${ref}:${path}`
  prs: Array<PullRequestRef & { base: string; head: string; body: string; open: boolean }> = [];

  async compare(base: string, head: string): Promise<BranchComparison> {
    const baseShas = new Set((this.commits.get(base) ?? []).map((c) => c.sha));
    const ahead = (this.commits.get(head) ?? []).filter((c) => !baseShas.has(c.sha));
    const behind = (this.commits.get(base) ?? []).some((c) => !(this.commits.get(head) ?? []).some((h) => h.sha === c.sha));
    const status = ahead.length === 0 ? (behind ? 'behind' : 'identical') : behind ? 'diverged' : 'ahead';
    return { status, aheadBy: ahead.length, commits: ahead, files: [], htmlUrl: `https://github.test/compare/${base}...${head}` };
  }
  async findOpenPullRequest(base: string, head: string) {
    return this.prs.find((p) => p.open && p.base === base && p.head === head);
  }
  async openPullRequest(r: { base: string; head: string; title: string; body: string }) {
    const pr = { ...r, number: this.prs.length + 1, htmlUrl: `https://github.test/pull/${this.prs.length + 1}`, headSha: 'head', open: true };
    this.prs.push(pr);
    return pr;
  }
  async updatePullRequest(number: number, u: { title: string; body: string }) {
    const pr = this.prs.find((p) => p.number === number)!;
    Object.assign(pr, u);
    return pr;
  }
  async readFile(path: string, ref: string) {
    return this.files.get(`${ref}:${path}`);
  }
  async setCommitStatus(_sha: string, _status: CommitStatus) {}
  async upsertComment(): Promise<CommentRef> {
    return { id: 1, htmlUrl: '', created: true };
  }
  async commitStatus(): Promise<CommitState | undefined> {
    return undefined;
  }
  async pullRequest(number: number): Promise<PullRequestDetails> {
    const pr = this.prs.find((p) => p.number === number);
    if (!pr) throw new NotFoundError(`no PR #${number}`);
    return { ...pr, state: pr.open ? 'open' : 'closed', merged: false, draft: false, author: 'alice-gh', fromFork: false };
  }
  async reviews(): Promise<PullRequestReview[]> {
    return [];
  }
  async mergedPullRequestsOf(): Promise<Array<{ number: number; base: string }>> {
    return [];
  }
  async selfLogin(): Promise<string> {
    return 'cockpit-bot';
  }
}

const commit = (sha: string, message: string, author = 'alice') => ({ sha, message, author });

describe('Promoter', () => {
  let store: Store;
  let host: MemoryCodeHost;
  let drills: MemoryDrillHistory;
  let measured: Array<[string, PreviewCode]>;
  let measurement: Measurement;
  let promoter: Promoter;
  const clock = manualClock('2026-11-25T12:00:00Z');
  const alice = { actor: { id: 'U0ALICE001', via: 'slack' as const }, requestId: 'r-promo1' };

  beforeEach(async () => {
    store = await openStore({ kind: 'sqlite', file: ':memory:' }, { clock });
    host = new MemoryCodeHost();
    drills = new MemoryDrillHistory();
    measured = [];
    measurement = {
      preview: { counts: { create: 1, update: 2, replace: 0, delete: 0, same: 30 }, changes: [], steps: 33, durationMs: 9000 },
      risk: { stateful: [], openIncidents: [], frozen: false, level: 'elevated', reasons: ['last good restore 9 days ago'] },
    };
    const team = exampleTeam();
    promoter = new Promoter({
      team,
      policy: new Policy({ team, plans: new MemoryDeployPlans(), incidents: new MemoryIncidentBoard(), audit: store.audit, clock }),
      codeHost: host,
      measure: async (stack, code) => {
        measured.push([stack, code]);
        return measurement;
      },
      drills,
      audit: store.audit,
      clock,
      programDir: 'infra',
    });
    host.commits.set('staging', [commit('a1', 'base')]);
    host.commits.set('integration', [commit('a1', 'base'), commit('b2', 'Raise web replicas to 4\n\nbecause of load'), commit('c3', 'Pin | chart <7>', 'bob')]);
    host.files.set('staging:infra/Pulumi.staging.yaml', 'config:\n  cockpit:ingress:\n    replicas: 2\n  cockpit:dbPassword:\n    secure: AAAA\n  cockpit:old: x\n');
    host.files.set('integration:infra/Pulumi.staging.yaml', 'config:\n  cockpit:ingress:\n    replicas: 4\n  cockpit:dbPassword:\n    secure: BBBB\n  cockpit:new: true\n');
  });
  afterEach(() => store.close());

  test('opens the PR with commits, config keys, the preview, who asked and the ref', async () => {
    const result = await promoter.promote('staging', alice);
    expect(result.kind).toBe('opened');
    if (result.kind === 'nothing') throw new Error('unexpected');
    expect(measured).toEqual([['staging', { kind: 'branch', branch: 'integration' }]]);
    const [pr] = host.prs;
    expect(pr).toMatchObject({ base: 'staging', head: 'integration', title: 'Promote integration → staging: 2 commits' });
    const body = pr!.body;
    expect(body).toContain('**Merging deploys staging.**');
    expect(body).toContain('- b2 Raise web replicas to 4 (alice)');
    expect(body).toContain('- c3 Pin \\| chart \\<7\\> (bob)');
    expect(body).toContain('| `cockpit:ingress.replicas` | changed | `2` | `4` |');
    expect(body).toContain('| `cockpit:dbPassword` | changed | _secret_ | _secret_ |');
    expect(body).not.toMatch(/AAAA|BBBB/);
    expect(body).toContain('| `cockpit:new` | added |  | `true` |');
    expect(body).toContain('| `cockpit:old` | removed | `"x"` |  |');
    expect(body).toContain('**elevated risk** · 1 to create · 2 to update');
    expect(body).toContain('A restore drill must pass on this PR');
    expect(body).toContain('No drill has run on integration yet');
    expect(body).toContain('Requested by Alice (U0ALICE001)');
    expect(body).toContain('ref `r-promo1`');
    const [entry] = await store.audit.query({ action: 'promote' });
    expect(entry).toMatchObject({ requestId: 'r-promo1', target: 'staging', detail: expect.objectContaining({ result: 'opened', pullRequest: 'https://github.test/pull/1' }) });
  });

  test('asked again, it refreshes the open PR instead of opening another', async () => {
    await promoter.promote('staging', alice);
    host.commits.get('integration')!.push(commit('d4', 'One more'));
    const again = await promoter.promote('staging', { ...alice, requestId: 'r-promo2' });
    expect(again.kind).toBe('updated');
    expect(host.prs).toHaveLength(1);
    expect(host.prs[0]!.title).toBe('Promote integration → staging: 3 commits');
    expect(host.prs[0]!.body).toContain('ref `r-promo2`');
  });

  test('nothing to promote says so and opens nothing', async () => {
    host.commits.set('master', [commit('a1', 'base')]);
    host.commits.set('staging', [commit('a1', 'base')]);
    const result = await promoter.promote('prod', alice);
    expect(result).toMatchObject({ kind: 'nothing', source: 'staging', target: 'prod' });
    expect(host.prs).toHaveLength(0);
  });

  test('the first stack has nothing to promote into it; who may promote comes from cockpit.yml', async () => {
    await expect(promoter.promote('dev', alice)).rejects.toBeInstanceOf(InputError);
    await expect(promoter.promote('prod', { actor: { id: 'U0CAROL001', via: 'slack' as const }, requestId: 'r-x' })).rejects.toBeInstanceOf(NotAllowedError);
  });

  test('without a preview the body says how to get one; the last drill is shown when there is one', async () => {
    measurement = { unavailable: 'the Pulumi CLI is not installed' };
    drills.drills.push({ stack: 'integration', requestId: 'r-d', startedAt: new Date('2026-11-25T08:00:00Z'), finishedAt: new Date('2026-11-25T09:00:00Z'), outcome: 'passed', rtoSeconds: 1500, rpoSeconds: 1800 });
    await promoter.promote('staging', alice);
    const body = host.prs[0]!.body;
    expect(body).toContain('Not available: the Pulumi CLI is not installed.');
    expect(body).toContain('`/cockpit deploy staging --preview`');
    expect(body).toContain('Last drill on integration: **passed** 3 h ago, RTO 25 min, RPO 30 min.');
  });
});

describe('diffStackConfig', () => {
  test('absent files and broken YAML are reported, not thrown', () => {
    expect(diffStackConfig(undefined, 'config:\n  a: 1\n')).toEqual([{ key: 'a', change: 'added', secret: false, before: undefined, after: '1' }]);
    expect(diffStackConfig('config: [', 'config:\n  a: 1\n')[0]).toMatchObject({ key: '(file)', change: 'removed' });
    expect(diffStackConfig('config:\n  a: 1\n', 'config:\n  a: 1\n')).toEqual([]);
  });
});
