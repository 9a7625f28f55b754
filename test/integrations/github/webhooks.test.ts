import { createHmac } from 'node:crypto';
import examples from '@octokit/webhooks-examples';
import { parseGitHubEvent, verifyGitHubSignature } from '../../../bot/integrations/github';

/** Webhook signature checks with real HMACs, and parsing of GitHub's real captured payloads and hostile ones. */

type Payload = Record<string, unknown> & { action?: string; pull_request?: Record<string, unknown> };

const byEvent = new Map(examples.map((e) => [e.name, e.examples as unknown as Payload[]]));
const pullRequestExamples = byEvent.get('pull_request') ?? [];

function example(action: string): Payload {
  const found = pullRequestExamples.find((e) => e.action === action);
  if (!found) throw new Error(`@octokit/webhooks-examples has no pull_request.${action} example`);
  return structuredClone(found);
}

/**
 * The package ships no merged example (both of its `closed` ones are unmerged), so this is its real `closed`
 * payload with the fields GitHub sets on a merge.
 */
function mergedExample(): Payload {
  const payload = example('closed');
  const pr = payload.pull_request as Record<string, unknown>;
  Object.assign(pr, {
    merged: true,
    merged_at: '2019-05-15T15:21:00Z',
    merge_commit_sha: '1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c',
    merged_by: { ...(pr.user as object), login: 'Octocat-merger' },
  });
  return payload;
}

