import type { WebClient } from '@slack/web-api';
import type { Logger } from '../../handlers/ports';

/**
 * An incident's own Slack channel: created under a name that may be taken (a second incident the same day with
 * the same title), people invited one by one (Slack refuses a whole invitation for one bad id), the summary
 * pinned, the runbook and status topic bookmarked. Each step that fails is logged and the others go on: an
 * incident whose channel lacks a bookmark is still an incident.
 */
export class SlackIncidentChannels {
  constructor(
    private readonly client: WebClient,
    private readonly log: Logger,
    /** The bot's own user id, which Slack refuses to invite. */
    private readonly botUserId?: string,
  ) {}

  /** Creates the channel under `name(1)`, or `name(2)`… when taken; undefined when Slack refuses otherwise. */
  async create(name: (attempt: number) => string): Promise<{ channelId: string; name: string } | undefined> {
    for (let attempt = 1; attempt <= 5; attempt++) {
      const candidate = name(attempt);
      try {
        const res = await this.client.conversations.create({ name: candidate });
        if (res.channel?.id) return { channelId: res.channel.id, name: candidate };
      } catch (err) {
        if (slackError(err) === 'name_taken') continue;
        this.log.warn({ err, name: candidate }, 'cannot create the incident channel');
        return undefined;
      }
    }
    this.log.warn({ name: name(1) }, 'every incident channel name tried is taken');
    return undefined;
  }

  /** Invites each person; returns who is in it now (already there counts). */
  async invite(channelId: string, users: readonly string[]): Promise<string[]> {
    const invited: string[] = [];
    for (const user of new Set(users)) {
      if (user === this.botUserId || !/^[UW][A-Z0-9]+$/.test(user)) continue;
      try {
        await this.client.conversations.invite({ channel: channelId, users: user });
        invited.push(user);
      } catch (err) {
        if (slackError(err) === 'already_in_channel') invited.push(user);
        else this.log.warn({ err, user, channelId }, 'cannot invite to the incident channel');
      }
    }
    return invited;
  }

  async pin(channelId: string, ts: string): Promise<void> {
    try {
      await this.client.pins.add({ channel: channelId, timestamp: ts });
    } catch (err) {
      if (slackError(err) !== 'already_pinned') this.log.warn({ err, channelId }, 'cannot pin the incident summary');
    }
  }

  /** Bookmarks a web page; anything but http(s) is skipped, as Slack would refuse it. */
  async bookmark(channelId: string, title: string, link: string): Promise<void> {
    if (!/^https?:\/\//.test(link)) return;
    try {
      await this.client.bookmarks.add({ channel_id: channelId, title, type: 'link', link });
    } catch (err) {
      this.log.warn({ err, channelId, title }, 'cannot bookmark in the incident channel');
    }
  }
}

function slackError(err: unknown): string | undefined {
  const data = (err as { data?: { error?: unknown } } | undefined)?.data;
  return typeof data?.error === 'string' ? data.error : undefined;
}
