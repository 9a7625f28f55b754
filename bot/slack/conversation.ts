import type { WebClient } from '@slack/web-api';
import type { Conversation, PostedMessage } from '../commands';
import type { Reply } from './blocks/reply';

/** Follow-up messages in a Slack channel: posted once, then edited in place (progress, results). */
export class SlackConversation implements Conversation {
  constructor(
    private readonly client: WebClient,
    private readonly channel: string,
    private readonly threadTs?: string,
  ) {}

  async post(reply: Reply): Promise<PostedMessage> {
    const res = await this.client.chat.postMessage({
      channel: this.channel,
      text: reply.text,
      blocks: reply.blocks,
      ...(this.threadTs ? { thread_ts: this.threadTs } : {}),
    });
    return { channel: res.channel ?? this.channel, ts: res.ts ?? '' };
  }

  async update(message: PostedMessage, reply: Reply): Promise<void> {
    await this.client.chat.update({ channel: message.channel, ts: message.ts, text: reply.text, blocks: reply.blocks });
  }
}
