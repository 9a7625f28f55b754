import { ErrorCode, WebClient, type WebAPIRateLimitedError } from '@slack/web-api';
import Bottleneck from 'bottleneck';
import type { Logger } from '../../../handlers/ports';
import type { PostedMessage } from '../../commands';
import type { Reply } from '../../slack/blocks/reply';

/**
 * Cockpit's own messages to Slack under Slack's limits, so a storm of alerts cannot break them: about one
 * `chat.postMessage` a second per channel, and `chat.update` (Tier 3) about 50 a minute for the workspace.
 * - posts queue per channel, one at a time, at least `postIntervalMs` apart; pages go before alert groups;
 * - edits of one message coalesce: only the latest state is sent, rendered when its turn comes;
 * - a 429 pauses that queue for Slack's Retry-After, then the call is made again.
 */

export interface OutboundOptions {
  postIntervalMs?: number;
  updateIntervalMs?: number;
  /** How often a call refused with 429 is tried again before it fails. */
  maxRateLimitRetries?: number;
}

export type Priority = 'page' | 'alert';

const PRIORITY: Record<Priority, number> = { page: 1, alert: 5 };

/** One edit a minute under the workspace's ~50: 1.25 s apart. */
export const DEFAULT_UPDATE_INTERVAL_MS = 1250;
/** A little over a second: Slack counts arrivals, and two requests a second apart can arrive 999 ms apart. */
export const DEFAULT_POST_INTERVAL_MS = 1100;

export class SlackOutbound {
  private readonly posts: Bottleneck.Group;
  private readonly updates: Bottleneck;
  private readonly pendingEdits = new Map<string, { message: PostedMessage; render: () => Promise<Reply | undefined> }>();
  private readonly maxRetries: number;
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly postIntervalMs: number;
  private readonly updateIntervalMs: number;
  /** When each queue last called Slack: a channel's posts, and the workspace's edits. */
  private readonly lastCall = new Map<string, number>();

  constructor(
    private readonly client: WebClient,
    private readonly log: Logger,
    options: OutboundOptions = {},
  ) {
    // One call at a time per queue; the spacing is kept right before each HTTP call (see `paced`), so the time a
    // job spends rendering its message never lets two calls reach Slack closer than the interval.
    this.posts = new Bottleneck.Group({ maxConcurrent: 1 });
    this.updates = new Bottleneck({ maxConcurrent: 1 });
    this.postIntervalMs = options.postIntervalMs ?? DEFAULT_POST_INTERVAL_MS;
    this.updateIntervalMs = options.updateIntervalMs ?? DEFAULT_UPDATE_INTERVAL_MS;
    this.maxRetries = options.maxRateLimitRetries ?? 5;
  }

  /** A client that hands 429s to this queue instead of retrying them itself, so the queue knows to wait. */
  static client(token: string, apiUrl: string): WebClient {
    return new WebClient(token, { slackApiUrl: apiUrl, rejectRateLimitedCalls: true, retryConfig: { retries: 2, factor: 2, minTimeout: 200, maxTimeout: 2000 } });
  }

  /** Posts in the channel's turn; resolves with where the message is. */
  /** `reply` may be a function: rendered when the post's turn comes, so a queued post shows the latest state. */
  post(channel: string, reply: Reply | (() => Promise<Reply>), priority: Priority = 'alert'): Promise<PostedMessage> {
    return this.track(
      this.posts.key(channel).schedule({ priority: PRIORITY[priority] }, () =>
        this.retrying('chat.postMessage', async () => {
          const message = typeof reply === 'function' ? await reply() : reply;
          await this.paced(`post:${channel}`, this.postIntervalMs);
          const res = await this.client.chat.postMessage({ channel, text: message.text, blocks: message.blocks });
          return { channel: res.channel ?? channel, ts: res.ts ?? '' };
        }),
      ),
    );
  }

  /**
   * Edits a message to whatever `render` returns when the edit's turn comes; an edit asked for while one is
   * waiting replaces it. Failures are logged: the next change edits again.
   */
  edit(message: PostedMessage, render: () => Promise<Reply | undefined>): void {
    const key = `${message.channel}/${message.ts}`;
    const waiting = this.pendingEdits.has(key);
    this.pendingEdits.set(key, { message, render });
    if (waiting) return;
    void this.track(
      this.updates.schedule(async () => {
        const edit = this.pendingEdits.get(key);
        this.pendingEdits.delete(key);
        if (!edit) return;
        try {
          const reply = await edit.render();
          if (!reply) return;
          await this.retrying('chat.update', async () => {
            await this.paced('update', this.updateIntervalMs);
            return this.client.chat.update({ channel: edit.message.channel, ts: edit.message.ts, text: reply.text, blocks: reply.blocks });
          });
        } catch (err) {
          this.log.warn({ err, channel: edit.message.channel, ts: edit.message.ts }, 'editing a Slack message failed');
        }
      }),
    ).catch(() => undefined);
  }

  /** Resolves when nothing is queued or in flight (tests, the benchmark, shutdown). */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  async stop(): Promise<void> {
    await this.idle();
    await this.updates.disconnect();
    await this.posts.disconnect();
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inflight.add(work);
    void work.finally(() => this.inflight.delete(work)).catch(() => undefined);
    return work;
  }

  /** Waits until `intervalMs` has passed since the queue's last call, and marks this one. */
  private async paced(queue: string, intervalMs: number): Promise<void> {
    const wait = (this.lastCall.get(queue) ?? 0) + intervalMs - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    this.lastCall.set(queue, Date.now());
  }

  /** Makes the call; on 429 waits Slack's Retry-After inside the queue's slot, so nothing else of it goes meanwhile. */
  private async retrying<T>(method: string, call: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call();
      } catch (err) {
        const limited = (err as Partial<WebAPIRateLimitedError>).code === ErrorCode.RateLimitedError;
        if (!limited || attempt >= this.maxRetries) throw err;
        const seconds = Math.max(1, (err as WebAPIRateLimitedError).retryAfter ?? 1);
        this.log.warn({ method, retryAfterSeconds: seconds, attempt: attempt + 1 }, 'Slack rate limit: waiting as asked');
        await new Promise((r) => setTimeout(r, seconds * 1000));
      }
    }
  }
}
