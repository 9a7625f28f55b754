import { helpReply } from '../../blocks/help';
import { slackRequestContext } from '../../context';
import { EVENTS } from '../../ids';
import type { ListenerDeps } from '../types';

/** App Home: the status board and the command list, refreshed each time a person opens it. */
export function registerAppHomeOpened(deps: ListenerDeps): void {
  deps.app.event(EVENTS.appHomeOpened, async ({ event, client }) => {
    if (event.tab !== 'home') return;
    const ctx = slackRequestContext(deps.log, { userId: event.user }, {}, 'app_home');
    const status = await deps.core.statusBoard();
    try {
      await client.views.publish({
        user_id: event.user,
        view: { type: 'home', blocks: [...status.blocks, ...(await deps.core.homeBlocks(event.user)), { type: 'divider' }, ...helpReply().blocks].slice(0, 100) },
      });
    } catch (err) {
      ctx.log.error({ err }, 'could not publish the App Home view');
    }
  });
}
