import { healthProbe, reuseAnswer } from '../../bot/health';
import { FAKE_WORKSPACE } from '../fakes/slackApi';
import { sendSlashCommand } from '../fakes/slackSigned';
import { useSlackCockpit } from './rig';

/** Slack's part of /readyz and /cockpit status, and the bot ids every request needs, asked of Slack sparingly. */

describe('reuseAnswer and healthProbe', () => {
  const clock = () => {
    let t = 0;
    return { now: () => t, advance: (ms: number) => (t += ms) };
  };

  it('shares a call in flight, keeps a success and a failure for their own windows', async () => {
    const time = clock();
    let calls = 0;
    let fail = true;
    const ask = reuseAnswer(
      async () => {
        calls++;
        if (fail) throw new Error('down');
        return calls;
      },
      { okMs: 1000, failedMs: 100 },
      time.now,
    );
    const storm = await Promise.allSettled(Array.from({ length: 50 }, () => ask()));
    expect(storm.every((r) => r.status === 'rejected')).toBe(true);
    expect(calls).toBe(1);
    time.advance(99);
    await expect(ask()).rejects.toThrow('down');
    expect(calls).toBe(1);
    time.advance(1);
    fail = false;
    expect(await ask()).toBe(2);
    time.advance(999);
    expect(await ask()).toBe(2);
    time.advance(1);
    expect(await ask()).toBe(3);
  });

  it('turns a check into up or down with the reason, bounded in time, and never throws', async () => {
    const time = clock();
    expect(await healthProbe(async () => 'fine', { timeoutMs: 1000, cacheMs: 0, now: time.now }).check()).toEqual({ up: true, detail: 'fine' });
    expect(await healthProbe(async () => Promise.reject(new Error('refused\nstack…')), { timeoutMs: 1000, cacheMs: 0, now: time.now }).check()).toEqual({ up: false, detail: 'refused' });
    const hung = healthProbe(() => new Promise<string>(() => undefined), { timeoutMs: 20, cacheMs: 0, now: time.now });
    expect(await hung.check()).toEqual({ up: false, detail: 'no answer within 20 ms' });
  });
});

const readyz = async (base: string) => {
  const res = await fetch(`${base}/readyz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

const status = async (rig: ReturnType<typeof useSlackCockpit>) => {
  const responseUrl = rig.fake.responseUrl();
  await sendSlashCommand({ ...rig.signed, text: 'status', userId: 'U0ALICE001', channelId: 'C0DEPLOYS01', responseUrl });
  const id = responseUrl.split('/').pop()!;
  const reply = await rig.fake.firstResponseTo(id);
  return { text: String(reply.body.text), blocks: JSON.stringify(reply.body.blocks) };
};

describe('Slack over HTTP without the bot ids configured, while auth.test fails', () => {
  const rig = useSlackCockpit(() => ({ env: { SLACK_BOT_ID: '', SLACK_BOT_USER_ID: '' }, timing: { probeCacheMs: 60_000 } }));

  test('/readyz says not ready and why, asking Slack once however often it is polled', async () => {
    rig.fake.respondWith('auth.test', { ok: false, error: 'invalid_auth' });
    const polls = await Promise.all(Array.from({ length: 20 }, () => readyz(rig.base)));
    expect(polls.every((p) => p.status === 503)).toBe(true);
    expect(polls[0]!.body).toMatchObject({ status: 'not ready', slack: { up: false, detail: 'auth.test failed: Slack refused the call (invalid_auth)' } });
    expect(await rig.cockpit.slack!.health.check()).toEqual({ up: false, detail: 'auth.test failed: Slack refused the call (invalid_auth)' });
    expect(rig.fake.callsTo('auth.test')).toHaveLength(1);
  });
});

describe('Slack over HTTP without the bot ids configured, when auth.test recovers', () => {
  const rig = useSlackCockpit(() => ({ env: { SLACK_BOT_ID: '', SLACK_BOT_USER_ID: '' }, timing: { probeCacheMs: 50 } }));

  test('is ready again and runs commands again (Bolt kept a failed auth.test forever)', async () => {
    let failing = true;
    rig.fake.respondWith('auth.test', () =>
      failing ? { ok: false, error: 'service_unavailable' } : { ok: true, user_id: FAKE_WORKSPACE.botUserId, bot_id: FAKE_WORKSPACE.botId, team: FAKE_WORKSPACE.teamName, team_id: FAKE_WORKSPACE.teamId },
    );
    const responseUrl = rig.fake.responseUrl();
    const refused = await sendSlashCommand({ ...rig.signed, text: 'help', userId: 'U0ALICE001', channelId: 'C0DEPLOYS01', responseUrl });
    expect(refused).toMatchObject({ status: 200, text: 'Cockpit cannot reach Slack right now (auth.test fails); try again in a minute.' });
    expect((await readyz(rig.base)).status).toBe(503);
    expect(rig.fake.responsesTo(responseUrl.split('/').pop()!)).toHaveLength(0);

    // Slack answers again, and past the window the ids are learnt, once, and kept.
    failing = false;
    await new Promise((r) => setTimeout(r, 100));
    expect(await readyz(rig.base)).toMatchObject({ status: 200, body: { slack: { up: true, detail: `bot ${FAKE_WORKSPACE.botUserId}` } } });
    const again = rig.fake.responseUrl();
    await sendSlashCommand({ ...rig.signed, text: 'help', userId: 'U0ALICE001', channelId: 'C0DEPLOYS01', responseUrl: again });
    await rig.fake.waitFor(() => rig.fake.responsesTo(again.split('/').pop()!).length > 0);
    const asked = rig.fake.callsTo('auth.test').length;
    await new Promise((r) => setTimeout(r, 100));
    await readyz(rig.base);
    expect(rig.fake.callsTo('auth.test')).toHaveLength(asked);
  });
});

describe('Slack over HTTP with the bot ids configured', () => {
  const rig = useSlackCockpit();

  test('/readyz is ready without asking Slack anything', async () => {
    const res = await readyz(rig.base);
    expect(res).toMatchObject({ status: 200, body: { slack: { up: true, detail: 'bot ids configured' } } });
    expect(rig.fake.calls).toHaveLength(0);
  });

  test('/cockpit status shows Slack (asked with auth.test), GitHub and the engine, each up or down with the reason', async () => {
    const shown = await status(rig);
    expect(shown.blocks).toContain(`*Slack*\\n:large_green_circle: up: bot ${FAKE_WORKSPACE.botUserId} in ${FAKE_WORKSPACE.teamName}`);
    expect(shown.blocks).toContain('*GitHub*\\n:red_circle: down: not configured (GITHUB_REPO)');
    expect(shown.blocks).toContain('*Deploy engine*');
    expect(shown.text).toMatch(/Slack up, GitHub down$/);
    expect(rig.fake.callsTo('auth.test')).toHaveLength(1);
  });
});

describe('Slack over HTTP with the bot ids configured, when the token is revoked', () => {
  const rig = useSlackCockpit();

  test('commands still run, and /cockpit status shows Slack down with the reason', async () => {
    rig.fake.respondWith('auth.test', { ok: false, error: 'token_revoked' });
    const shown = await status(rig);
    expect(shown.blocks).toContain('*Slack*\\n:red_circle: down: Slack refused the call (token_revoked)');
  });
});
