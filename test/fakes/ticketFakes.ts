import type { ForumBacklog, ForumWrite } from '../../handlers/forum';
import type { NewTicketRecord, SupportPost, SupportTopic, SupportTopicSummary, TicketPatch, TicketRecord } from '../../handlers/model/tickets';
import type { Clock, SupportForum, TicketRecords } from '../../handlers/ports';
import type { TicketStatus } from '../../handlers/ticketModel';
import { applyPatch } from './patch';

/**
 * In-memory fakes of the ports the ticket desk calls, for handler tests. The SQL TicketRecords is held to the
 * same behaviour in test/store/tickets.test.ts; the forum is Discourse's as far as the desk reads it.
 */

export class MemoryTicketRecords implements TicketRecords {
  readonly tickets = new Map<number, TicketRecord>();
  /** Every forum write queued, in order, with its stream. */
  readonly forum: Array<{ stream: string; write: ForumWrite }> = [];

  constructor(private readonly clock: Clock) {}

  async create(ticket: NewTicketRecord, writes: ForumWrite[]) {
    const known = this.tickets.get(ticket.topicId);
    if (known) return { ticket: structuredClone(known), created: false };
    const created: TicketRecord = { ...structuredClone(ticket), version: 0, updatedAt: this.clock.now() };
    this.tickets.set(ticket.topicId, created);
    this.queue(ticket.topicId, writes);
    return { ticket: structuredClone(created), created: true };
  }

  async get(topicId: number) {
    const ticket = this.tickets.get(topicId);
    return ticket && structuredClone(ticket);
  }

  async change(topicId: number, version: number, patch: TicketPatch, writes: ForumWrite[]) {
    const ticket = this.tickets.get(topicId);
    if (!ticket || ticket.version !== version) return undefined;
    const updated = { ...applyPatch(ticket, patch), version: version + 1, updatedAt: this.clock.now() };
    this.tickets.set(topicId, updated);
    this.queue(topicId, writes);
    return structuredClone(updated);
  }

  async list(query: { statuses?: readonly TicketStatus[]; incidentId?: number; limit?: number } = {}) {
    return [...this.tickets.values()]
      .filter((t) => (!query.statuses || query.statuses.includes(t.status)) && (query.incidentId === undefined || t.incidentId === query.incidentId))
      .sort((a, b) => a.openedAt.getTime() - b.openedAt.getTime() || a.topicId - b.topicId)
      .slice(0, query.limit ?? 200)
      .map((t) => structuredClone(t));
  }

  async claimPage(topicId: number, at: Date) {
    const ticket = this.tickets.get(topicId);
    if (!ticket || ticket.status !== 'new' || ticket.pagedAt) return false;
    ticket.pagedAt = at;
    return true;
  }

  async claimPost(topicId: number) {
    const ticket = this.tickets.get(topicId);
    return ticket !== undefined && ticket.message === undefined;
  }

  async setMessage(topicId: number, message: { channel: string; ts: string }) {
    const ticket = this.tickets.get(topicId);
    if (ticket) ticket.message = message;
  }

  async releasePost() {}

  async claimPosts(topicId: number, from: number, to: number) {
    const ticket = this.tickets.get(topicId);
    if (!ticket || to <= from || ticket.lastPostNumber !== from) return false;
    ticket.lastPostNumber = to;
    return true;
  }

  async releasePosts(topicId: number, to: number, from: number) {
    const ticket = this.tickets.get(topicId);
    if (ticket && ticket.lastPostNumber === to) ticket.lastPostNumber = from;
  }

  async forumBacklog(topicId: number): Promise<ForumBacklog> {
    return { pending: this.forumOf(topicId).length };
  }

  /** The writes queued for one topic, in order. */
  forumOf(topicId: number): ForumWrite[] {
    return this.forum.filter((f) => f.stream === `topic:${topicId}`).map((f) => f.write);
  }

  private queue(topicId: number, writes: ForumWrite[]) {
    for (const write of writes) this.forum.push({ stream: `topic:${topicId}`, write: structuredClone(write) });
  }
}

/** The support category as the desk reads it: topics and their posts, written by the test. */
export class MemorySupportForum implements SupportForum {
  readonly username = 'cockpit';
  readonly topics = new Map<number, SupportTopic>();
  readonly posts = new Map<number, SupportPost>();
  /** How many times each topic was read: the sweep must not read what it knows. */
  readonly reads: number[] = [];
  private nextPost = 1000;

  customerTopic(topic: Omit<SupportTopic, 'postIds' | 'tags' | 'closed' | 'archetype'> & Partial<SupportTopic>, firstPost: string): SupportTopic {
    const created: SupportTopic = { tags: [], closed: false, archetype: 'regular', postIds: [], ...topic };
    this.topics.set(created.id, created);
    this.write(created.id, firstPost, created.author.username, { at: created.createdAt });
    return created;
  }

  write(topicId: number, raw: string, username: string, opts: { kind?: SupportPost['kind']; at?: Date } = {}): SupportPost {
    const topic = this.topics.get(topicId)!;
    const post: SupportPost = { id: this.nextPost++, topicId, postNumber: topic.postIds.length + 1, kind: opts.kind ?? 'regular', username, raw, createdAt: opts.at ?? new Date() };
    this.posts.set(post.id, post);
    topic.postIds.push(post.id);
    return post;
  }

  async latestTopics(): Promise<SupportTopicSummary[]> {
    return [...this.topics.values()].map((t) => ({ id: t.id, createdAt: t.createdAt, highestPostNumber: t.postIds.length, closed: t.closed, pinned: false }));
  }

  async topic(topicId: number) {
    this.reads.push(topicId);
    const topic = this.topics.get(topicId);
    return topic && structuredClone(topic);
  }

  async post(postId: number) {
    const post = this.posts.get(postId);
    return post && structuredClone(post);
  }
}