const sign = (secret: string, body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

describe('verifyGitHubSignature', () => {
  const secret = 'It’s a Secret to Everybody';
  const body = JSON.stringify(example('opened'));

  it('accepts GitHub’s HMAC-SHA256 of the exact body, as a string or as raw bytes', async () => {
    expect(await verifyGitHubSignature(secret, body, sign(secret, body))).toBe(true);
    expect(await verifyGitHubSignature(secret, Buffer.from(body), sign(secret, body))).toBe(true);
  });

  it('matches the worked example in GitHub’s webhook documentation', async () => {
    // docs.github.com, "Validating webhook deliveries": secret and payload below, and the signature GitHub shows.
    expect(
      await verifyGitHubSignature(
        "It's a Secret to Everybody",
        'Hello, World!',
        'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
      ),
    ).toBe(true);
  });

  it('refuses a missing, repeated, legacy or malformed header', async () => {
    const good = sign(secret, body);
    expect(await verifyGitHubSignature(secret, body, undefined)).toBe(false);
    expect(await verifyGitHubSignature(secret, body, '')).toBe(false);
    expect(await verifyGitHubSignature(secret, body, [good, good])).toBe(false);
    expect(await verifyGitHubSignature(secret, body, `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`)).toBe(false);
    expect(await verifyGitHubSignature(secret, body, good.slice(0, -1))).toBe(false);
    expect(await verifyGitHubSignature(secret, body, `${good}0`)).toBe(false);
    expect(await verifyGitHubSignature(secret, body, good.toUpperCase())).toBe(false);
    expect(await verifyGitHubSignature(secret, body, `sha256=${'z'.repeat(64)}`)).toBe(false);
  });

  it('refuses a body signed with another secret, or altered after signing', async () => {
    expect(await verifyGitHubSignature(secret, body, sign('another secret', body))).toBe(false);
    const tampered = body.replace('"opened"', '"closed"');
    expect(tampered).not.toBe(body);
    expect(await verifyGitHubSignature(secret, tampered, sign(secret, body))).toBe(false);
    expect(await verifyGitHubSignature(secret, `${body} `, sign(secret, body))).toBe(false);
  });

  it('refuses an empty body and bytes that are not the UTF-8 GitHub signed', async () => {
    expect(await verifyGitHubSignature(secret, '', sign(secret, ''))).toBe(false);
    const bytes = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    const signedOverBytes = `sha256=${createHmac('sha256', secret).update(bytes).digest('hex')}`;
    expect(await verifyGitHubSignature(secret, bytes, signedOverBytes)).toBe(false);
  });

  it('will not run without a secret', async () => {
    await expect(verifyGitHubSignature('', body, sign('x', body))).rejects.toThrow(TypeError);
  });
});

describe('parseGitHubEvent: pull_request, on GitHub’s real payloads', () => {
  it.each(['opened', 'synchronize', 'reopened', 'ready_for_review', 'converted_to_draft'] as const)('reads pull_request.%s as a change to preview', (action) => {
    const payload = example(action);
    const pr = payload.pull_request as { number: number; html_url: string; draft: boolean; updated_at: string; head: { ref: string; sha: string }; base: { ref: string } };
    expect(parseGitHubEvent('pull_request', payload)).toEqual({
      key: `github:Codertocat/Hello-World#${pr.number}:${action}:${pr.base.ref}:${pr.head.sha}:${pr.updated_at}`,
      event: {
        kind: 'pull_request.changed',
        action,
        repository: 'Codertocat/Hello-World',
        number: pr.number,
        base: pr.base.ref,
        head: pr.head.ref,
        headSha: pr.head.sha,
        author: 'Codertocat',
        htmlUrl: pr.html_url,
        fromFork: false,
        draft: pr.draft,
      },
    });
  });

  it('tells a draft from a PR ready for review', () => {
    expect(parseGitHubEvent('pull_request', example('converted_to_draft')).event).toMatchObject({ action: 'converted_to_draft', draft: true });
    expect(parseGitHubEvent('pull_request', example('ready_for_review')).event).toMatchObject({ action: 'ready_for_review', draft: false });
    const openedAsDraft = example('opened');
    (openedAsDraft.pull_request as Record<string, unknown>).draft = true;
    expect(parseGitHubEvent('pull_request', openedAsDraft).event).toMatchObject({ action: 'opened', draft: true });
    // GitHub Enterprise Server before drafts sends no `draft` at all.
    const old = example('opened');
    delete (old.pull_request as Record<string, unknown>).draft;
    expect(parseGitHubEvent('pull_request', old).event).toMatchObject({ draft: false });
  });

  it('reads a merge as a deploy of the base branch', () => {
    expect(parseGitHubEvent('pull_request', mergedExample())).toEqual({
      key: 'github:Codertocat/Hello-World#2:merged:1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c',
      event: {
        kind: 'pull_request.merged',
        repository: 'Codertocat/Hello-World',
        number: 2,
        base: 'master',
        mergeSha: '1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c',
        headSha: 'ec26c3e57ca3a959ca5aad62de7213c562f8c821',
        mergedBy: 'Octocat-merger',
        author: 'Codertocat',
        htmlUrl: 'https://github.com/Codertocat/Hello-World/pull/2',
      },
    });
  });

  it('takes the sender as the merger when GitHub leaves merged_by null', () => {
    const payload = mergedExample();
    (payload.pull_request as Record<string, unknown>).merged_by = null;
    expect(parseGitHubEvent('pull_request', payload).event).toMatchObject({ kind: 'pull_request.merged', mergedBy: 'Codertocat' });
  });

  it('ignores a PR closed without merging', () => {
    for (const payload of pullRequestExamples.filter((e) => e.action === 'closed')) {
      expect(parseGitHubEvent('pull_request', payload)).toEqual({ event: undefined, reason: 'pull request #2 was closed without merging', malformed: false });
    }
  });

  it('flags a PR whose head lives in a fork, or in a fork since deleted', () => {
    const fork = example('opened');
    ((fork.pull_request as { head: { repo: { full_name: string } } }).head.repo.full_name = 'mallory/Hello-World');
    expect(parseGitHubEvent('pull_request', fork).event).toMatchObject({ fromFork: true });
    const deleted = example('synchronize');
    (deleted.pull_request as { head: { repo: unknown } }).head.repo = null;
    expect(parseGitHubEvent('pull_request', deleted).event).toMatchObject({ fromFork: true });
  });

  it('reads a retarget (edited with a base change) as a change to preview; other edits are skipped', () => {
    // The package has no `edited` example: this is its `opened` payload with GitHub's documented `changes`.
    const retarget = { ...example('opened'), action: 'edited', changes: { base: { ref: { from: 'integration' }, sha: { from: 'a'.repeat(40) } } } };
    expect(parseGitHubEvent('pull_request', retarget).event).toMatchObject({ kind: 'pull_request.changed', action: 'retargeted' });
    const retitled = { ...example('opened'), action: 'edited', changes: { title: { from: 'Old title' } } };
    expect(parseGitHubEvent('pull_request', retitled)).toEqual({ event: undefined, reason: 'pull_request edited without a base change', malformed: false });
  });

  it('reads every real pull_request example without throwing, and only the handled actions become events', () => {
    const handled = new Set(['opened', 'synchronize', 'reopened', 'ready_for_review', 'converted_to_draft']);
    for (const payload of pullRequestExamples) {
      const parsed = parseGitHubEvent('pull_request', payload);
      expect(parsed.event !== undefined).toBe(handled.has(String(payload.action)));
      if (!parsed.event) expect(parsed).toMatchObject({ malformed: false });
    }
  });

  it('skips every other event GitHub sends, on its real payloads', () => {
    let seen = 0;
    for (const [name, payloads] of byEvent) {
      if (['pull_request', 'issue_comment', 'push'].includes(name)) continue;
      for (const payload of payloads) {
        expect(parseGitHubEvent(name, payload)).toEqual({ event: undefined, reason: `event "${name}" is not handled`, malformed: false });
        seen++;
      }
    }
    expect(seen).toBeGreaterThan(100);
  });
});

/** GitHub's real `issue_comment.created` payload, made a comment on a pull request as GitHub sends it then. */
function pullRequestComment(body: string | null): Payload {
  const payload = structuredClone(byEvent.get('issue_comment')!.find((e) => e.action === 'created')!);
  const issue = payload.issue as Record<string, unknown>;
  const html = 'https://github.com/Codertocat/Hello-World/pull/1';
  Object.assign(issue, {
    html_url: html,
    pull_request: { url: 'https://api.github.com/repos/Codertocat/Hello-World/pulls/1', html_url: html, diff_url: `${html}.diff`, patch_url: `${html}.patch`, merged_at: null },
  });
  (payload.comment as Record<string, unknown>).body = body;
  return payload;
}

describe('parseGitHubEvent: issue_comment, the `cockpit preview` command', () => {
  it('reads the command on a pull request as a preview request by its commenter', () => {
    expect(parseGitHubEvent('issue_comment', pullRequestComment('cockpit preview'))).toEqual({
      key: 'github:Codertocat/Hello-World#1:comment:492700400',
      event: {
        kind: 'pull_request.preview_requested',
        repository: 'Codertocat/Hello-World',
        number: 1,
        commenter: 'Codertocat',
        commentId: 492700400,
        htmlUrl: 'https://github.com/Codertocat/Hello-World/pull/1',
      },
    });
  });

  it('takes the command in any case and spacing, alone on its line', () => {
    for (const body of ['Cockpit Preview', '  cockpit   preview\r\n', '\ncockpit\tpreview\n']) {
      expect(parseGitHubEvent('issue_comment', pullRequestComment(body)).event).toMatchObject({ kind: 'pull_request.preview_requested' });
    }
  });

  it('skips anything that is not the command alone: a quote, a sentence, an empty or deleted body', () => {
    for (const body of ['> cockpit preview', 'please cockpit preview', 'cockpit preview please', 'cockpit previews', 'cockpit preview\nand more', '', null]) {
      expect(parseGitHubEvent('issue_comment', pullRequestComment(body))).toEqual({ event: undefined, reason: 'comment is not a Cockpit command', malformed: false });
    }
  });

  it('skips the command on an issue, and edited or deleted comments', () => {
    const onIssue = pullRequestComment('cockpit preview');
    delete (onIssue.issue as Record<string, unknown>).pull_request;
    expect(parseGitHubEvent('issue_comment', onIssue)).toMatchObject({ event: undefined, reason: 'comment on an issue, not on a pull request', malformed: false });
    for (const action of ['edited', 'deleted']) {
      expect(parseGitHubEvent('issue_comment', { ...pullRequestComment('cockpit preview'), action })).toMatchObject({ event: undefined, malformed: false });
    }
  });

  it('reads every real issue_comment example (all on issues) as nothing to do', () => {
    for (const payload of byEvent.get('issue_comment') ?? []) expect(parseGitHubEvent('issue_comment', payload)).toMatchObject({ event: undefined, malformed: false });
  });

  it('refuses a command whose comment or pull request breaks GitHub’s shape', () => {
    const badId = pullRequestComment('cockpit preview');
    (badId.comment as Record<string, unknown>).id = '492700400';
    expect(parseGitHubEvent('issue_comment', badId)).toMatchObject({ event: undefined, malformed: true, reason: expect.stringContaining('comment.id') });
    const huge = pullRequestComment(`cockpit preview${' '.repeat(70_000)}`);
    expect(parseGitHubEvent('issue_comment', huge)).toMatchObject({ event: undefined, malformed: true, reason: expect.stringContaining('comment.body') });
  });
});

describe('parseGitHubEvent: push', () => {
  const pushes = (byEvent.get('push') ?? []) as Array<Payload & { ref: string; head_commit: unknown }>;
  const branchPush = () => structuredClone(pushes.find((p) => p.ref === 'refs/heads/master' && p.head_commit)!) as Payload & Record<string, unknown>;

  it('reads a push to a branch, on GitHub’s real payload', () => {
    expect(parseGitHubEvent('push', branchPush())).toEqual({
      key: 'github:Codertocat/Hello-World:push:master:0000000000000000000000000000000000000000..6113728f27ae82c7b1a177c8d03f9e96e0adf246@1557933657',
      event: {
        kind: 'branch.pushed',
        repository: 'Codertocat/Hello-World',
        branch: 'master',
        before: '0000000000000000000000000000000000000000',
        after: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
        pusher: 'Codertocat',
        forced: false,
        headCommitMessage: 'Initial commit',
      },
    });
  });

  it('reads every real push example: branches become events, tags are skipped', () => {
    for (const payload of pushes) {
      const parsed = parseGitHubEvent('push', payload);
      if (payload.ref.startsWith('refs/heads/')) expect(parsed.event).toMatchObject({ kind: 'branch.pushed', branch: 'master' });
      else expect(parsed).toEqual({ event: undefined, reason: 'push to a tag or another ref, not a branch', malformed: false });
    }
  });

  it('tells a force-push, a push without a commit and a deleted branch', () => {
    const forced = { ...branchPush(), forced: true };
    expect(parseGitHubEvent('push', forced).event).toMatchObject({ forced: true });
    const noCommit = { ...branchPush(), head_commit: null };
    expect(parseGitHubEvent('push', noCommit).event).not.toHaveProperty('headCommitMessage');
    const deleted = { ...branchPush(), deleted: true, after: '0'.repeat(40), head_commit: null };
    expect(parseGitHubEvent('push', deleted)).toEqual({ event: undefined, reason: 'branch master was deleted', malformed: false });
  });

  it('cuts a long commit message, and refuses a ref or sha that breaks GitHub’s shape', () => {
    const long = branchPush();
    (long.head_commit as Record<string, unknown>).message = 'm'.repeat(10_000);
    expect(String((parseGitHubEvent('push', long).event as { headCommitMessage: string }).headCommitMessage)).toHaveLength(500);
    expect(parseGitHubEvent('push', { ...branchPush(), after: 'HEAD' })).toMatchObject({ malformed: true, reason: expect.stringContaining('after') });
    expect(parseGitHubEvent('push', { ...branchPush(), ref: 'refs/heads/' })).toMatchObject({ malformed: true, reason: expect.stringContaining('ref') });
    expect(parseGitHubEvent('push', { ...branchPush(), ref: `refs/heads/${'b'.repeat(5000)}` })).toMatchObject({ malformed: true });
  });
});

describe('parseGitHubEvent: de-duplication keys', () => {
  const keyOf = (name: string, payload: unknown) => {
    const parsed = parseGitHubEvent(name, payload);
    if (!parsed.event) throw new Error(`no event: ${parsed.reason}`);
    return parsed.key;
  };

  it('are the same for the same body, whatever else the delivery says', () => {
    expect(keyOf('pull_request', mergedExample())).toBe(keyOf('pull_request', JSON.parse(JSON.stringify(mergedExample()))));
    expect(keyOf('pull_request', example('synchronize'))).toBe(keyOf('pull_request', example('synchronize')));
  });

  it('name a merge by its PR and merge commit: another commit is another merge', () => {
    const other = mergedExample();
    (other.pull_request as Record<string, unknown>).merge_commit_sha = 'a'.repeat(40);
    expect(keyOf('pull_request', other)).not.toBe(keyOf('pull_request', mergedExample()));
  });

  it('tell a head that comes back (force-pushed A, B, then A again) from a repeat', () => {
    const first = example('synchronize');
    const again = example('synchronize');
    (again.pull_request as Record<string, unknown>).updated_at = '2019-05-16T10:00:00Z';
    expect(keyOf('pull_request', again)).not.toBe(keyOf('pull_request', first));
  });

  it('tell apart the actions and the base a PR targets', () => {
    const keys = new Set(['opened', 'reopened', 'ready_for_review'].map((a) => keyOf('pull_request', { ...example('opened'), action: a })));
    expect(keys.size).toBe(3);
    const retargeted = { ...example('opened'), action: 'edited', changes: { base: { ref: { from: 'master' } } } };
    ((retargeted.pull_request as { base: Record<string, unknown> }).base.ref = 'staging');
    expect(keyOf('pull_request', retargeted)).toContain(':retargeted:staging:');
  });

  it('tell one push from the next even when the branch returns to where it was', () => {
    const push = (before: string, after: string, pushedAt: number) => {
      const p = structuredClone((byEvent.get('push') ?? []).find((e) => (e as { ref: string }).ref === 'refs/heads/master')!) as Record<string, unknown>;
      Object.assign(p, { before, after });
      (p.repository as Record<string, unknown>).pushed_at = pushedAt;
      return p;
    };
    const [a, b] = ['a'.repeat(40), 'b'.repeat(40)];
    const keys = [push(a, b, 1), push(b, a, 2), push(a, b, 3)].map((p) => keyOf('push', p));
    expect(new Set(keys).size).toBe(3);
  });

  it('ignore an event name that is an Object property rather than an event', () => {
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      expect(parseGitHubEvent(name, example('opened'))).toMatchObject({ event: undefined, malformed: false });
    }
  });
});

