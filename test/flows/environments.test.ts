import type { ActionsBlock, Button } from '@slack/types';
import { parse } from 'node-cron';
import { CommandCore, type Conversation, type PostedMessage, type RequestContext } from '../../bot/commands';
import { JOBS, wireEnvironments } from '../../bot/flows/environments';
import { Policy } from '../../handlers/policy';
import type { Reply } from '../../bot/slack/blocks/reply';
import { ACTIONS } from '../../bot/slack/ids';
import { openStore, type Store } from '../../bot/store/connect';
import type { Team } from '../../handlers/team';
import { FakeInfraEngine } from '../fakes/pulumiEngine';
import { coreDeps, exampleTeam, manualClock, memoryLogger } from '../helpers';

/** A channel in memory: what was posted, and each message as last edited. */
class MemoryConversation implements Conversation {
  readonly messages = new Map<string, Reply[]>();
  private seq = 0;
  constructor(readonly channel: string) {}
  async post(reply: Reply): Promise<PostedMessage> {
    const ts = `1716195600.${String(++this.seq).padStart(6, '0')}`;
    this.messages.set(ts, [reply]);
    return { channel: this.channel, ts };
  }
  async update(message: PostedMessage, reply: Reply): Promise<void> {
    const history = this.messages.get(message.ts);
    if (!history) throw new Error(`no message ${message.ts}`);
    history.push(reply);
  }
  latest(ts: string): Reply {
    return this.messages.get(ts)!.at(-1)!;
  }
  texts(): string[] {
    return [...this.messages.values()].map((h) => h.at(-1)!.text);
  }
}

const alice = 'U0ALICE001';
const bob = 'U0BOB00001';
const MIN = 60_000;

const buttonOf = (reply: Reply, actionId: string): Button => {
  const found = reply.blocks.filter((b): b is ActionsBlock => b.type === 'actions').flatMap((b) => b.elements as Button[]).find((b) => b.action_id === actionId);
  if (!found) throw new Error(`no ${actionId} button in ${JSON.stringify(reply.blocks)}`);
  return found;
};

