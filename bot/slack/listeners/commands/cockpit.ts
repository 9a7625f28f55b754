import { SLASH_COMMAND } from '../../ids';
import { SlackConversation } from '../../conversation';
import { slackRequestContext } from '../../context';
import { unescapeSlackText } from '../../text';
import { ackFirst, type ListenerDeps } from '../types';

/** `/cockpit <words>`: ack at once, then run the command and answer through the response_url. */
export function registerCockpitCommand(deps: ListenerDeps): void {
  deps.app.command(SLASH_COMMAND, async ({ command, ack, respond, context, client, body }) => {
    if (!(await ackFirst(deps, 'command', { ack, body, context }))) return;
    // A bare `/cockpit` comes with empty text; one with none at all is read the same way (help).
    const text = unescapeSlackText(command.text ?? '');
    const ctx = slackRequestContext(
      deps.log,
      { userId: command.user_id, userName: command.user_name },
      { channelId: command.channel_id, conversation: new SlackConversation(client, command.channel_id) },
      text.trim().split(/\s+/, 1)[0] || 'help',
    );
    ctx.openView = async (view) => void (await client.views.open({ trigger_id: command.trigger_id, view }));
    const reply = await deps.core.run(text, ctx);
    if (!reply) return; // answered in the channel already
    try {
      await respond({ response_type: reply.visibility, text: reply.text, blocks: reply.blocks });
    } catch (err) {
      ctx.log.error({ err }, 'could not deliver the reply to Slack');
    }
  });
}
