import type { Logger } from '../log';
import { newRequestId } from '../requestId';
import type { Conversation, PostedMessage, RequestContext } from '../commands';

/**
 * Builds the per-request context: a fresh request id and a child logger that carries it everywhere. The core
 * binds `command` (or `action`) once it has parsed the request, so the word the listener saw (`_typed`) is not
 * bound here too: log lines carried "command" twice.
 */
export function slackRequestContext(
  log: Logger,
  who: { userId: string; userName?: string },
  where: { channelId?: string; conversation?: Conversation; sourceMessage?: PostedMessage },
  _typed: string,
): RequestContext {
  const requestId = newRequestId();
  return {
    requestId,
    // Slack signed the request that names this user: the one identity Cockpit takes at its word.
    actor: { id: who.userId, name: who.userName, via: 'slack' },
    front: 'slack',
    log: log.child({ requestId, user: who.userId }),
    channelId: where.channelId,
    conversation: where.conversation,
    sourceMessage: where.sourceMessage,
  };
}