describe('environments flow: commands, buttons and the scheduler, through the command core', () => {
  let store: Store;
  let engine: FakeInfraEngine;
  let clock: ReturnType<typeof manualClock>;
  let team: Team;
  let channel: MemoryConversation;
  let deploys: MemoryConversation;
  let core: CommandCore;
  let wired: ReturnType<typeof wireEnvironments>;
  let seq = 0;

  const ctx = (userId: string, extra: Partial<RequestContext> = {}): RequestContext => ({
    requestId: `r-${++seq}`,
    actor: { id: userId, via: 'slack' },
    front: 'slack',
    log: memoryLogger('warn').log,
    channelId: channel.channel,
    conversation: channel,
    ...extra,
  });

  beforeEach(async () => {
    clock = manualClock('2026-05-18T04:00:00Z'); // Monday 06:00 in Paris
    store = await openStore({ kind: 'sqlite', file: ':memory:' }, { clock });
    engine = new FakeInfraEngine();
    team = exampleTeam();
    const { minute, hour, dayOfMonth, month, dayOfWeek } = parse('0 7 * * 1,3');
    const down = parse('0 20 * * 1,3');
    team.stacks.staging!.availability = {
      timezone: 'Europe/Paris',
      up: { expression: '0 7 * * 1,3', fields: { minute, hour, dayOfMonth, month, dayOfWeek } },
      down: { expression: '0 20 * * 1,3', fields: { minute: down.minute, hour: down.hour, dayOfMonth: down.dayOfMonth, month: down.month, dayOfWeek: down.dayOfWeek } },
      remindBeforeMinutes: 30,
    };
    channel = new MemoryConversation('C0WORK0001');
    deploys = new MemoryConversation('C0DEPLOYS01');
    const policy = new Policy({ team, plans: store.plans, incidents: store.incidents, audit: store.audit, clock });
    wired = wireEnvironments({ team, policy, engine, store, clock, owner: 'replica-a', log: memoryLogger('warn').log, deploysChannel: () => deploys, progressIntervalMs: 0 });
    core = new CommandCore(coreDeps(store, clock, { team, engine }), { verbs: wired.verbs, actions: wired.actions });
  });
  afterEach(async () => {
    await wired.scheduler.stop();
    await store.close();
  });

  test('up posts one message that goes from "bringing up" through progress to the outcome', async () => {
    engine.holdUpdates = true;
    const answering = core.run('up dev --ttl 2h', ctx(alice));
    const update = await engine.nextUpdate();
    const [ts] = [...channel.messages.keys()];
    expect(channel.latest(ts!).text).toBe('Bringing up dev…');
    update.progress(3, 10, 'creating kubernetes:core/v1:Namespace dev');
    update.succeed();
    expect(await answering).toBeUndefined();
    const history = channel.messages.get(ts!)!.map((r) => r.text);
    expect(history[0]).toBe('Bringing up dev…');
    expect(history).toContain('Bringing up dev: 3/10');
    expect(history.at(-1)).toBe('dev is up until 06:00 UTC (in 2h)');
    expect((await store.audit.query({ action: 'command.up' }))[0]).toMatchObject({ outcome: 'succeeded', actor: alice });
  });

  test('refusals come back to the asker alone, and nothing is posted', async () => {
    const reply = await core.run('up prod', ctx(alice));
    expect(reply).toMatchObject({ visibility: 'ephemeral', text: expect.stringContaining('prod is permanent') });
    expect(await core.run('up staging', ctx(alice))).toMatchObject({ visibility: 'ephemeral', text: expect.stringContaining('staging follows its schedule') });
    expect(await core.run('up dev --ttl 8d', ctx(alice))).toMatchObject({ text: expect.stringContaining('A TTL runs from 1 minute to 7d.') });
    expect(channel.messages.size).toBe(0);
  });

  test('down previews what it deletes and asks; Tear down runs it in the same message; Cancel leaves the stack alone', async () => {
    engine.setDestroyPreview('dev', { counts: { create: 0, update: 0, replace: 0, delete: 2, same: 0 }, changes: [{ op: 'delete', type: 'kubernetes:core/v1:PersistentVolumeClaim', name: 'pg-data', urn: 'urn:pvc' }, { op: 'delete', type: 'kubernetes:apps/v1:Deployment', name: 'web', urn: 'urn:web' }], steps: 2 });
    await core.run('up dev', ctx(alice));
    expect(await core.run('down dev', ctx(bob))).toBeUndefined();
    const confirmTs = [...channel.messages.keys()].at(-1)!;
    const prompt = channel.latest(confirmTs);
    expect(channel.messages.get(confirmTs)![0]!.text).toBe('Previewing the tear-down of dev…');
    expect(prompt.text).toBe('Tear down dev? 2 resource(s) deleted');
    expect(engine.calls.filter((c) => c.method === 'previewDestroy')).toEqual([{ method: 'previewDestroy', stack: 'dev' }]);
    const cancel = buttonOf(prompt, ACTIONS.environmentDownCancel).value!;

    // Someone who neither asked nor may tear dev down cannot cancel someone else's confirmation.
    expect(await core.act(ACTIONS.environmentDownCancel, cancel, ctx('U0NOBODY01', { sourceMessage: { channel: channel.channel, ts: confirmTs } }))).toMatchObject({
      visibility: 'ephemeral',
      text: expect.stringContaining('Only Bob, a deployer or an approver of dev can cancel this tear-down.'),
    });
    expect(await core.act(ACTIONS.environmentDownCancel, cancel, ctx(bob, { sourceMessage: { channel: channel.channel, ts: confirmTs } }))).toMatchObject({ text: 'Tear-down of dev cancelled' });
    expect(engine.calls.filter((c) => c.method === 'destroy')).toEqual([]);

    const value = buttonOf(prompt, ACTIONS.environmentDown).value!;
    expect(await core.act(ACTIONS.environmentDown, value, ctx(bob, { sourceMessage: { channel: channel.channel, ts: confirmTs } }))).toBeUndefined();
    const history = channel.messages.get(confirmTs)!.map((r) => r.text);
    expect(history.slice(0, 3)).toEqual(['Previewing the tear-down of dev…', 'Tear down dev? 2 resource(s) deleted', 'Tearing down dev…']);
    expect(history.at(-1)).toBe('dev torn down');
    expect(await store.environments.get('dev')).toMatchObject({ state: 'down' });
  });

  test('a refused press says so in the message, and the asker learns why', async () => {
    await core.run('up dev', ctx(alice));
    await core.run('down dev', ctx(bob));
    const confirmTs = [...channel.messages.keys()].at(-1)!;
    const value = buttonOf(channel.latest(confirmTs), ACTIONS.environmentDown).value!;
    await store.locks.acquire({ stack: 'dev', holder: alice, purpose: 'deploy', requestId: 'r-deploy', owner: 'replica-b' });
    const refused = await core.act(ACTIONS.environmentDown, value, ctx(bob, { sourceMessage: { channel: channel.channel, ts: confirmTs } }));
    expect(refused).toMatchObject({ visibility: 'ephemeral', text: expect.stringContaining('dev is locked by Alice') });
    expect(channel.latest(confirmTs).text).toBe('Tear-down of dev did not start');
    expect(engine.calls.filter((c) => c.method === 'destroy')).toEqual([]);
  });

  test('a confirmation pressed after it expired deletes nothing', async () => {
    await core.run('up dev', ctx(alice));
    await core.run('down dev', ctx(bob));
    const confirmTs = [...channel.messages.keys()].at(-1)!;
    const value = buttonOf(channel.latest(confirmTs), ACTIONS.environmentDown).value!;
    clock.advance(11 * MIN);
    const late = await core.act(ACTIONS.environmentDown, value, ctx(bob, { sourceMessage: { channel: channel.channel, ts: confirmTs } }));
    expect(late).toMatchObject({ visibility: 'ephemeral', text: expect.stringMatching(/^This confirmation expired at 04:10 UTC/) });
    expect(channel.latest(confirmTs).text).toBe('Tear-down of dev: the confirmation expired');
    expect(engine.calls.filter((c) => c.method === 'destroy')).toEqual([]);
  });

  test('the sweep job warns in the deploys channel; Keep from there extends once; the next runs tear down on time', async () => {
    await core.run('up dev --ttl 1h', ctx(alice));
    clock.advance(30 * MIN);
    expect(await wired.scheduler.trigger(JOBS.sweep)).toBe('ran');
    const [warningTs] = [...deploys.messages.keys()];
    const warning = deploys.latest(warningTs!);
    expect(warning.text).toBe('dev is torn down at 05:00 UTC (in 30m)');

    const keep = buttonOf(warning, ACTIONS.environmentKeep).value!;
    const pressed = await core.act(ACTIONS.environmentKeep, keep, ctx(bob, { conversation: deploys, sourceMessage: { channel: deploys.channel, ts: warningTs! } }));
    expect(pressed).toMatchObject({ visibility: 'in_channel', text: 'dev kept until 07:00 UTC (in 2h 30m)' });
    expect(await core.act(ACTIONS.environmentKeep, keep, ctx(alice, { conversation: deploys }))).toMatchObject({ visibility: 'ephemeral', text: 'dev was kept already' });

    clock.advance(2 * 60 * MIN);
    await wired.scheduler.trigger(JOBS.sweep); // the new warning
    clock.advance(30 * MIN);
    await wired.scheduler.trigger(JOBS.sweep);
    expect(deploys.texts()).toEqual(['dev is torn down at 05:00 UTC (in 30m)', 'dev is torn down at 07:00 UTC (in 30m)', 'dev torn down']);
  });

  test('the schedule job adopts staging, brings it up at 07:00, reminds at 19:30 and tears it down at 20:00', async () => {
    await wired.scheduler.trigger(JOBS.schedule);
    clock.advance(60 * MIN);
    await wired.scheduler.trigger(JOBS.schedule, clock.now());
    clock.advance(12 * 60 * MIN + 30 * MIN);
    await wired.scheduler.trigger(JOBS.schedule, clock.now());
    clock.advance(30 * MIN);
    await wired.scheduler.trigger(JOBS.schedule, clock.now());
    expect(deploys.texts()).toEqual(['staging now follows its schedule', 'staging is up until Mon 20:00 Europe/Paris (in 13h)', 'staging goes down at Mon 20:00 Europe/Paris (in 30m)', 'staging torn down']);
    expect(JSON.stringify(deploys.latest([...deploys.messages.keys()].at(-1)!).blocks)).toContain('Back up at Wed 07:00 Europe/Paris');
  });
});
