import { backendsUnderTest, useScratchStore } from './backends';

/**
 * The delivery log as the GitHub webhook uses it: a key taken while the work runs, kept once the work was
 * accepted, forgotten when it failed so that the same delivery runs when GitHub's Redeliver sends it again.
 * (Taking a key once per TTL, races and purges are in deploys.test.ts.)
 */

const backends = backendsUnderTest();

describe.each(backends)('$name store: delivery log, keep and forget', (backend) => {
  const fixture = useScratchStore(backend);

  it('forgets a key, so the same delivery is seen first again', async () => {
    const { deliveries } = fixture.store;
    expect(await deliveries.firstSeen('github:merged:acme/infra#7@abc', 60_000)).toBe(true);
    expect(await deliveries.firstSeen('github:merged:acme/infra#7@abc', 60_000)).toBe(false);
    await deliveries.forget('github:merged:acme/infra#7@abc');
    expect(await deliveries.firstSeen('github:merged:acme/infra#7@abc', 60_000)).toBe(true);
  });

  it('forgets only the key it is given, and a key it never saw is no error', async () => {
    const { deliveries } = fixture.store;
    expect(await deliveries.firstSeen('a', 60_000)).toBe(true);
    expect(await deliveries.firstSeen('b', 60_000)).toBe(true);
    await deliveries.forget('a');
    await deliveries.forget('never-seen');
    expect(await deliveries.firstSeen('b', 60_000)).toBe(false);
    expect(await deliveries.firstSeen('a', 60_000)).toBe(true);
  });

  it('keeps a key taken for a short while for as long as it is told, from now', async () => {
    const { deliveries } = fixture.store;
    expect(await deliveries.firstSeen('k', 1_000)).toBe(true);
    fixture.clock.advance(500);
    await deliveries.keep('k', 10_000);
    fixture.clock.advance(9_999);
    expect(await deliveries.firstSeen('k', 1_000)).toBe(false);
    fixture.clock.advance(1);
    expect(await deliveries.firstSeen('k', 1_000)).toBe(true);
  });

  it('keeps a key it had not seen, and one whose time had run out', async () => {
    const { deliveries } = fixture.store;
    await deliveries.keep('new', 10_000);
    expect(await deliveries.firstSeen('new', 10_000)).toBe(false);
    expect(await deliveries.firstSeen('old', 1_000)).toBe(true);
    fixture.clock.advance(5_000);
    await deliveries.keep('old', 10_000);
    expect(await deliveries.firstSeen('old', 10_000)).toBe(false);
  });

  it('is shared by replicas: one forgets, another sees the delivery first', async () => {
    const other = await fixture.reopen();
    expect(await fixture.store.deliveries.firstSeen('k', 60_000)).toBe(true);
    expect(await other.deliveries.firstSeen('k', 60_000)).toBe(false);
    await fixture.store.deliveries.forget('k');
    expect(await other.deliveries.firstSeen('k', 60_000)).toBe(true);
  });

  it('refuses a ttl that is not positive', async () => {
    await expect(fixture.store.deliveries.keep('k', 0)).rejects.toThrow(RangeError);
    await expect(fixture.store.deliveries.keep('k', Number.POSITIVE_INFINITY)).rejects.toThrow(RangeError);
  });
});
