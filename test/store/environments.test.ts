import type { Store } from '../../bot/store/connect';
import type { Environment } from '../../handlers/model/environments';
import { backendsUnderTest, type ManualClock, useScratchStore } from './backends';

const backends = backendsUnderTest();

describe.each(backends)('$name store: environments', (backend) => {
  const fixture = useScratchStore(backend);
  let clock: ManualClock;
  let store: Store;
  const reopen = fixture.reopen;
  beforeEach(() => ({ clock, store } = fixture));

  const expiresAt = new Date('2026-05-20T13:00:00.000Z');
  const up = (overrides: Partial<Omit<Environment, 'updatedAt'>> = {}): Omit<Environment, 'updatedAt'> => ({ stack: 'dev', state: 'up', expiresAt, upBy: 'U1', ...overrides });

  it('has no record of a stack never brought up', async () => {
    expect(await store.environments.get('dev')).toBeUndefined();
    expect(await store.environments.list()).toEqual([]);
  });

  it('writes a record whole and reads it back, stamping when it changed', async () => {
    const written = await store.environments.put(up({ warnedAt: new Date('2026-05-20T12:30:00.123Z') }));
    expect(written).toStrictEqual({ ...up(), warnedAt: new Date('2026-05-20T12:30:00.123Z'), updatedAt: clock.now() });
    expect(await store.environments.get('dev')).toStrictEqual(written);

    clock.advance(60_000);
    const down = await store.environments.put({ stack: 'dev', state: 'down', upBy: 'U1' });
    expect(down).toStrictEqual({ stack: 'dev', state: 'down', upBy: 'U1', updatedAt: clock.now() });
    expect(await store.environments.get('dev')).not.toHaveProperty('expiresAt');
  });

  it('lists every record by stack name', async () => {
    await store.environments.put(up({ stack: 'integration' }));
    await store.environments.put({ stack: 'staging', state: 'down', upBy: 'schedule' });
    await store.environments.put(up({ stack: 'dev' }));
    expect((await store.environments.list()).map((e) => `${e.stack}:${e.state}`)).toEqual(['dev:up', 'integration:up', 'staging:down']);
  });

  it('creates a record only when there is none, and leaves an existing one alone', async () => {
    expect(await store.environments.create({ stack: 'staging', state: 'up', expiresAt, upBy: 'schedule' })).toBe(true);
    clock.advance(1000);
    expect(await store.environments.create({ stack: 'staging', state: 'down', upBy: 'someone' })).toBe(false);
    expect(await store.environments.get('staging')).toMatchObject({ state: 'up', upBy: 'schedule', updatedAt: new Date('2026-05-20T09:00:00.000Z') });
  });

  it('refuses what it could not read back sensibly, and stores nothing', async () => {
    await expect(store.environments.put(up({ state: 'sideways' as Environment['state'] }))).rejects.toThrow(RangeError);
    await expect(store.environments.put({ stack: 'dev', state: 'down', expiresAt, upBy: 'U1' })).rejects.toThrow(RangeError);
    await expect(store.environments.create({ stack: 'dev', state: 'down', warnedAt: expiresAt, upBy: 'U1' })).rejects.toThrow(RangeError);
    expect(await store.environments.get('dev')).toBeUndefined();
  });

  describe('warnings', () => {
    it('marks the tear-down warned once, without moving updatedAt', async () => {
      const written = await store.environments.put(up());
      clock.advance(30_000);
      expect(await store.environments.markWarned('dev', expiresAt, clock.now())).toBe(true);
      expect(await store.environments.markWarned('dev', expiresAt, clock.now())).toBe(false);
      expect(await store.environments.get('dev')).toStrictEqual({ ...written, warnedAt: clock.now() });
    });

    it('does not mark a tear-down that is no longer the one due, or a stack that is down', async () => {
      await store.environments.put(up());
      expect(await store.environments.markWarned('dev', new Date(expiresAt.getTime() - 1), clock.now())).toBe(false);
      expect(await store.environments.markWarned('nowhere', expiresAt, clock.now())).toBe(false);
      await store.environments.put({ stack: 'dev', state: 'down', upBy: 'U1' });
      expect(await store.environments.markWarned('dev', expiresAt, clock.now())).toBe(false);
      expect(await store.environments.get('dev')).not.toHaveProperty('warnedAt');
    });

    it('lets exactly one of many replicas racing to warn do it', async () => {
      await store.environments.put(up());
      const replicas = [store, await reopen(), await reopen()];
      const marks = await Promise.all(Array.from({ length: 12 }, (_, i) => replicas[i % replicas.length]!.environments.markWarned('dev', expiresAt, clock.now())));
      expect(marks.filter(Boolean)).toHaveLength(1);
    });
  });

  describe('moving the tear-down (Keep)', () => {
    const later = new Date('2026-05-20T15:00:00.000Z');

    it('moves it from the time seen, clears the warning and stamps the change', async () => {
      await store.environments.put(up({ warnedAt: new Date('2026-05-20T12:30:00.000Z') }));
      clock.advance(5000);
      const moved = await store.environments.moveExpiry('dev', expiresAt, later);
      expect(moved).toStrictEqual({ stack: 'dev', state: 'up', expiresAt: later, upBy: 'U1', updatedAt: clock.now() });
      expect(await store.environments.get('dev')).toStrictEqual(moved);
    });

    it('does not move it when someone moved it first, or the stack is down', async () => {
      await store.environments.put(up());
      await store.environments.moveExpiry('dev', expiresAt, later);
      expect(await store.environments.moveExpiry('dev', expiresAt, new Date('2026-05-20T17:00:00.000Z'))).toBeUndefined();
      expect((await store.environments.get('dev'))?.expiresAt).toEqual(later);

      await store.environments.put({ stack: 'integration', state: 'down', upBy: 'U1' });
      expect(await store.environments.moveExpiry('integration', expiresAt, later)).toBeUndefined();
      expect(await store.environments.moveExpiry('nowhere', expiresAt, later)).toBeUndefined();
    });

    it('extends once when two people press Keep on different replicas at once', async () => {
      await store.environments.put(up());
      const replicas = [store, await reopen()];
      const presses = await Promise.all(Array.from({ length: 10 }, (_, i) => replicas[i % 2]!.environments.moveExpiry('dev', expiresAt, new Date(later.getTime() + i * 60_000))));
      const winners = presses.filter((p): p is Environment => p !== undefined);
      expect(winners).toHaveLength(1);
      expect((await store.environments.get('dev'))?.expiresAt).toEqual(winners[0]!.expiresAt);
    });
  });
});
