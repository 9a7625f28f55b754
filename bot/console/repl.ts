import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { displayName, personById, type Person, type Team } from '../../handlers/team';
import type { CommandCore, Conversation, PostedMessage, RequestContext } from '../commands';
import type { Logger } from '../log';
import { newRequestId } from '../requestId';
import { normalizeTyped, parseUserMention } from '../router/tokens';
import type { Reply } from '../slack/blocks/reply';
import { renderReply, type Choice } from './render';

/**
 * The local console: the same router and handlers as Slack, typed at a prompt. It is how a newcomer tries
 * Cockpit without a workspace, and how the team operates on the day Slack itself is down.
 */

export interface ConsoleOptions {
  core: CommandCore;
  team: Team;
  log: Logger;
  input: Readable;
  output: Writable;
  /** The team member (Slack user id) the console acts for (roles come from the team file). */
  actorId: string;
  /** Who is at the terminal (the OS user), recorded with every act: `console:<user> for <member>`. */
  osUser: string;
  /**
   * `demo`: a throwaway store and simulated adapters, so `as <person>` may stand in for a second person in
   * Slack. Otherwise the console's word is all there is, and the policy trusts it accordingly.
   */
  via?: 'console' | 'demo';
}

const HELP = `Type a command as in Slack (/cockpit help, /cockpit status; the /cockpit prefix is optional).
A number picks a button of the last message. "as <name or user id>" acts as another person of the team file. "quit" leaves.`;

const DEMO_INTRO = `DEMO: a throwaway store, a simulated Pulumi engine, an in-process GitHub and forum; nothing real is touched.
In the demo, "as <person>" stands in for a second person pressing Approve in Slack (outside it, the console may not approve).
Try: deploy prod · 1 (Deploy) · as carol · 1 (Approve) — then promote staging, ticket list, ticket take 101, status, help.`;

/** Every message the demo shows starts with DEMO, so no screenshot of it passes for a real deploy. */
const demoMark = (text: string) => `DEMO · ${text}`;

/**
 * The person `who` names: a Slack user id (`U0CAROL001`, `<@U0CAROL001>`) or a name, in any case; else why
 * nobody (or more than one person) answers to it.
 */
export function findPerson(team: Team, who: string): { person: Person } | { problem: string } {
  const id = parseUserMention(who);
  const byId = id && personById(team, id);
  if (byId) return { person: byId };
  const named = team.people.filter((p) => p.name.toLowerCase() === who.toLowerCase());
  if (named.length === 1) return { person: named[0]! };
  const known = team.people.map((p) => `${p.name} (${p.slack})`).join(', ') || 'nobody';
  if (named.length > 1) return { problem: `${named.length} people are called ${who}: use the id (${named.map((p) => p.slack).join(', ')})` };
  return { problem: `${who} is not in the team file; known: ${known}` };
}

/** Follow-ups in a terminal: a post prints; an edit prints again, marked as the new state of that message. */
class TerminalConversation implements Conversation {
  private next = 1;
  /** The message posted last: the one whose buttons a typed number presses. */
  last?: PostedMessage;
  constructor(private readonly show: (reply: Reply, note?: string) => void) {}
  async post(reply: Reply): Promise<PostedMessage> {
    this.show(reply);
    this.last = { channel: 'console', ts: String(this.next++) };
    return this.last;
  }
  async update(message: PostedMessage, reply: Reply): Promise<void> {
    this.show(reply, `message ${message.ts} updated`);
  }
}

export async function runConsole(options: ConsoleOptions): Promise<void> {
  const { core, team, output } = options;
  let actorId = options.actorId;
  let choices: Choice[] = [];
  const write = (text: string) => output.write(`${text}\n`);
  const nameOf = (id: string) => displayName(team, id);
  const show = (reply: Reply | undefined, note?: string) => {
    if (!reply) return; // already shown through the conversation
    const rendered = renderReply(reply, nameOf);
    if (note) write(`  (${note})`);
    write(options.via === 'demo' ? demoMark(rendered.text) : rendered.text);
    if (rendered.choices.length > 0) choices = rendered.choices;
  };
  const conversation = new TerminalConversation(show);
  const context = (): RequestContext => {
    const requestId = newRequestId();
    return {
      requestId,
      actor: { id: actorId, name: nameOf(actorId), via: options.via ?? 'console', as: options.osUser },
      front: 'console',
      // The core adds the command (or the button) once it has parsed it.
      log: options.log.child({ requestId, user: actorId }),
      channelId: 'console',
      conversation,
    };
  };

  const rl = createInterface({ input: options.input, output, terminal: (output as { isTTY?: boolean }).isTTY === true, prompt: 'cockpit> ' });
  write(`Cockpit console — acting for ${nameOf(actorId)} (${actorId}) as ${options.osUser}.`);
  if (options.via !== 'demo') write('Nothing vouches for who types here: approving, overriding a freeze and breaking a lock need Slack.');
  write(HELP);
  if (options.via === 'demo') write(DEMO_INTRO);
  rl.prompt();
  for await (const raw of rl) {
    const line = normalizeTyped(raw).trim();
    if (line === 'quit' || line === 'exit') break;
    if (line === '') {
      rl.prompt();
      continue;
    }
    const as = /^as\s+(.+)$/i.exec(line);
    if (as) {
      const found = findPerson(team, as[1]!.trim());
      if ('person' in found) {
        actorId = found.person.slack;
        write(`now acting as ${found.person.name} (${actorId}).`);
      } else {
        write(`! ${found.problem}`);
      }
    } else if (/^\d+$/.test(line) && choices.length > 0) {
      const choice = choices[Number(line) - 1];
      if (!choice) {
        write(`! pick 1 to ${choices.length}`);
      } else {
        choices = [];
        show(await core.act(choice.actionId, choice.value, { ...context(), sourceMessage: conversation.last }));
      }
    } else {
      choices = [];
      show(await core.run(line, context()));
    }
    rl.prompt();
  }
  rl.close();
}
