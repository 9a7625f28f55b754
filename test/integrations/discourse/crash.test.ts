import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../../../bot/store/connect';
import type { ForumWrite } from '../../../handlers/forum';
import { startFakeDiscourse, type FakeDiscourse } from '../../fakes/discourse';
import { API_KEY, API_USERNAME } from './setup';

/**
 * The outbox's promise under the worst timing: a replica is killed (SIGKILL, no cleanup) after a reply reached
 * Discourse and before it recorded so. A new process over the same database must find that reply by its marker,
 * post nothing twice, lose nothing, and keep the order.
 */
describe('forum outbox across a crash mid-delivery', () => {
  let dir: string;
  let fake: FakeDiscourse;
  let store: Store;
  const children: ChildProcessWithoutNullStreams[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cockpit-outbox-crash-'));
    fake = await startFakeDiscourse({ apiKey: API_KEY, apiUsername: API_USERNAME });
    store = await openStore({ kind: 'sqlite', file: join(dir, 'cockpit.db') }, { clock: { now: () => new Date() } });
  });
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await store.close();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function replica(owner: string): Promise<ChildProcessWithoutNullStreams> {
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'outboxProcess.ts')], {
      env: { PATH: process.env.PATH ?? '', OUTBOX_STORE_FILE: join(dir, 'cockpit.db'), OUTBOX_DISCOURSE_URL: fake.url, OUTBOX_API_KEY: API_KEY, OUTBOX_API_USERNAME: API_USERNAME, OUTBOX_OWNER: owner },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return new Promise((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve(child));
      child.once('exit', (code, signal) => reject(new Error(`replica ${owner} exited (${code ?? signal}) before ready: ${stderr}`)));
    });
  }

  const exited = (child: ChildProcessWithoutNullStreams) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

  it('finds each post on the forum exactly once, in order', async () => {
    const topic = { externalId: 'cockpit-incident-9' };
    const writes: ForumWrite[] = [
      { kind: 'topic.create', externalId: 'cockpit-incident-9', title: 'INC-9: Webhooks are delayed', raw: 'We are looking into delayed webhooks.', categoryId: 5 },
      ...[1, 2, 3, 4, 5].map((n): ForumWrite => ({ kind: 'post.reply', topic, raw: `Update ${n}: webhooks are still delayed.` })),
    ];
    await store.forumOutbox.enqueue({ stream: 'incident:9', writes });
    // The third POST (update 2) reaches the forum, which posts it and never answers.
    fake.hang(1, { apply: true, method: 'POST', skip: 2 });

    const first = await replica('replica-a');
    await fake.waitFor(() => fake.posts().length === 3 && fake.calls.some((c) => c.status === 0), 15_000);
    first.kill('SIGKILL');
    await exited(first);

    const [, , stuck] = await store.forumOutbox.stream('incident:9');
    expect(stuck).toMatchObject({ status: 'pending', attempts: 1, inDoubt: true });

    const second = await replica('replica-b');
    await fake.waitFor(() => fake.posts().length >= 6, 15_000);
    // Wait for the record too, then stop the replica cleanly.
    for (let i = 0; i < 100 && (await store.forumOutbox.totals()).pending > 0; i++) await new Promise((r) => setTimeout(r, 50));
    second.kill('SIGTERM');
    await exited(second);

    expect(fake.posts().map((p) => p.raw.split('\n')[0])).toEqual(['We are looking into delayed webhooks.', ...[1, 2, 3, 4, 5].map((n) => `Update ${n}: webhooks are still delayed.`)]);
    expect(fake.topics.size).toBe(1);
    const delivered = await store.forumOutbox.stream('incident:9');
    expect(delivered.every((e) => e.status === 'delivered')).toBe(true);
    expect(delivered[2]).toMatchObject({ attempts: 2, result: { found: true } });
    fake.assertNoViolations();
  }, 40_000);
});
