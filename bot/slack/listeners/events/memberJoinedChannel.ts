import { slackRequestContext } from '../../context';
import { EVENT_ACTIONS, EVENTS } from '../../ids';
import type { ListenerDeps } from '../types';

/** Someone joined a channel: an incident's timeline records who joined its channel, and when. */
export function registerMemberJoinedChannel(deps: ListenerDeps): void {
  deps.app.event(EVENTS.memberJoinedChannel, async ({ event, context }) => {
    if (event.user === context.botUserId) return; // Cockpit joining the channel it created
    const ctx = slackRequestContext(deps.log, { userId: event.user }, { channelId: event.channel }, 'member_joined_channel');
    const at = Number(event.event_ts);
    const value = { channel: event.channel, user: event.user, ...(Number.isFinite(at) ? { at: new Date(at * 1000).toISOString() } : {}) };
    await deps.core.act(EVENT_ACTIONS.memberJoinedChannel, JSON.stringify(value), ctx);
  });
}
