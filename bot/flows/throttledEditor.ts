import type { Logger } from '../../handlers/ports';
import type { Conversation, PostedMessage } from '../commands';
import type { Reply } from '../slack/blocks/reply';

/**
 * Edits one message with the latest of many updates, at most once per interval: the engine reports every
 * step, Slack rate-limits edits, and a person only needs to see the state every few seconds. Edits go out in
 * order, one at a time; a failed edit is logged and the next one tries again.
 */
export class ThrottledEditor {
  private latest?: Reply;
  private timer?: NodeJS.Timeout;
  private lastSentAt = 0;
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly conversation: Conversation,
    private readonly message: PostedMessage,
    private readonly intervalMs: number,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  push(reply: Reply): void {
    if (this.stopped) return;
    this.latest = reply;
    if (this.timer) return;
    const wait = Math.max(0, this.lastSentAt + this.intervalMs - this.now());
    if (wait === 0) this.send();
    else this.timer = setTimeout(() => this.send(), wait);
  }

  /** Stops editing; waits for an edit in flight so the caller's final edit lands last. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.chain;
  }

  private send(): void {
    this.timer = undefined;
    const reply = this.latest;
    this.latest = undefined;
    if (!reply || this.stopped) return;
    this.lastSentAt = this.now();
    this.chain = this.chain.then(() =>
      this.conversation.update(this.message, reply).catch((err: unknown) => this.log.warn({ err }, 'progress edit failed; the next one will try again')),
    );
  }
}
