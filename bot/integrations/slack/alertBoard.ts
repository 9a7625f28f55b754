import type { AlertBoard, AlertStore, Clock, Logger, PageNotifier } from '../../../handlers/ports';
import type { NotificationAddress, NotificationReceipt, Page, PageNotification } from '../../../handlers/model/oncall';
import type { PostedMessage } from '../../commands';
import { ALERTS_SHOWN, alertGroupReply, alertNoticeReply, stormDigestReply } from '../../slack/blocks/alerts';
import { pageReply } from '../../slack/blocks/page';
import type { SlackOutbound } from './outbound';

/**
 * Alert groups and pages in Slack, through the outbound queue. A group has one message, posted by the one replica
 * that claims it and edited in place after; in a storm (more new groups a minute in a channel than the team file
 * allows) new groups go into one digest message per channel instead. A page is a DM to each person paged and a
 * message in its channel; a page about an alert group shows on the group's message instead of a second one.
 */

export interface SlackAlertBoardDeps {
  outbound: SlackOutbound;
  alerts: AlertStore;
  /** A page by id, for the group's message. */
  page(id: string): Promise<Page | undefined>;
  clock: Clock;
  log: Logger;
  owner: string;
  stormGroupsPerMinute: number;
  channelOf(stack: string): string;
}

/** How long after someone else's claim a replica looks again, so a change made meanwhile is not lost. */
const RECHECK_MS = 5000;

interface Storm {
  since: Date;
  lastGroupAt: Date;
  message?: Promise<PostedMessage>;
}

export class SlackAlertBoard implements AlertBoard {
  private readonly posting = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly storms = new Map<string, Storm>();
  private readonly background = new Set<Promise<void>>();

  constructor(private readonly deps: SlackAlertBoardDeps) {}

  async changed(groupId: string): Promise<void> {
    const group = await this.deps.alerts.get(groupId);
    if (!group) return;
    if (group.message) return this.deps.outbound.edit(group.message, () => this.render(groupId));
    if (group.inDigest) return this.touchDigest(group.channel);
    if (this.posting.has(groupId)) return void this.dirty.add(groupId);
    // One decision at a time per channel: the count of groups shown and the claim must not interleave, or a burst
    // of new groups would all be counted before any is shown. (Replicas decide apart: a storm may show a few more.)
    const decision = await this.inTurn(group.channel, async () => {
      if (await this.inStorm(group.channel, group.firstSeenAt)) {
        await this.deps.alerts.markInDigest(groupId);
        return 'digest' as const;
      }
      return (await this.deps.alerts.claimPost(groupId, this.deps.owner, this.deps.clock.now())) ? ('post' as const) : ('taken' as const);
    });
    if (decision === 'digest') return this.touchDigest(group.channel);
    if (decision === 'taken') {
      setTimeout(() => void this.recheck(groupId), RECHECK_MS).unref();
      return;
    }
    this.posting.add(groupId);
    // Not awaited: the webhook answers once the alert is stored; Slack is told in the channel's turn.
    const work = this.post(groupId, group.channel);
    this.background.add(work);
    void work.finally(() => this.background.delete(work));
  }

  private async post(groupId: string, channel: string): Promise<void> {
    try {
      const message = await this.deps.outbound.post(channel, async () => (await this.render(groupId))!);
      await this.deps.alerts.setMessage(groupId, message);
      if (this.dirty.delete(groupId)) this.deps.outbound.edit(message, () => this.render(groupId));
    } catch (err) {
      this.deps.log.error({ err, groupId }, 'posting an alert group failed; the next change tries again');
      await this.deps.alerts.releasePost(groupId).catch(() => undefined);
    } finally {
      this.posting.delete(groupId);
    }
  }

  async notice(stack: string, text: string): Promise<void> {
    await this.deps.outbound.post(this.deps.channelOf(stack), alertNoticeReply(text), 'page').catch((err: unknown) => this.deps.log.error({ err, stack }, 'posting an alert notice failed'));
  }

  /** Waits for what the queue holds (tests, the benchmark). */
  async idle(): Promise<void> {
    do {
      await Promise.all([...this.background]);
      await Promise.all([...this.storms.values()].map((s) => s.message?.catch(() => undefined)));
      await this.deps.outbound.idle();
    } while (this.background.size > 0);
  }

