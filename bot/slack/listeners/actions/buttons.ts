import type { BlockAction, ButtonAction } from '@slack/bolt';
import { SlackConversation } from '../../conversation';
import { slackRequestContext } from '../../context';
import { ackFirst, type ListenerDeps } from '../types';

/**
 * Every Cockpit button goes through the core's action table, so the console's numbered choices and Slack's
 * buttons run the same code. An in-channel reply replaces the message that held the button (the prompt
 * becomes the outcome); an ephemeral one (a refusal) is shown to the presser only and leaves it in place.
 */
export function registerButtons(deps: ListenerDeps): void {
  deps.app.action<BlockAction<ButtonAction>>({ type: 'block_actions' }, async ({ ack, body, action, respond, context, client }) => {
    if (!(await ackFirst(deps, 'action', { ack, body, context }))) return;
    const channelId = body.channel?.id;
    const ctx = slackRequestContext(
      deps.log,
      { userId: body.user.id, userName: body.user.name },
      {
        channelId,
        conversation: channelId ? new SlackConversation(client, channelId) : undefined,
        // Buttons on a message Cockpit posted: the action edits that very message (progress, outcome).
        sourceMessage: channelId && body.message?.ts ? { channel: channelId, ts: body.message.ts } : undefined,
      },
      action.action_id,
    );
    ctx.openView = async (view) => void (await client.views.open({ trigger_id: body.trigger_id, view }));
    const reply = await deps.core.act(action.action_id, action.value ?? '', ctx);
    if (!reply) return; // the action edited its message itself
    try {
      await respond(
        reply.visibility === 'in_channel'
          ? { replace_original: true, text: reply.text, blocks: reply.blocks }
          : { replace_original: false, response_type: 'ephemeral', text: reply.text, blocks: reply.blocks },
      );
    } catch (err) {
      ctx.log.error({ err }, 'could not deliver the action result to Slack');
    }
  });
}
