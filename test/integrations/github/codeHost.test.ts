import { ConflictError, NotFoundError, UnavailableError } from '../../../handlers/errors';
import type { CodeHost } from '../../../handlers/ports';
import { FakeGitHub } from '../../fakes/github';
import { startGitHub, type GitHubRig } from './setup';

/** The CodeHost adapter through the real Octokit against the fake GitHub, which checks every call against GitHub's spec. */

let rig: GitHubRig;
let host: CodeHost;

beforeEach(async () => {
  rig = await startGitHub();
  host = rig.host;
  const { fake } = rig;
  fake.commit('master', {
    message: 'Add the prod stack',
    files: { 'infra/Pulumi.prod.yaml': 'config:\n  web:replicas: "3"\n', 'infra/index.ts': 'export {};\n', 'legacy.txt': 'old\n' },
  });
  fake.createBranch('staging', 'master');
});

afterEach(async () => {
  await rig.fake.close();
  rig.fake.assertNoViolations();
});

/** Two commits on staging that master lacks: one by a GitHub account, one by a bare git identity. */
function seedPromotion(): { first: string; second: string } {
  const first = rig.fake.commit('staging', {
    message: 'Raise web replicas\n\nThe load test wanted four.',
    files: { 'infra/Pulumi.staging.yaml': 'config:\n  web:replicas: "4"\n' },
    author: { login: 'alice' },
  });
  const second = rig.fake.commit('staging', {
    message: 'Drop the legacy file',
    files: { 'infra/index.ts': 'export const version = 2;\n', 'legacy.txt': null },
    author: { name: 'Bob Builder', email: 'bob@example.com' },
  });
  return { first, second };
}

describe('compare', () => {
  it('lists what head carries that base lacks, oldest commit first, with the files it changes', async () => {
    const { first, second } = seedPromotion();
    const comparison = await host.compare('master', 'staging');
    expect(comparison).toEqual({
      status: 'ahead',
      aheadBy: 2,
      commits: [
        { sha: first, message: 'Raise web replicas\n\nThe load test wanted four.', author: 'alice' },
        { sha: second, message: 'Drop the legacy file', author: 'Bob Builder' },
      ],
      files: [
        { filename: 'infra/Pulumi.staging.yaml', status: 'added' },
        { filename: 'infra/index.ts', status: 'modified' },
        { filename: 'legacy.txt', status: 'removed' },
      ],
      htmlUrl: 'https://github.com/acme/infra/compare/master...staging',
    });
  });

  it('counts nothing once the promotion is merged, and ignores what base alone has', async () => {
    seedPromotion();
    const pr = await host.openPullRequest({ base: 'master', head: 'staging', title: 'Promote staging to prod', body: '' });
    rig.fake.mergePullRequest(pr.number, 'carol');
    rig.fake.commit('master', { message: 'Hotfix on master', files: { 'hotfix.txt': 'x\n' } });
    const comparison = await host.compare('master', 'staging');
    expect(comparison.aheadBy).toBe(0);
    expect(comparison.commits).toEqual([]);
    expect(comparison.files).toEqual([]);
  });

  it('names the branches when one does not exist, and the repository when it cannot be seen', async () => {
    await expect(host.compare('master', 'nope')).rejects.toThrow(new NotFoundError('Branch master or nope does not exist in acme/infra.'));
    await expect(rig.hostWith({ repo: 'elsewhere' }).compare('master', 'staging')).rejects.toThrow(
      new NotFoundError("GitHub repository acme/elsewhere not found, or Cockpit's credentials cannot see it."),
    );
  });
});

