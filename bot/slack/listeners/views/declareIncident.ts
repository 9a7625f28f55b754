import type { ViewSubmitAction } from '@slack/bolt';
import { parseFormMetadata, readDeclareForm, type FormValues } from '../../blocks/incidents';
import { slackRequestContext } from '../../context';
import { SlackConversation } from '../../conversation';
import { VIEWS } from '../../ids';
import { ackFirst, type ListenerDeps } from '../types';

/**
 * The declare form's submission. What Slack cannot check (a public incident needs its summary) is answered in
 * the form itself, before it closes; then the declaration goes through the core's action table like a button,
 * and its answer is shown to the person in the channel the form was opened from.
 */
export function registerDeclareIncident(deps: ListenerDeps): void {
  deps.app.view<ViewSubmitAction>(VIEWS.declareIncident, async ({ ack, body, view, context, client }) => {
    const metadata = parseFormMetadata(view.private_metadata);
    const read = readDeclareForm(view.state.values as FormValues, metadata);
    if (!read.ok) return ack({ response_action: 'errors', errors: read.errors });
    if (!(await ackFirst(deps, 'view', { ack: () => ack(), body, context }))) return;
    const channelId = metadata.channelId;
    const ctx = slackRequestContext(
      deps.log,
      { userId: body.user.id, userName: body.user.name },
      { channelId, conversation: channelId ? new SlackConversation(client, channelId) : undefined },
      'incident',
    );
    const reply = await deps.core.act(VIEWS.declareIncident, JSON.stringify(read.declaration), ctx);
    if (!reply) return;
    try {
      // Without a channel to answer in (the form opened from App Home), the person's DM with Cockpit.
      if (channelId) await client.chat.postEphemeral({ channel: channelId, user: body.user.id, text: reply.text, blocks: reply.blocks });
      else await client.chat.postMessage({ channel: body.user.id, text: reply.text, blocks: reply.blocks });
    } catch (err) {
      ctx.log.error({ err }, 'could not deliver the declaration result to Slack');
    }
  });
}
