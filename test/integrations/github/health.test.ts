import { githubHealth } from '../../../bot/integrations/github';
import { FAKE_GITHUB_TOKEN, FakeGitHub } from '../../fakes/github';
import { FAST } from './setup';

/** GitHub's line in /cockpit status: one cheap read of the repository through the real client, against the fake. */
describe('githubHealth', () => {
  let fake: FakeGitHub;
  beforeAll(async () => {
    fake = await FakeGitHub.start({ owner: 'acme', repo: 'infra' });
  });
  afterEach(() => fake.assertNoViolations());
  afterAll(() => fake.close());

  const probe = (overrides: { token?: string; repo?: string; timeoutMs?: number } = {}) =>
    githubHealth(
      { apiUrl: fake.url, owner: 'acme', repo: overrides.repo ?? 'infra', auth: { kind: 'token', token: overrides.token ?? FAKE_GITHUB_TOKEN } },
      { timing: FAST, timeoutMs: overrides.timeoutMs, cacheMs: 60_000 },
    );

  it('is up when the credentials read the repository, and reuses its answer', async () => {
    const github = probe();
    const before = fake.requestsTo('repos/get').length;
    expect(await github.check()).toEqual({ up: true, detail: expect.stringMatching(/^acme\/infra readable/) });
    await github.check();
    expect(fake.requestsTo('repos/get').length - before).toBe(1);
  });

  it('is down, saying why, when GitHub refuses the credentials or cannot be reached in time', async () => {
    expect(await probe({ token: 'ghp_revoked' }).check()).toEqual({ up: false, detail: expect.stringMatching(/GitHub rejected Cockpit's credentials/) });
    fake.stallNext('repos/get');
    expect(await probe({ timeoutMs: 200 }).check()).toEqual({ up: false, detail: expect.stringMatching(/GitHub is unreachable|no answer within/) });
    const down = githubHealth({ apiUrl: 'http://127.0.0.1:9/', owner: 'acme', repo: 'infra', auth: { kind: 'token', token: FAKE_GITHUB_TOKEN } }, { timing: FAST });
    expect(await down.check()).toEqual({ up: false, detail: expect.stringMatching(/^GitHub is unreachable/) });
  });
});