describe('pull requests', () => {
  it('opens a promotion PR and reports it as GitHub holds it', async () => {
    const { second } = seedPromotion();
    const pr = await host.openPullRequest({ base: 'master', head: 'staging', title: 'Promote staging to prod', body: 'Two commits.\n\nrequest abc123' });
    expect(pr).toEqual({ number: 1, htmlUrl: 'https://github.com/acme/infra/pull/1', title: 'Promote staging to prod', headSha: second });
    expect(rig.fake.pullRequests()).toEqual([
      expect.objectContaining({ number: 1, base: 'master', head: 'staging', state: 'open', body: 'Two commits.\n\nrequest abc123', author: 'cockpit-bot' }),
    ]);
  });

  it('finds the open PR for a base and head, filtering by owner:branch as GitHub requires', async () => {
    seedPromotion();
    expect(await host.findOpenPullRequest('master', 'staging')).toBeUndefined();
    const opened = await host.openPullRequest({ base: 'master', head: 'staging', title: 'Promote', body: '' });
    expect(await host.findOpenPullRequest('master', 'staging')).toEqual(opened);
    expect(await host.findOpenPullRequest('integration', 'staging')).toBeUndefined();
    expect(rig.fake.requestsTo('pulls/list').map((r) => r.query)).toContainEqual({ state: 'open', base: 'master', head: 'acme:staging', per_page: '1' });
  });

  it('does not find a PR once it is merged, and follows new pushes to its head while open', async () => {
    seedPromotion();
    const opened = await host.openPullRequest({ base: 'master', head: 'staging', title: 'Promote', body: '' });
    const pushed = rig.fake.commit('staging', { message: 'One more', files: { 'more.txt': '1\n' } });
    expect((await host.findOpenPullRequest('master', 'staging'))?.headSha).toBe(pushed);
    rig.fake.mergePullRequest(opened.number, 'carol');
    expect(await host.findOpenPullRequest('master', 'staging')).toBeUndefined();
  });

  it('refuses a second PR for the same branches with a conflict', async () => {
    seedPromotion();
    await host.openPullRequest({ base: 'master', head: 'staging', title: 'Promote', body: '' });
    await expect(host.openPullRequest({ base: 'master', head: 'staging', title: 'Again', body: '' })).rejects.toThrow(
      new ConflictError('A pull request from staging into master is already open.'),
    );
    expect(rig.fake.pullRequests()).toHaveLength(1);
  });

  it('says there is nothing to promote when head has no commits base lacks', async () => {
    await expect(host.openPullRequest({ base: 'master', head: 'staging', title: 'Promote', body: '' })).rejects.toThrow(
      new ConflictError('Nothing to promote: staging has no commits that master lacks.'),
    );
  });

  it('names the branches when one does not exist', async () => {
    await expect(host.openPullRequest({ base: 'master', head: 'nope', title: 'Promote', body: '' })).rejects.toThrow(
      new NotFoundError('Branch master or nope does not exist on GitHub.'),
    );
  });

  it('cuts a title and a body that GitHub would refuse as too long, and says the body was cut', async () => {
    seedPromotion();
    const longTitle = `Promote ${'x'.repeat(400)}\nsecond line`;
    const hugeBody = `${'preview line\n'.repeat(8000)}END`;
    const pr = await host.openPullRequest({ base: 'master', head: 'staging', title: longTitle, body: hugeBody });
    const stored = rig.fake.pullRequests()[0];
    expect(pr.title).toHaveLength(256);
    expect(pr.title.endsWith('…')).toBe(true);
    expect(stored?.body?.length).toBeLessThanOrEqual(65536);
    expect(stored?.body).toMatch(/…cut to fit GitHub's 65536-character limit \(\d+ characters left out\)\.$/);
    expect(stored?.body?.startsWith('preview line\n')).toBe(true);
  });

  it('updates the title and body of a PR', async () => {
    seedPromotion();
    const opened = await host.openPullRequest({ base: 'master', head: 'staging', title: 'Promote', body: 'old' });
    const updated = await host.updatePullRequest(opened.number, { title: 'Promote (2 commits)', body: 'new' });
    expect(updated).toEqual({ ...opened, title: 'Promote (2 commits)' });
    expect(rig.fake.pullRequests()[0]).toMatchObject({ title: 'Promote (2 commits)', body: 'new' });
    await expect(host.updatePullRequest(99, { title: 't', body: 'b' })).rejects.toThrow(
      new NotFoundError('Pull request #99 does not exist in acme/infra.'),
    );
  });
});

describe('readFile', () => {
  it('reads a file at a branch, so the same path can differ between branches', async () => {
    rig.fake.commit('staging', { message: 'Bump', files: { 'infra/Pulumi.prod.yaml': 'config:\n  web:replicas: "5" # ✓ ünïcode\n' } });
    expect(await host.readFile('infra/Pulumi.prod.yaml', 'master')).toBe('config:\n  web:replicas: "3"\n');
    expect(await host.readFile('infra/Pulumi.prod.yaml', 'staging')).toBe('config:\n  web:replicas: "5" # ✓ ünïcode\n');
  });

  it('reads at a commit sha as well as a branch', async () => {
    const before = rig.fake.branchTip('staging');
    rig.fake.commit('staging', { message: 'Change', files: { 'infra/index.ts': 'changed\n' } });
    expect(await host.readFile('infra/index.ts', before)).toBe('export {};\n');
  });

  it('tells an empty file from a missing one', async () => {
    rig.fake.commit('staging', { message: 'Empty stack file', files: { 'infra/Pulumi.staging.yaml': '' } });
    expect(await host.readFile('infra/Pulumi.staging.yaml', 'staging')).toBe('');
    expect(await host.readFile('infra/Pulumi.staging.yaml', 'master')).toBeUndefined();
  });

  it('answers undefined for a file that does not exist at that ref', async () => {
    expect(await host.readFile('infra/Pulumi.staging.yaml', 'master')).toBeUndefined();
    expect(rig.lines.filter((l) => l.level === 'warn')).toEqual([]);
  });

  it('fails rather than answering "no file" when the ref or the repository is missing', async () => {
    await expect(host.readFile('infra/index.ts', 'no-such-branch')).rejects.toThrow(new NotFoundError('No branch or commit no-such-branch in acme/infra.'));
    await expect(rig.hostWith({ repo: 'elsewhere' }).readFile('infra/index.ts', 'master')).rejects.toThrow(
      new NotFoundError("GitHub repository acme/elsewhere not found, or Cockpit's credentials cannot see it."),
    );
  });

  it('refuses a directory', async () => {
    await expect(host.readFile('infra', 'master')).rejects.toThrow(new NotFoundError('infra at master in acme/infra is a directory, not a file.'));
  });
});

describe('setCommitStatus', () => {
  it('sets a status GitHub shows on the PR, cutting the description to 140 characters', async () => {
    const { second } = seedPromotion();
    await host.setCommitStatus(second, { state: 'pending', context: 'cockpit/preview', description: 'Previewing prod…', targetUrl: 'https://cockpit.example/p/1' });
    await host.setCommitStatus(second, { state: 'success', context: 'cockpit/preview', description: `2 to update ${'.'.repeat(200)}` });
    const [pending, success] = rig.fake.statuses(second);
    expect(pending).toMatchObject({ state: 'pending', context: 'cockpit/preview', description: 'Previewing prod…', targetUrl: 'https://cockpit.example/p/1', creator: 'cockpit-bot' });
    expect(success).toMatchObject({ state: 'success', targetUrl: null });
    expect(success?.description).toHaveLength(140);
  });

  it('names the commit when GitHub does not know it', async () => {
    const sha = 'f'.repeat(40);
    await expect(host.setCommitStatus(sha, { state: 'error', context: 'cockpit/preview', description: 'x' })).rejects.toThrow(
      new NotFoundError(`Commit ${sha} does not exist in acme/infra.`),
    );
  });
});

describe('upsertComment', () => {
  let pr: number;
  beforeEach(async () => {
    seedPromotion();
    pr = (await host.openPullRequest({ base: 'master', head: 'staging', title: 'Promote', body: '' })).number;
  });

  it('creates the comment once, then edits it in place on every re-run', async () => {
    const created = await host.upsertComment(pr, 'cockpit/preview', 'Preview: 2 to update');
    const edited = await host.upsertComment(pr, 'cockpit/preview', 'Preview: 3 to update');
    expect(created).toEqual({ id: expect.any(Number), htmlUrl: `https://github.com/acme/infra/pull/${pr}#issuecomment-${created.id}`, created: true });
    expect(edited).toEqual({ ...created, created: false });
    expect(rig.fake.comments(pr)).toEqual([expect.objectContaining({ id: created.id, body: '<!-- cockpit/preview -->\nPreview: 3 to update', author: 'cockpit-bot' })]);
  });

  it('skips the edit when the text is unchanged', async () => {
    await host.upsertComment(pr, 'cockpit/preview', 'same');
    await host.upsertComment(pr, 'cockpit/preview', 'same');
    expect(rig.fake.requestsTo('issues/update-comment')).toHaveLength(0);
    expect(rig.fake.comments(pr)).toHaveLength(1);
  });

  it('keeps one comment per marker, and leaves comments that only mention a marker alone', async () => {
    rig.fake.addComment(pr, 'I pasted this: <!-- cockpit/preview -->\nlooks odd', 'dave');
    await host.upsertComment(pr, 'cockpit/preview', 'preview');
    await host.upsertComment(pr, 'cockpit/deploy', 'deploy');
    await host.upsertComment(pr, 'cockpit/preview', 'preview again');
    expect(rig.fake.comments(pr).map((c) => [c.author, c.body])).toEqual([
      ['dave', 'I pasted this: <!-- cockpit/preview -->\nlooks odd'],
      ['cockpit-bot', '<!-- cockpit/preview -->\npreview again'],
      ['cockpit-bot', '<!-- cockpit/deploy -->\ndeploy'],
    ]);
  });

  it('never edits a person’s comment, even one that starts with Cockpit’s marker', async () => {
    rig.fake.addComment(pr, '<!-- cockpit/deploy -->\nall good, merge it', 'mallory');
    await host.upsertComment(pr, 'cockpit/deploy', 'prod deployed');
    expect(rig.fake.comments(pr).map((c) => [c.author, c.body])).toEqual([
      ['mallory', '<!-- cockpit/deploy -->\nall good, merge it'],
      ['cockpit-bot', '<!-- cockpit/deploy -->\nprod deployed'],
    ]);
    expect(rig.fake.requestsTo('users/get-authenticated')).toHaveLength(1);
    await host.upsertComment(pr, 'cockpit/deploy', 'prod deployed again');
    expect(rig.fake.requestsTo('users/get-authenticated')).toHaveLength(1); // asked once
  });

  it('finds its comment past the first page of a busy PR', async () => {
    for (let i = 0; i < 130; i++) rig.fake.addComment(pr, `chatter ${i}`, 'dave');
    const first = await host.upsertComment(pr, 'cockpit/preview', 'v1');
    for (let i = 0; i < 20; i++) rig.fake.addComment(pr, `more ${i}`, 'erin');
    const second = await host.upsertComment(pr, 'cockpit/preview', 'v2');
    expect(second.id).toBe(first.id);
    expect(rig.fake.comments(pr).filter((c) => c.author === 'cockpit-bot')).toHaveLength(1);
    expect(rig.fake.requestsTo('issues/list-comments').some((r) => r.query.page === '2')).toBe(true);
  });

  it('cuts a body GitHub would refuse, keeping the marker so the next run still finds it', async () => {
    const huge = 'resource changed\n'.repeat(5000);
    const first = await host.upsertComment(pr, 'cockpit/preview', huge);
    const [stored] = rig.fake.comments(pr);
    expect(stored?.body.length).toBeLessThanOrEqual(65536);
    expect(stored?.body.startsWith('<!-- cockpit/preview -->\n')).toBe(true);
    expect((await host.upsertComment(pr, 'cockpit/preview', 'small now')).id).toBe(first.id);
  });

  it('refuses a marker that could break out of the HTML comment', async () => {
    await expect(host.upsertComment(pr, 'x --> <script>', 'b')).rejects.toThrow(TypeError);
    await expect(host.upsertComment(pr, '', 'b')).rejects.toThrow(TypeError);
    expect(rig.fake.requestsTo('issues/list-comments')).toHaveLength(0);
  });

  it('names the PR when it does not exist', async () => {
    await expect(host.upsertComment(404, 'cockpit/preview', 'b')).rejects.toThrow(new NotFoundError('Pull request #404 does not exist in acme/infra.'));
  });
});

describe('what the merge rules read: the PR, its reviews, its statuses, what a push was', () => {
  let pr: number;
  beforeEach(() => {
    seedPromotion();
    pr = rig.fake.openPullRequest({ base: 'master', head: 'staging', title: 'Promote', author: 'alice' });
  });

  it('reads a pull request whole', async () => {
    expect(await host.pullRequest(pr)).toEqual({
      number: pr,
      htmlUrl: `https://github.com/acme/infra/pull/${pr}`,
      title: 'Promote',
      headSha: rig.fake.branchTip('staging'),
      state: 'open',
      merged: false,
      draft: false,
      base: 'master',
      head: 'staging',
      author: 'alice',
      fromFork: false,
    });
    await expect(host.pullRequest(999)).rejects.toThrow(new NotFoundError('Pull request #999 does not exist in acme/infra.'));
  });

  it('lists reviews with the commit each was given on', async () => {
    const head = rig.fake.branchTip('staging');
    rig.fake.addReview(pr, 'carol', 'APPROVED', 'a'.repeat(40));
    rig.fake.addReview(pr, 'carol', 'CHANGES_REQUESTED');
    rig.fake.addReview(pr, 'dave', 'COMMENTED');
    const reviews = await host.reviews(pr);
    expect(reviews.map((r) => [r.reviewer, r.state, r.commitSha])).toEqual([
      ['carol', 'APPROVED', 'a'.repeat(40)],
      ['carol', 'CHANGES_REQUESTED', head],
      ['dave', 'COMMENTED', head],
    ]);
    expect(reviews[0]!.submittedAt).toBeInstanceOf(Date);
  });

  it('reads the latest state of one status context on a commit', async () => {
    const head = rig.fake.branchTip('staging');
    expect(await host.commitStatus(head, 'cockpit/restore-drill')).toBeUndefined();
    rig.fake.addStatus(head, 'cockpit/restore-drill', 'pending');
    rig.fake.addStatus(head, 'ci/tests', 'failure');
    rig.fake.addStatus(head, 'cockpit/restore-drill', 'success');
    expect(await host.commitStatus(head, 'cockpit/restore-drill')).toBe('success');
  });

  it('tells a push made by a merged PR from a direct push', async () => {
    const mergeSha = rig.fake.mergePullRequest(pr, 'bob');
    expect(await host.mergedPullRequestsOf(mergeSha)).toEqual([{ number: pr, base: 'master' }]);
    const direct = rig.fake.commit('master', { message: 'Hotfix straight on master' });
    expect(await host.mergedPullRequestsOf(direct)).toEqual([]);
  });
});

describe('failures', () => {
  it('reports rejected credentials as unavailable, without the token anywhere in errors or logs', async () => {
    const badToken = 'ghp_definitelyNotValid0000000000000000000';
    const bad = rig.hostWith({ auth: { kind: 'token', token: badToken } });
    const err = await bad.compare('master', 'staging').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toBe("GitHub rejected Cockpit's credentials while trying to compare master with staging.");
    expect(JSON.stringify(rig.lines)).not.toContain(badToken);
    expect(`${(err as Error).message} ${(err as UnavailableError).hint}`).not.toContain(badToken);
  });

  it('names the permission a fine-grained token lacks, as GitHub reports it', async () => {
    rig.fake.grantToken('ghp_readOnly', { login: 'cockpit-bot', permissions: { metadata: 'read', contents: 'read', pull_requests: 'read' } });
    const readOnly = rig.hostWith({ auth: { kind: 'token', token: 'ghp_readOnly' } });
    const { second } = seedPromotion();
    await expect(readOnly.setCommitStatus(second, { state: 'pending', context: 'cockpit/preview', description: 'x' })).rejects.toThrow(
      new UnavailableError("Cockpit's GitHub access lacks `statuses: write` on acme/infra, needed to set the cockpit/preview status on " + second.slice(0, 7) + '.'),
    );
    const pr = await host.openPullRequest({ base: 'master', head: 'staging', title: 'Promote', body: '' });
    // Reading the comments is allowed; writing one needs either of two permissions, and both are named.
    await expect(readOnly.upsertComment(pr.number, 'cockpit/preview', 'x')).rejects.toThrow(
      new UnavailableError(`Cockpit's GitHub access lacks \`issues: write or pull_requests: write\` on acme/infra, needed to comment on #${pr.number}.`),
    );
  });

  it('falls back to its own permission table when GitHub sends no x-accepted-github-permissions', async () => {
    rig.fake.failNext('pulls/create', { status: 403, body: { message: 'Must have admin rights to Repository.', documentation_url: 'https://docs.github.com/rest' } });
    seedPromotion();
    await expect(host.openPullRequest({ base: 'master', head: 'staging', title: 'Promote', body: '' })).rejects.toThrow(
      /lacks `pull_requests: write` on acme\/infra, needed to open a pull request from staging into master/,
    );
  });

  it('retries a read after a 502 and succeeds', async () => {
    seedPromotion();
    rig.fake.failNext('repos/compare-commits-with-basehead', { status: 502, body: { message: 'Server Error' } });
    expect((await host.compare('master', 'staging')).aheadBy).toBe(2);
    expect(rig.fake.requestsTo('repos/compare-commits-with-basehead').map((r) => r.status)).toEqual([502, 200]);
  });

  it('gives up after the configured retries and says GitHub is failing', async () => {
    rig.fake.failNext('repos/compare-commits-with-basehead', { status: 503, body: { message: 'Unavailable' } }, 10);
    await expect(host.compare('master', 'staging')).rejects.toThrow(
      new UnavailableError('GitHub answered 503 while Cockpit tried to compare master with staging; try again shortly.'),
    );
    expect(rig.fake.requestsTo('repos/compare-commits-with-basehead')).toHaveLength(3);
  });

  it('never retries a create: the PR may exist, and a retry would answer "already exists"', async () => {
    seedPromotion();
    rig.fake.failNext('pulls/create', { status: 502, body: { message: 'Server Error' } });
    await expect(host.openPullRequest({ base: 'master', head: 'staging', title: 'Promote', body: '' })).rejects.toThrow(UnavailableError);
    expect(rig.fake.requestsTo('pulls/create')).toHaveLength(1);
  });

  it('reports an unreachable GitHub as unavailable', async () => {
    const gone = await FakeGitHub.start();
    await gone.close();
    await expect(rig.hostWith({ apiUrl: gone.url }).compare('master', 'staging')).rejects.toThrow(
      /^GitHub is unreachable \(.+\); Cockpit could not compare master with staging\.$/,
    );
  });

  it('abandons a request GitHub does not answer, retries, then reports GitHub unreachable', async () => {
    rig.fake.stallNext('repos/compare-commits-with-basehead', 10);
    const impatient = rig.hostWith({ timing: { requestTimeoutMs: 50 } });
    await expect(impatient.compare('master', 'staging')).rejects.toThrow(/^GitHub is unreachable \(no answer in time\); Cockpit could not compare master with staging\.$/);
    expect(rig.fake.requestsTo('repos/compare-commits-with-basehead')).toHaveLength(3);
  });
});

describe('rate limits', () => {
  it('waits out a primary rate limit once, logs it, and succeeds', async () => {
    rig.fake.rateLimitNext('repos/compare-commits-with-basehead', { kind: 'primary', resetInSeconds: 1 });
    expect((await host.compare('master', 'staging')).aheadBy).toBe(0);
    expect(rig.fake.requestsTo('repos/compare-commits-with-basehead').map((r) => r.status)).toEqual([403, 200]);
    expect(rig.lines).toContainEqual(expect.objectContaining({ level: 'warn', fields: expect.objectContaining({ rateLimit: 'primary', retrying: true }) }));
  });

  it('retries at most once, then says when the quota resets', async () => {
    rig.fake.rateLimitNext('repos/compare-commits-with-basehead', { kind: 'primary', resetInSeconds: 1 }, 5);
    await expect(host.compare('master', 'staging')).rejects.toThrow(/^Cockpit has used up its GitHub API quota; it resets at \d\d:\d\d UTC\.$/);
    expect(rig.fake.requestsTo('repos/compare-commits-with-basehead')).toHaveLength(2);
  });

  it('does not wait for a reset that is too far away', async () => {
    rig.fake.rateLimitNext('repos/compare-commits-with-basehead', { kind: 'primary', resetInSeconds: 3600 });
    await expect(host.compare('master', 'staging')).rejects.toThrow(UnavailableError);
    expect(rig.fake.requestsTo('repos/compare-commits-with-basehead')).toHaveLength(1);
    expect(rig.lines).toContainEqual(expect.objectContaining({ fields: expect.objectContaining({ rateLimit: 'primary', retrying: false }) }));
  });

  it('waits out a secondary rate limit on a write once, without creating twice', async () => {
    seedPromotion();
    rig.fake.rateLimitNext('pulls/create', { kind: 'secondary', retryAfterSeconds: 2 });
    const pr = await host.openPullRequest({ base: 'master', head: 'staging', title: 'Promote', body: '' });
    expect(pr.number).toBe(1);
    expect(rig.fake.requestsTo('pulls/create').map((r) => r.status)).toEqual([403, 201]);
    expect(rig.fake.pullRequests()).toHaveLength(1);
  });

  it('reports a persistent secondary rate limit with its wait', async () => {
    rig.fake.rateLimitNext('repos/compare-commits-with-basehead', { kind: 'secondary', retryAfterSeconds: 30 }, 5);
    await expect(host.compare('master', 'staging')).rejects.toThrow(
      new UnavailableError('GitHub asked Cockpit to slow down (secondary rate limit); try again in 30 s.'),
    );
  });
});
