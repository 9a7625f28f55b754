import type { KnownBlock } from '@slack/types';
import type { LevelNow } from '../../../handlers/oncall';
import type { IncidentSummary } from '../../../handlers/model/incidents';
import type { OnCallLevel, OnCallOverride, Page, ShiftSwap } from '../../../handlers/model/oncall';
import { formatShiftTime, type Shift } from '../../../handlers/rotation';
import { ACTIONS } from '../ids';
import { pageActions, pageStateLine } from './page';
import { actions, button, context, escapeMrkdwn, header, mention, section, type Reply } from './reply';

/**
 * What `/cockpit oncall` and its sub-commands answer, the swap offer with its Accept button, the handover posted
 * at each change, and the App Home section. Times are in the team's on-call zone.
 */

const who = (s: Pick<Shift, 'userId'>) => (s.userId ? mention(s.userId) : '_nobody_');
const mark = (s: Pick<Shift, 'source'>) => (s.source === 'override' ? ' _(override)_' : '');

function shiftLine(s: Shift, zone: string): string {
  return `${formatShiftTime(s.from, zone)} → ${formatShiftTime(s.to, zone)}  ${who(s)}${mark(s)}`;
}

export function oncallNowReply(levels: LevelNow[], zone: string): Reply {
  const blocks: KnownBlock[] = [header('On call now')];
  for (const l of levels) {
    const next = l.next.map((s) => `${formatShiftTime(s.from, zone)} ${who(s)}${mark(s)}`).join(' · ');
    blocks.push(section(`*${l.level}* ${who(l.current)}${mark(l.current)} until ${formatShiftTime(l.current.to, zone)}${next ? `\nnext: ${next}` : ''}`));
  }
  blocks.push(context(`Times in ${zone}. /cockpit oncall schedule 14 · /cockpit oncall override <@person> 3h · /cockpit oncall swap <@person> next`));
  const text = levels.map((l) => `${l.level}: ${l.current.userId ? `<@${l.current.userId}>` : 'nobody'} until ${formatShiftTime(l.current.to, zone)}`).join('\n');
  return { text, visibility: 'ephemeral', blocks };
}

export function scheduleReply(schedule: Record<OnCallLevel, Shift[]>, days: number, zone: string): Reply {
  const blocks: KnownBlock[] = [header(`On-call schedule, next ${days} days`)];
  for (const [level, shifts] of Object.entries(schedule)) {
    const lines = shifts.map((s) => shiftLine(s, zone));
    blocks.push(section(`*${level}*\n${lines.length > 0 ? lines.join('\n') : '_no rotation_'}`));
  }
  blocks.push(context(`Times in ${zone}. Overrides are marked.`));
  return { text: `On-call schedule for the next ${days} days`, visibility: 'ephemeral', blocks };
}

export function overrideReply(result: { override: OnCallOverride; shifts: Shift[] }, zone: string): Reply {
  const o = result.override;
  const instead = o.replaces ? `, instead of ${mention(o.replaces)}` : '';
  return {
    text: `${o.userId} is on call at ${o.level} until ${formatShiftTime(o.to, zone)}`,
    visibility: 'ephemeral',
    blocks: [
      section(`:arrows_counterclockwise: ${mention(o.userId)} is on call at *${o.level}* from ${formatShiftTime(o.from, zone)} until ${formatShiftTime(o.to, zone)}${instead}.`),
      section(`*${o.level} now*\n${result.shifts.map((s) => shiftLine(s, zone)).join('\n')}`),
      context(`Times in ${zone}. It is real: /cockpit oncall shows it.`),
    ],
  };
}

function swapText(swap: ShiftSwap, zone: string): string {
  return `*${swap.level}*: ${mention(swap.counterpart)} takes ${formatShiftTime(swap.give.from, zone)} → ${formatShiftTime(swap.give.to, zone)}; ${mention(swap.proposedBy)} takes ${formatShiftTime(swap.take.from, zone)} → ${formatShiftTime(swap.take.to, zone)}`;
}

/** To the proposer, at once. */
export function swapProposedReply(swap: ShiftSwap, zone: string): Reply {
  return {
    text: `Swap offered to ${swap.counterpart}`,
    visibility: 'ephemeral',
    blocks: [section(`:handshake: Offered ${mention(swap.counterpart)} a swap. ${swapText(swap, zone)}.`), context('Nothing changes until they press Accept; they got a message with the button.')],
  };
}

