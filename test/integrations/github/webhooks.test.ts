import { createHmac } from 'node:crypto';
import examples from '@octokit/webhooks-examples';
import { parsePullRequestEvent, verifyGitHubSignature } from '../../../bot/integrations/github';

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

describe('parsePullRequestEvent, on GitHub’s real payloads', () => {
  it.each(['opened', 'synchronize', 'reopened'] as const)('reads pull_request.%s as a change to preview', (action) => {
    const payload = example(action);
    const pr = payload.pull_request as { number: number; html_url: string; head: { ref: string; sha: string }; base: { ref: string } };
    expect(parsePullRequestEvent('pull_request', payload)).toEqual({
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
        draft: false,
      },
    });
  });

  it('reads a merge as a deploy of the base branch', () => {
    expect(parsePullRequestEvent('pull_request', mergedExample())).toEqual({
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
    expect(parsePullRequestEvent('pull_request', payload).event).toMatchObject({ kind: 'pull_request.merged', mergedBy: 'Codertocat' });
  });

  it('ignores a PR closed without merging', () => {
    for (const payload of pullRequestExamples.filter((e) => e.action === 'closed')) {
      expect(parsePullRequestEvent('pull_request', payload)).toEqual({ event: undefined, reason: 'pull request #2 was closed without merging', malformed: false });
    }
  });

  it('flags a PR whose head lives in a fork, or in a fork since deleted', () => {
    const fork = example('opened');
    ((fork.pull_request as { head: { repo: { full_name: string } } }).head.repo.full_name = 'mallory/Hello-World');
    expect(parsePullRequestEvent('pull_request', fork).event).toMatchObject({ fromFork: true });
    const deleted = example('synchronize');
    (deleted.pull_request as { head: { repo: unknown } }).head.repo = null;
    expect(parsePullRequestEvent('pull_request', deleted).event).toMatchObject({ fromFork: true });
  });

  it('reads a retarget (edited with a base change) as a change to preview; other edits are skipped', () => {
    // The package has no `edited` example: this is its `opened` payload with GitHub's documented `changes`.
    const retarget = { ...example('opened'), action: 'edited', changes: { base: { ref: { from: 'integration' }, sha: { from: 'a'.repeat(40) } } } };
    expect(parsePullRequestEvent('pull_request', retarget).event).toMatchObject({ kind: 'pull_request.changed', action: 'retargeted' });
    const retitled = { ...example('opened'), action: 'edited', changes: { title: { from: 'Old title' } } };
    expect(parsePullRequestEvent('pull_request', retitled)).toEqual({ event: undefined, reason: 'pull_request edited without a base change', malformed: false });
  });

  it('reads every real pull_request example without throwing, and only the handled actions become events', () => {
    const handled = new Set(['opened', 'synchronize', 'reopened', 'ready_for_review']);
    for (const payload of pullRequestExamples) {
      const parsed = parsePullRequestEvent('pull_request', payload);
      expect(parsed.event !== undefined).toBe(handled.has(String(payload.action)));
      if (!parsed.event) expect(parsed).toMatchObject({ malformed: false });
    }
  });

  it('skips every other event GitHub sends, on its real payloads', () => {
    let seen = 0;
    for (const [name, payloads] of byEvent) {
      if (name === 'pull_request') continue;
      for (const payload of payloads) {
        expect(parsePullRequestEvent(name, payload)).toEqual({ event: undefined, reason: `event "${name}" is not handled`, malformed: false });
        seen++;
      }
    }
    expect(seen).toBeGreaterThan(100);
  });
});

describe('parsePullRequestEvent, on hostile payloads', () => {
  const malformed = (payload: unknown) => {
    const parsed = parsePullRequestEvent('pull_request', payload);
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
    const parsed = parsePullRequestEvent(`push\n${'x'.repeat(500)}<script>`, example('opened'));
    expect(parsed).toMatchObject({ event: undefined, malformed: false });
    expect(parsed.reason).toMatch(/^event "push\?x+" is not handled$/);
    expect(parsed.reason?.length).toBeLessThan(100);
    expect(parsePullRequestEvent(undefined, example('opened'))).toMatchObject({ event: undefined, reason: 'event "" is not handled' });
  });

  it('is not fooled by prototype keys or extra fields', () => {
    const payload = JSON.parse(
      JSON.stringify(example('opened')).replace('{', '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},'),
    ) as Payload;
    expect(parsePullRequestEvent('pull_request', payload).event).toMatchObject({ kind: 'pull_request.changed' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
