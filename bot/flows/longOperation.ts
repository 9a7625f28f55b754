import { UnavailableError } from '../../handlers/errors';
import type { Clock, Logger } from '../../handlers/ports';
import type { Conversation, PostedMessage } from '../commands';
import type { Reply } from '../slack/blocks/reply';
import { ThrottledEditor } from './throttledEditor';

/**
 * One choreography for every long operation a channel watches — deploys, ups and tear-downs, merge deploys,
 * drills: the first message (posted, or an existing one taken over), throttled progress edits of that one
 * message, its final edit, and an edit on failure. Slack allows about one edit a second per message and a person
 * needs the state every few seconds, so progress is shown at most every `intervalMs`, in order, and the final
 * edit always lands last.
 */

export interface OperationControl {
  /** Shows a new state of the message (throttled; the latest wins). */
  show(reply: Reply): void;
  /** Posts the first message when the operation has none yet, e.g. once it knows what it is deploying. */
  announce(reply: Reply): Promise<void>;
  /** Where the operation is shown, once it is. */
  readonly message: PostedMessage | undefined;
}

export interface LongOperation<T> {
  /** Where it is shown; none (a one-shot CLI call): nothing is shown, the caller renders the value. */
  conversation?: Conversation;
  /** Posted before the operation starts. */
  announce?: Reply;
  /** Or: the message that already shows the operation (the one whose button was pressed). */
  message?: PostedMessage;
  /**
   * A person asked and waits for the message: a message that cannot be posted stops the operation before it
   * starts. Otherwise (merges, the scheduler) the failure is logged and the operation runs unseen: Slack being
   * down must not stop a merge deploy.
   */
  required?: boolean;
  run(control: OperationControl): Promise<T>;
  /** The message's final state; undefined leaves the last edit in place. */
  done(value: T): Reply | undefined;
  /** The message's state when the operation throws (the error is rethrown); undefined leaves it as it was. */
  failed?(err: unknown): Reply | undefined | Promise<Reply | undefined>;
}

export interface LongOperationDeps {
  clock: Clock;
  log: Logger;
  /** Least time between two progress edits of one message. */
  intervalMs: number;
}

/** Posts a message a person asked for; a conversation Cockpit cannot post in is said so, plainly. */
export async function postFor(conversation: Conversation, reply: Reply, log: Logger): Promise<PostedMessage> {
  try {
    return await conversation.post(reply);
  } catch (err) {
    log.warn({ err }, 'cannot post in this conversation');
    throw new UnavailableError('Cockpit cannot post in this conversation.', 'Run it in a channel Cockpit is in (invite @cockpit), e.g. the deploys channel.');
  }
}

/** Runs the operation, shown as it goes; returns its value and the message it was shown in. */
export async function runLongOperation<T>(deps: LongOperationDeps, op: LongOperation<T>): Promise<{ value: T; message?: PostedMessage }> {
  const { conversation } = op;
  let message = op.message;
  let editor: ThrottledEditor | undefined;
  const attach = (posted: PostedMessage) => {
    message = posted;
    if (conversation) editor = new ThrottledEditor(conversation, posted, deps.intervalMs, deps.log, () => deps.clock.now().getTime());
  };
  const announce = async (reply: Reply) => {
    if (!conversation || message) return;
    if (op.required !== false) return attach(await postFor(conversation, reply, deps.log));
    try {
      attach(await conversation.post(reply));
    } catch (err) {
      deps.log.warn({ err }, 'cannot post in this conversation; the operation runs unseen');
    }
  };
  if (message) attach(message);
  else if (op.announce) await announce(op.announce);

  const edit = async (reply: Reply | undefined) => {
    if (!reply || !conversation) return;
    if (!message) {
      // Never announced (the operation ended before it knew what to say): the outcome is its first message.
      if (op.required === false) await conversation.post(reply).catch((err: unknown) => deps.log.warn({ err }, 'cannot post the operation outcome'));
      return;
    }
    await conversation.update(message, reply).catch((err: unknown) => deps.log.warn({ err }, 'cannot edit the operation message'));
  };
  const control: OperationControl = {
    show: (reply) => editor?.push(reply),
    announce,
    get message() {
      return message;
    },
  };
  try {
    const value = await op.run(control);
    await editor?.stop();
    await edit(op.done(value));
    return { value, ...(message ? { message } : {}) };
  } catch (err) {
    await editor?.stop();
    await edit(await op.failed?.(err));
    throw err;
  }
}