/** To the other person, with the buttons. */
export function swapOfferReply(swap: ShiftSwap, zone: string): Reply {
  return {
    text: `${swap.proposedBy} offers you a swap at ${swap.level}`,
    visibility: 'in_channel',
    blocks: [
      section(`:handshake: ${mention(swap.proposedBy)} offers you a swap. ${swapText(swap, zone)}.`),
      actions('oncall_swap', button('Accept', ACTIONS.oncallSwapAccept, swap.id, 'primary'), button('Decline', ACTIONS.oncallSwapDecline, swap.id)),
      context(`Times in ${zone}.`),
    ],
  };
}

export function swapDecidedReply(swap: ShiftSwap, zone: string, shifts: Shift[] = []): Reply {
  const accepted = swap.status === 'accepted';
  const blocks: KnownBlock[] = [section(`${accepted ? ':white_check_mark: Swap accepted' : ':x: Swap declined'}. ${swapText(swap, zone)}.`)];
  if (shifts.length > 0) blocks.push(section(`*${swap.level}*\n${shifts.map((s) => shiftLine(s, zone)).join('\n')}`));
  return { text: `Swap ${swap.status}`, visibility: 'in_channel', blocks };
}

/** Posted in the on-call channel when who is on call at a level changes. */
export function handoverReply(change: { level: OnCallLevel; from: string[]; to: string[]; until?: Date }, pages: Page[], incidents: IncidentSummary[], zone: string): Reply {
  const names = (ids: string[]) => (ids.length > 0 ? ids.map(mention).join(', ') : '_nobody_');
  const until = change.until ? ` until ${formatShiftTime(change.until, zone)}` : '';
  const blocks: KnownBlock[] = [section(`:baton: *${change.level} handover*: ${names(change.from)} → ${names(change.to)}${until}.`)];
  const open = pages.length > 0 ? pages.map((p) => `• ${p.id} ${escapeMrkdwn(p.summary)} (${p.status})`).join('\n') : '_none_';
  const inc = incidents.length > 0 ? incidents.map((i) => `• INC-${i.id} ${i.severity} ${escapeMrkdwn(i.title)} (${i.status})`).join('\n') : '_none_';
  blocks.push(section(`*Open pages*\n${open}\n*Open incidents*\n${inc}`));
  blocks.push(context('Incoming: answer "I have it" (runbooks/on-call.md#handover). Until then, the outgoing person is still on call.'));
  return { text: `${change.level} handover: ${change.from.join(', ') || 'nobody'} → ${change.to.join(', ') || 'nobody'}`, visibility: 'in_channel', blocks };
}

export function calendarReply(urls: { level: Record<string, string>; personal?: string }): Reply {
  const lines = Object.entries(urls.level).map(([level, url]) => `*${level}*: ${url}`);
  const personal = urls.personal ? `*Your shifts* (keep this link to yourself): ${urls.personal}` : '_Personal feeds need ONCALL_CALENDAR_SECRET._';
  return { text: 'On-call calendar feeds', visibility: 'ephemeral', blocks: [section(`:calendar: Subscribe in your calendar app:\n${lines.join('\n')}\n${personal}`)] };
}

/**
 * App Home's on-call section: who is on call, the person's next shifts, the open pages with their buttons.
 * The App Home listener (bot/slack/listeners/events/appHomeOpened.ts) places these blocks.
 */
export function oncallHomeBlocks(view: { levels: LevelNow[]; mine: Shift[]; pages: Page[]; zone: string; now: Date }): KnownBlock[] {
  const blocks: KnownBlock[] = [{ type: 'divider' }, header('On call')];
  blocks.push(section(view.levels.map((l) => `*${l.level}* ${who(l.current)}${mark(l.current)} until ${formatShiftTime(l.current.to, view.zone)}`).join('\n')));
  blocks.push(section(`*Your next shifts*\n${view.mine.length > 0 ? view.mine.slice(0, 3).map((s) => `${s.level} ${formatShiftTime(s.from, view.zone)} → ${formatShiftTime(s.to, view.zone)}`).join('\n') : '_none in the next 30 days_'}`));
  const pages = view.pages.slice(0, 5);
  if (pages.length === 0) blocks.push(context('No open pages.'));
  for (const page of pages) {
    blocks.push(section(`:pager: *${page.id}* ${escapeMrkdwn(page.summary)}\n${pageStateLine(page, view.now)}`));
    const buttons = pageActions(page);
    if (buttons) blocks.push(buttons);
  }
  if (view.pages.length > pages.length) blocks.push(context(`${view.pages.length - pages.length} more open pages.`));
  return blocks;
}