  private readonly turns = new Map<string, Promise<unknown>>();

  private inTurn<T>(channel: string, work: () => Promise<T>): Promise<T> {
    const previous = this.turns.get(channel) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    this.turns.set(channel, next);
    void next.finally(() => {
      if (this.turns.get(channel) === next) this.turns.delete(channel);
    }).catch(() => undefined);
    return next;
  }

  private async recheck(groupId: string): Promise<void> {
    const group = await this.deps.alerts.get(groupId);
    if (group?.message) this.deps.outbound.edit(group.message, () => this.render(groupId));
  }

  private async render(groupId: string) {
    const group = await this.deps.alerts.get(groupId);
    if (!group) return undefined;
    const [alerts, page] = await Promise.all([this.deps.alerts.alerts(groupId, ALERTS_SHOWN), group.pageId ? this.deps.page(group.pageId) : undefined]);
    return alertGroupReply({ group, alerts, page, now: this.deps.clock.now() });
  }

  /**
   * A storm starts when a channel got more new groups in the last minute than allowed, and lasts until a minute
   * passes without one going into the digest.
   */
  private async inStorm(channel: string, at: Date): Promise<boolean> {
    const now = this.deps.clock.now();
    const storm = this.storms.get(channel);
    if (storm && now.getTime() - storm.lastGroupAt.getTime() < 60_000) {
      storm.lastGroupAt = at;
      return true;
    }
    const recent = await this.deps.alerts.countShownSince(channel, new Date(now.getTime() - 60_000));
    if (recent < this.deps.stormGroupsPerMinute) {
      this.storms.delete(channel);
      return false;
    }
    this.storms.set(channel, { since: at, lastGroupAt: at });
    return true;
  }

  private async touchDigest(channel: string): Promise<void> {
    const storm = this.storms.get(channel) ?? { since: this.deps.clock.now(), lastGroupAt: this.deps.clock.now() };
    this.storms.set(channel, storm);
    const render = async () => stormDigestReply((await this.deps.alerts.createdSince(channel, new Date(storm.since.getTime() - 60_000))).filter((g) => g.inDigest), storm.since);
    if (!storm.message) {
      storm.message = this.deps.outbound.post(channel, render);
      storm.message.catch((err: unknown) => {
        this.deps.log.error({ err, channel }, 'posting the storm digest failed');
        storm.message = undefined;
      });
      return;
    }
    void storm.message.then(
      (message) => this.deps.outbound.edit(message, render),
      () => undefined,
    );
  }
}

/**
 * Pages in Slack: a DM (chat.postMessage to the user's id opens the app's conversation with them) and the page's
 * channel message. A phone or SMS provider would be another PageNotifier beside this one.
 */
export class SlackPageNotifier implements PageNotifier {
  constructor(
    private readonly outbound: SlackOutbound,
    private readonly clock: Clock,
    private readonly board?: { changedGroup(groupId: string): Promise<void> },
  ) {}

  async send(page: Page, to: NotificationAddress, reason: PageNotification['reason']): Promise<NotificationReceipt | undefined> {
    // A page about an alert group is shown on the group's own message, with its Acknowledge button.
    if (to.kind === 'channel' && !to.everyone && page.source.kind === 'alert' && this.board) {
      await this.board.changedGroup(page.source.ref);
      return undefined;
    }
    const address = to.kind === 'person' ? to.userId : to.channel;
    const posted = await this.outbound.post(address, () => Promise.resolve(pageReply(page, this.clock.now(), reason)), 'page');
    return { medium: 'slack', address: posted.channel, ref: posted.ts };
  }

  async update(page: Page, receipt: NotificationReceipt): Promise<void> {
    if (receipt.medium !== 'slack') return;
    this.outbound.edit({ channel: receipt.address, ts: receipt.ref }, async () => pageReply(page, this.clock.now()));
  }

  async changed(page: Page): Promise<void> {
    if (page.source.kind === 'alert' && this.board) await this.board.changedGroup(page.source.ref);
  }
}
