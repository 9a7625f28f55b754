import { Migrator, sql } from 'kysely';
import { createStore } from '../../bot/store/connect';
import { InCodeMigrationProvider, storeMigrations } from '../../bot/store/migrations';
import type { ForumWrite } from '../../handlers/forum';
import type { NewIncidentRecord } from '../../handlers/model/incidents';
import { backendsUnderTest, useScratchStore } from './backends';

const backends = backendsUnderTest();

const reply = (raw: string): ForumWrite => ({ kind: 'post.reply', topic: { externalId: 'cockpit-incident-1' }, raw });

function incident(overrides: Partial<NewIncidentRecord> = {}): NewIncidentRecord {
  const at = new Date('2026-05-20T09:00:00.000Z');
  return {
    severity: 'SEV2',
    title: 'Checkout is down',
    status: 'investigating',
    stacks: ['prod'],
    startedAt: at,
    acknowledgedAt: at,
    declaredBy: 'U1',
    commander: 'U1',
    components: ['checkout'],
    public: false,
    ...overrides,
  };
}

const none = { timeline: [], forum: [] };

describe.each(backends)('on $name', (backend) => {
  // One fixture per backend: it owns the backend's admin pool and ends it once, after the last test.
  const fixture = useScratchStore(backend);
  const records = () => fixture.store.incidents;
  const outbox = () => fixture.store.forumOutbox;

  describe('incident records', () => {
    it('keeps incidents opened before 0007: their declarer commands them, declaring acknowledged them', async () => {
      const fresh = await backend.scratch();
      const old = createStore(fresh.config, { clock: fixture.clock });
      try {
        const schema = backend.name === 'postgres' ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(old.db)).rows[0]?.schema : undefined;
        const all = storeMigrations(backend.name);
        const before = new InCodeMigrationProvider(Object.fromEntries(Object.entries(all).filter(([name]) => name < '0007')));
        expect((await new Migrator({ db: old.db, provider: before, migrationTableSchema: schema }).migrateToLatest()).error).toBeUndefined();
        const at = '2026-05-19T08:00:00.000Z';
        await sql`insert into incidents (severity, title, status, stacks, opened_at, opened_by) values ('SEV2', 'Old one', 'monitoring', '["prod"]', ${at}, 'U0OLD')`.execute(old.db);
        await old.migrate();
        expect(await old.incidents.get(1)).toMatchObject({ commander: 'U0OLD', declaredBy: 'U0OLD', startedAt: new Date(at), acknowledgedAt: new Date(at), components: [], public: false, version: 0 });
        expect(await old.incidents.open('prod')).toHaveLength(1);
      } finally {
        await old.close();
        await fresh.drop();
      }
    });


    it('numbers incidents, never reusing a number, and shows the open ones on the board, newest first', async () => {
      const first = await records().declare(incident({ stacks: ['prod', 'prod', 'prod-eu'] }), () => none);
      expect(first).toMatchObject({ id: 1, version: 0, status: 'investigating', stacks: ['prod', 'prod-eu'], public: false, commander: 'U1', openedAt: fixture.clock.now() });
      fixture.clock.advance(1000);
      const second = await records().declare(incident({ stacks: ['staging'], severity: 'SEV4' }), () => none);
      fixture.clock.advance(1000);
      const resolved = await records().declare(incident({ status: 'resolved', resolvedAt: fixture.clock.now() }), () => none);
      await fixture.store.db.deleteFrom('incident_timeline').execute();
      await fixture.store.db.deleteFrom('incidents').where('id', '=', resolved.id).execute();
      expect((await records().declare(incident(), () => none)).id).toBe(4);

      expect((await records().open()).map((i) => i.id)).toEqual([4, second.id, first.id]);
      expect((await records().open('prod-eu')).map((i) => i.id)).toEqual([first.id]);
      expect(await records().open('nowhere')).toEqual([]);
      // The board is the summary the risk report stores with a plan, nothing more.
      expect(Object.keys((await records().open('staging'))[0]!).sort()).toEqual(['id', 'openedAt', 'severity', 'stacks', 'status', 'title']);
    });

    it('keeps every field through a round trip, and a patch clears what it sets to null', async () => {
      const declared = await records().declare(
        incident({ public: true, publicSummary: 'Some customers cannot pay', communications: 'U2', customerImpact: 'Checkout fails', alertGroupId: 'g-1', lastPublicUpdateAt: fixture.clock.now(), forumStatus: 'investigating' }),
        () => none,
      );
      expect(await records().get(declared.id)).toStrictEqual(declared);
      fixture.clock.advance(60_000);
      const changed = await records().change(declared.id, 0, { status: 'resolved', resolvedAt: fixture.clock.now(), communications: null, channelId: 'C0INC1', summaryTs: '1.2' }, none);
      expect(changed).toMatchObject({ version: 1, status: 'resolved', resolvedAt: fixture.clock.now(), channelId: 'C0INC1', updatedAt: fixture.clock.now() });
      expect(changed).not.toHaveProperty('communications');
      expect(await records().byChannel('C0INC1')).toStrictEqual(changed);
      expect(await records().open()).toEqual([]);
    });

    it('refuses an unknown status or severity, which would keep a stack frozen forever', async () => {
      await expect(records().declare(incident({ status: 'fixed' as 'new' }), () => none)).rejects.toThrow(RangeError);
      await expect(records().declare(incident({ severity: 'SEV0' as 'SEV1' }), () => none)).rejects.toThrow(RangeError);
      const declared = await records().declare(incident(), () => none);
      await expect(records().change(declared.id, 0, { status: 'resolve' as 'resolved' }, none)).rejects.toThrow(RangeError);
      expect(await records().get(declared.id)).toMatchObject({ version: 0, status: 'investigating' });
    });

    it('writes the timeline and the forum writes with the change, and nothing when the version moved on', async () => {
      const declared = await records().declare(incident({ public: true }), (d) => ({
        timeline: [{ kind: 'declared', actor: 'U1', text: `INC-${d.id} declared`, visibility: 'public' }],
        forum: [{ kind: 'topic.create', externalId: `cockpit-incident-${d.id}`, title: 'Checkout is down', raw: `INC-${d.id}`, categoryId: 5 }],
      }));
      const update = { timeline: [{ kind: 'update' as const, actor: 'U1', text: 'Rolling back', visibility: 'public' as const }], forum: [reply('Rolling back')] };
      expect(await records().change(declared.id, 0, { status: 'identified' }, update)).toMatchObject({ version: 1 });
      // Someone else's change read version 0 too: refused whole, its timeline and posts with it.
      expect(await records().change(declared.id, 0, { status: 'monitoring' }, { ...update, forum: [reply('stale')] })).toBeUndefined();

      const timeline = await records().timeline(declared.id);
      expect(timeline.map((e) => [e.kind, e.text])).toEqual([
        ['declared', 'INC-1 declared'],
        ['update', 'Rolling back'],
      ]);
      const queued = await fixture.store.forumOutbox.stream('incident:1');
      expect(queued.map((e) => e.write.kind)).toEqual(['topic.create', 'post.reply']);
      expect(new Set(queued.map((e) => e.marker)).size).toBe(2);
      expect(await records().forumBacklog(declared.id)).toMatchObject({ pending: 2, oldestAt: fixture.clock.now() });
    });

    it('lets exactly one of two racing changes of the same version win', async () => {
      const declared = await records().declare(incident(), () => none);
      // PostgreSQL: a second pool, as another replica holds. SQLite: the same handle, because a second one in this
      // process would block it in a synchronous busy wait; replicas are processes, each with its own.
      const other = backend.name === 'postgres' ? await fixture.reopen() : fixture.store;
      const [a, b] = await Promise.all([
        records().change(declared.id, 0, { status: 'identified' }, { timeline: [{ kind: 'status', actor: 'U1', text: 'a', visibility: 'internal' }], forum: [] }),
        other.incidents.change(declared.id, 0, { status: 'monitoring' }, { timeline: [{ kind: 'status', actor: 'U2', text: 'b', visibility: 'internal' }], forum: [] }),
      ]);
      expect([a, b].filter((r) => r !== undefined)).toHaveLength(1);
      expect(await records().timeline(declared.id)).toHaveLength(1);
    });

    it('lists the incidents declared since a date, newest first', async () => {
      await records().declare(incident(), () => none);
      fixture.clock.advance(86_400_000);
      const since = fixture.clock.now();
      const later = await records().declare(incident({ status: 'closed' }), () => none);
      expect((await records().list({ since })).map((i) => i.id)).toEqual([later.id]);
      expect((await records().list({ open: true })).map((i) => i.id)).toEqual([1]);
    });

    it('gives a reminder to one replica only, and again only once a new interval passed', async () => {
      const declared = await records().declare(incident({ lastPublicUpdateAt: fixture.clock.now() }), () => none);
      fixture.clock.advance(61 * 60_000);
      const other = await fixture.reopen();
      const since = new Date(fixture.clock.now().getTime() - 60 * 60_000);
      const claims = await Promise.all([records().claimReminder(declared.id, fixture.clock.now(), since), other.incidents.claimReminder(declared.id, fixture.clock.now(), since)]);
      expect(claims.filter(Boolean)).toHaveLength(1);
      fixture.clock.advance(10 * 60_000);
      expect(await records().claimReminder(declared.id, fixture.clock.now(), new Date(fixture.clock.now().getTime() - 60 * 60_000))).toBe(false);
      fixture.clock.advance(60 * 60_000);
      expect(await records().claimReminder(declared.id, fixture.clock.now(), new Date(fixture.clock.now().getTime() - 60 * 60_000))).toBe(true);
    });
  });

  describe('forum outbox', () => {
    it('hands out the head of each stream only, in order, and the next one once it is delivered', async () => {
      await outbox().enqueue({ stream: 'incident:1', writes: [reply('a1'), reply('a2')] });
      await outbox().enqueue({ stream: 'topic:9', writes: [reply('b1')] });
      await outbox().enqueue({ stream: 'incident:1', writes: [reply('a3')] });
      const raws = (entries: { write: ForumWrite }[]) => entries.map((e) => (e.write.kind === 'post.reply' ? e.write.raw : e.write.kind));
      expect(raws(await outbox().dueHeads())).toEqual(['a1', 'b1']);

      const [a1] = await outbox().dueHeads();
      const claimed = await outbox().claim(a1!, 'w1', new Date(fixture.clock.now().getTime() + 60_000));
      expect(claimed).toMatchObject({ attempts: 1, inDoubt: false });
      // Held by w1: nobody else is handed it, and the stream behind it waits.
      expect(raws(await outbox().dueHeads())).toEqual(['b1']);
      expect(await outbox().claim(a1!, 'w2', new Date(fixture.clock.now().getTime() + 60_000))).toBeUndefined();
      expect(await outbox().delivered(claimed!, 'w1', { postId: 11, topicId: 7 })).toBe(true);
      expect(raws(await outbox().dueHeads())).toEqual(['a2', 'b1']);
      expect(await outbox().lastDeliveredPost('incident:1', Number.MAX_SAFE_INTEGER)).toBe(11);
    });

    it('keeps a failed write at the head until its next attempt, in doubt unless the answer proved otherwise', async () => {
      await outbox().enqueue({ stream: 'incident:1', writes: [reply('a1'), reply('a2')] });
      const [head] = await outbox().dueHeads();
      const claimed = (await outbox().claim(head!, 'w1', new Date(fixture.clock.now().getTime() + 60_000)))!;
      await outbox().failed(claimed, 'w1', { nextAttemptAt: new Date(fixture.clock.now().getTime() + 5000), error: 'POST /posts.json: Discourse answered 500', inDoubt: true });
      expect(await outbox().dueHeads()).toEqual([]);
      expect(await outbox().nextDueAt()).toEqual(new Date(fixture.clock.now().getTime() + 5000));
      expect(await outbox().backlog('incident:1')).toMatchObject({ pending: 2, lastError: 'POST /posts.json: Discourse answered 500' });
      fixture.clock.advance(5000);
      const [again] = await outbox().dueHeads();
      expect(again).toMatchObject({ id: head!.id, attempts: 1, inDoubt: true });
    });

    it('lets a claim that outlived its holder (a crash) be taken again, still in doubt', async () => {
      await outbox().enqueue({ stream: 'incident:1', writes: [reply('a1')] });
      const [head] = await outbox().dueHeads();
      await outbox().claim(head!, 'crashed', new Date(fixture.clock.now().getTime() + 60_000));
      fixture.clock.advance(60_001);
      const [orphan] = await outbox().dueHeads();
      expect(orphan).toMatchObject({ attempts: 1, inDoubt: true });
      const retaken = await outbox().claim(orphan!, 'w2', new Date(fixture.clock.now().getTime() + 60_000));
      expect(retaken).toMatchObject({ attempts: 2, inDoubt: true });
      // The crashed worker waking up late cannot record over the new holder.
      expect(await outbox().delivered(retaken!, 'crashed', {})).toBe(false);
    });

    it('remembers the topic a creation made, with the delivery', async () => {
      await outbox().enqueue({ stream: 'incident:3', writes: [{ kind: 'topic.create', externalId: 'cockpit-incident-3', title: 't', raw: 'r', categoryId: 5 }] });
      const [head] = await outbox().dueHeads();
      const claimed = (await outbox().claim(head!, 'w1', new Date(fixture.clock.now().getTime() + 60_000)))!;
      await outbox().delivered(claimed, 'w1', { topicId: 42, postId: 100 });
      expect(await outbox().knownTopic('cockpit-incident-3')).toBe(42);
      expect(await outbox().totals()).toEqual({ pending: 0 });
    });
  });
});
