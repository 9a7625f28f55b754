import { UnavailableError } from '../../../handlers/errors';
import type { SupportForum } from '../../../handlers/ports';
import { postKindOf } from '../../../handlers/ticketModel';
import type { SupportPost, SupportTopic, SupportTopicSummary } from '../../../handlers/model/tickets';
import { DiscourseError, type DiscourseClient } from './client';

/** What the ticket desk reads of the forum: DiscourseClient's, or the demo's forum in memory. */
export type SupportReads = Pick<DiscourseClient, 'readTopic' | 'latestTopics' | 'post' | 'username'>;

/**
 * The support category as the ticket desk reads it, through the one Discourse client (and so the one rate limit
 * of the key) the outbox writes through. A topic or post that is gone is `undefined`; anything else the forum
 * refuses or fails is an UnavailableError saying what to check.
 */
export class DiscourseSupportForum implements SupportForum {
  readonly username: string;

  constructor(
    private readonly client: SupportReads,
    private readonly category: { id: number; slug: string },
  ) {
    this.username = client.username;
  }

  async latestTopics(): Promise<SupportTopicSummary[]> {
    try {
      return await this.client.latestTopics(this.category.slug, this.category.id);
    } catch (err) {
      // Discourse redirects a category URL whose slug is not the category's own.
      if (err instanceof DiscourseError && err.status !== undefined && err.status >= 300 && err.status < 400) {
        throw new UnavailableError(`The forum redirected the support category's list: ${err.message}`, 'Check cockpit.yml tickets.category and tickets.categorySlug against the category URL (/c/<slug>/<id>).');
      }
      throw unavailable(err, 'the support category');
    }
  }

  async topic(topicId: number): Promise<SupportTopic | undefined> {
    try {
      return await this.client.readTopic(topicId);
    } catch (err) {
      if (gone(err)) return undefined;
      throw unavailable(err, `topic ${topicId}`);
    }
  }

  async post(postId: number): Promise<SupportPost | undefined> {
    try {
      const post = await this.client.post(postId);
      return {
        id: post.id,
        topicId: post.topicId,
        postNumber: post.postNumber ?? 0,
        kind: postKindOf(post.postType),
        username: post.username,
        ...(post.name ? { name: post.name } : {}),
        raw: post.raw,
        createdAt: post.createdAt,
      };
    } catch (err) {
      if (gone(err)) return undefined;
      throw unavailable(err, `post ${postId}`);
    }
  }
}

/** A 404: deleted, or never there. (A 403 is not "gone": the key lacks a scope, which someone must fix.) */
function gone(err: unknown): boolean {
  return err instanceof DiscourseError && err.status === 404;
}

function unavailable(err: unknown, what: string): UnavailableError {
  const message = err instanceof Error ? err.message : String(err);
  return new UnavailableError(`Cannot read ${what} on the forum: ${message}`, 'The forum may be down or the key may lack a read scope; the sweep tries again every few minutes.');
}
