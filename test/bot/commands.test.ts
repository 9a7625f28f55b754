import { CommandCore, type RequestContext } from '../../bot/commands';
import { createMetrics } from '../../bot/metrics';
import { openStore, type Store } from '../../bot/store/connect';
import { ConflictError } from '../../handlers/errors';
import { coreDeps, exampleTeam, manualClock, memoryLogger } from '../helpers';

describe('CommandCore', () => {
  let store: Store;
  const clock = manualClock();
  const team = exampleTeam();

  beforeEach(async () => {
    store = await openStore({ kind: 'sqlite', file: ':memory:' }, { clock });
  });
  afterEach(() => store.close());

  function core(extra: ConstructorParameters<typeof CommandCore>[1] = {}) {
    const metrics = createMetrics({ collectProcessMetrics: false });
    const c = new CommandCore(coreDeps(store, clock, { team, version: '9.9.9', metrics }), extra);
    return { core: c, metrics };
  }

  function ctx(overrides: Partial<RequestContext> = {}) {
    const logger = memoryLogger();
    const requestId = overrides.requestId ?? 'r-test1';
    const log = logger.log.child({ requestId, user: 'U0ALICE001' });
    return { ctx: { requestId, actor: { id: 'U0ALICE001', via: 'console' as const, as: 'tester' }, front: 'console' as const, log, ...overrides }, logger };
  }

  test('help lists every command', async () => {
    const { core: c } = core();
    const reply = (await c.run('help', ctx().ctx))!;
    const text = JSON.stringify(reply.blocks);
    for (const verb of ['deploy', 'promote', 'drill', 'oncall', 'page', 'incident', 'ticket', 'runbook', 'status']) expect(text).toContain(`/cockpit ${verb}`);
    expect(reply.visibility).toBe('ephemeral');
  });

  test('status shows stacks, their locks, the store and the version', async () => {
    await store.locks.acquire({ stack: 'staging', holder: 'U0BOB00001', purpose: 'deploy', requestId: 'r-lock1', owner: 'replica-a' });
    clock.advance(5 * 60_000);
    const { core: c } = core();
    const reply = (await c.run('status', ctx().ctx))!;
    const text = JSON.stringify(reply.blocks);
    expect(text).toContain('*staging*');
    expect(text).toMatch(/deploy by <@U0BOB00001> for 5m \(ref r-lock1\)/);
    expect(text).toMatch(/\*dev\*[^"]*ephemeral · free/);
    expect(text).toMatch(/sqlite, \d+ migrations applied/);
    expect(text).toContain('9.9.9');
  });

  test('bad input: usage, counted, not audited', async () => {
    const { core: c, metrics } = core();
    const { reply: maybe, outcome } = await c.execute('deploy qa', ctx().ctx);
    const reply = maybe!;
    expect(outcome).toBe('bad_input');
    expect(reply.text).toMatch(/unknown stack "qa"/);
    expect(reply.text).toContain('/cockpit deploy <stack> [--preview]');
    expect(reply.visibility).toBe('ephemeral');
    expect(await store.audit.query()).toEqual([]);
    expect(await metrics.registry.getSingleMetricAsString('cockpit_commands_total')).toMatch(/command="unknown",outcome="bad_input",front="console"} 1/);
  });

  test('a verb whose capability has not shipped says so, and the refusal is audited', async () => {
    const { core: c } = core();
    const { reply: maybe, outcome } = await c.execute('drill staging', ctx().ctx);
    const reply = maybe!;
    expect(outcome).toBe('refused');
    expect(reply.text).toBe('`drill` is not available yet.');
    const [entry] = await store.audit.query();
    expect(entry).toMatchObject({ requestId: 'r-test1', actor: 'console:tester for U0ALICE001', action: 'command.drill', target: 'staging', outcome: 'refused' });
  });

  test('a known error becomes a short reply with its hint', async () => {
    const { core: c } = core({
      verbs: {
        cancel: async () => {
          throw new ConflictError('staging is locked by Bob', 'wait or ask Bob');
        },
      },
    });
    const reply = (await c.run('cancel staging', ctx().ctx))!;
    expect(reply.text).toBe('staging is locked by Bob\nwait or ask Bob');
  });

  test('an unexpected error shows only the ref and is logged whole', async () => {
    const { core: c } = core({
      verbs: {
        cancel: async () => {
          throw new Error('socket hang up at 10.0.0.7 with xoxb-leaky');
        },
      },
    });
    const { ctx: context, logger } = ctx({ requestId: 'r-boom' });
    const { reply: maybe, outcome } = await c.execute('cancel prod', context);
    const reply = maybe!;
    expect(outcome).toBe('error');
    expect(reply.text).toBe('failed, ref r-boom');
    expect(JSON.stringify(reply)).not.toContain('socket hang up');
    const logged = logger.lines().find((l) => l.msg === 'command failed');
    expect(logged).toMatchObject({ requestId: 'r-boom', user: 'U0ALICE001', command: 'cancel' });
    expect(JSON.stringify(logged)).toContain('socket hang up');
    expect(logger.text()).not.toContain('xoxb-leaky');
    const [entry] = await store.audit.query({ requestId: 'r-boom' });
    expect(entry?.outcome).toBe('failed');
  });

  test('buttons run through the action table; unknown ones answer plainly', async () => {
    const seen: string[] = [];
    const { core: c } = core({
      actions: {
        'test.press': async (value, context) => {
          seen.push(`${value}:${context.actor.id}`);
          return { text: 'done', blocks: [], visibility: 'in_channel' };
        },
      },
    });
    expect((await c.act('test.press', 'v1', ctx().ctx))?.text).toBe('done');
    expect(seen).toEqual(['v1:U0ALICE001']);
    expect((await c.act('gone.button', '', ctx().ctx))?.text).toMatch(/no longer handled/);
  });
});