describe('parseGitHubEvent, on hostile payloads', () => {
  const malformed = (payload: unknown) => {
    const parsed = parseGitHubEvent('pull_request', payload);
    expect(parsed.event).toBeUndefined();
    expect(parsed).toMatchObject({ malformed: true });
    return parsed.reason ?? '';
  };

  it('refuses payloads that are not objects', () => {
    for (const payload of [null, undefined, 42, 'opened', [], [example('opened')], true]) malformed(payload);
  });

  it('refuses a missing or mistyped action', () => {
    expect(malformed({ ...example('opened'), action: undefined })).toContain('action');
    expect(malformed({ ...example('opened'), action: 7 })).toContain('action');
    expect(malformed({ ...example('opened'), action: 'o'.repeat(10_000) })).toContain('action');
  });

  it('names the field that is missing or of the wrong type, never its value', () => {
    const cases: Array<[string, (p: Payload) => void]> = [
      ['pull_request', (p) => delete p.pull_request],
      ['pull_request.number', (p) => ((p.pull_request as Record<string, unknown>).number = '2')],
      ['pull_request.number', (p) => ((p.pull_request as Record<string, unknown>).number = -1)],
      ['pull_request.head.sha', (p) => ((p.pull_request as { head: Record<string, unknown> }).head.sha = 'not-a-sha')],
      ['pull_request.base.ref', (p) => ((p.pull_request as { base: Record<string, unknown> }).base.ref = { $gt: '' })],
      ['pull_request.html_url', (p) => ((p.pull_request as Record<string, unknown>).html_url = 'javascript:alert(1)')],
      ['pull_request.user.login', (p) => ((p.pull_request as { user: Record<string, unknown> }).user.login = ['Codertocat'])],
      ['repository', (p) => delete p.repository],
      ['repository.full_name', (p) => ((p.repository as Record<string, unknown>).full_name = '../../etc/passwd')],
      ['sender', (p) => (p.sender = null)],
    ];
    for (const [field, mutate] of cases) {
      const payload = example('opened');
      mutate(payload);
      const reason = malformed(payload);
      expect(reason).toContain(field);
      expect(reason).not.toMatch(/javascript:|etc\/passwd|\$gt|not-a-sha/);
    }
  });

  it('refuses megabyte strings without echoing them', () => {
    const huge = 'A'.repeat(2_000_000);
    for (const mutate of [
      (p: Payload) => ((p.pull_request as { head: Record<string, unknown> }).head.ref = huge),
      (p: Payload) => ((p.pull_request as Record<string, unknown>).html_url = `https://github.com/${huge}`),
      (p: Payload) => ((p.sender as Record<string, unknown>).login = huge),
    ]) {
      const payload = example('synchronize');
      mutate(payload);
      expect(malformed(payload).length).toBeLessThan(500);
    }
  });

  it('refuses a merged PR without the merge commit it must name', () => {
    const payload = mergedExample();
    (payload.pull_request as Record<string, unknown>).merge_commit_sha = null;
    expect(malformed(payload)).toBe('pull request #2 is merged but has no merge_commit_sha');
  });

  it('keeps the reason for an odd event name short and printable', () => {
    const parsed = parseGitHubEvent(`push\n${'x'.repeat(500)}<script>`, example('opened'));
    expect(parsed).toMatchObject({ event: undefined, malformed: false });
    expect(parsed.reason).toMatch(/^event "push\?x+" is not handled$/);
    expect(parsed.reason?.length).toBeLessThan(100);
    expect(parseGitHubEvent(undefined, example('opened'))).toMatchObject({ event: undefined, reason: 'event "" is not handled' });
  });

  it('is not fooled by prototype keys or extra fields', () => {
    const payload = JSON.parse(
      JSON.stringify(example('opened')).replace('{', '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},'),
    ) as Payload;
    expect(parseGitHubEvent('pull_request', payload).event).toMatchObject({ kind: 'pull_request.changed' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
