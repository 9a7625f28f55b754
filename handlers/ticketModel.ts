import { DateTime } from 'luxon';
import type { OnCallLevel } from './model/oncall';
import type { SupportPost, SupportTopicSummary, TicketRecord } from './model/tickets';
import { WEEKDAYS, type Weekday } from './rotation';

/**
 * Support tickets as runbooks/support-tickets.md describes them: a customer's topic in the forum's support
 * category is the ticket; its status is told by one status tag on the topic, its escalation by one level tag,
 * and every change is a reply the forum emails to the customer. This file holds the data and the rules that need
 * nothing but the data; handlers/ticket.ts applies them.
 */

/** In the runbook's order: the queue, being worked on, waiting for the customer, done. */
export const TICKET_STATUSES = ['new', 'in-progress', 'waiting', 'resolved'] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];

export function isTicketStatus(value: string): value is TicketStatus {
  return (TICKET_STATUSES as readonly string[]).includes(value);
}

/**
 * Where `/cockpit ticket status` may move a ticket. A new ticket leaves the queue by being taken (or escalated),
 * so that someone owns it; a resolved one comes back when the customer replies in time.
 */
export const STATUS_MOVES: Readonly<Record<TicketStatus, readonly TicketStatus[]>> = {
  new: [],
  'in-progress': ['waiting', 'resolved', 'new'],
  waiting: ['in-progress', 'resolved', 'new'],
  resolved: ['in-progress'],
};

/** A reply within this long reopens a resolved ticket; after it the customer opens a new topic. */
export const REOPEN_WITHIN_MS = 14 * 24 * 60 * 60_000;

/** The levels a ticket climbs: L1 support, L2, L3 the infra owner (who patches through the Pulumi code). */
export const TICKET_LEVELS: readonly OnCallLevel[] = ['L1', 'L2', 'L3'];

export function nextLevel(level: OnCallLevel): OnCallLevel | undefined {
  return TICKET_LEVELS[TICKET_LEVELS.indexOf(level) + 1];
}

/** The status tags: exactly one is on a ticket's topic. Tag names are the status names. */
export const STATUS_TAGS: readonly string[] = TICKET_STATUSES;

/** The tag an escalated ticket carries (none at L1); Discourse keeps tags to 20 characters by default. */
export function levelTag(level: OnCallLevel): string | undefined {
  return level === 'L1' ? undefined : `escalated-${level.toLowerCase()}`;
}

export const LEVEL_TAGS: readonly string[] = TICKET_LEVELS.map(levelTag).filter((t): t is string => t !== undefined);

/** The outbox stream of a topic's writes: every write to one topic, in order, whoever makes it. */
export function ticketStream(topicId: number): string {
  return `topic:${topicId}`;
}

/** `#123`: how people name a ticket (the topic's number). */
export function ticketRef(topicId: number): string {
  return `#${topicId}`;
}

/** Discourse's post_type numbers. */
export function postKindOf(postType: number | undefined): SupportPost['kind'] {
  switch (postType) {
    case 2:
      return 'moderator_action';
    case 3:
      return 'small_action';
    case 4:
      return 'whisper';
    default:
      return 'regular';
  }
}

/** When the team answers tickets; outside it tickets wait (an outage out of hours is an incident). */
export interface BusinessHours {
  timezone: string;
  days: Weekday[];
  /** Minutes after local midnight; `fromMinute` < `toMinute`. */
  fromMinute: number;
  toMinute: number;
}

export interface TicketSettings {
  /** The forum category customers open tickets in: its id, and its slug (the category list's URL needs both). */
  categoryId: number;
  categorySlug: string;
  /** The Slack channel tickets are posted in. */
  channel: string;
  /** The forum has the discourse-assign plugin: a taken topic is assigned to its taker's forum user too. */
  discourseAssign: boolean;
  /** Priorities, most urgent first, each with how soon a ticket must be taken (minutes). */
  priorities: Array<{ name: string; respondWithinMinutes: number }>;
  defaultPriority: string;
  /** Absent: targets count wall-clock time. */
  businessHours?: BusinessHours;
}

/** A topic tagged with a priority's name has that priority (Discourse can require one tag of a group); else the default. */
export function priorityOf(settings: TicketSettings, tags: readonly string[]): string {
  return settings.priorities.find((p) => tags.includes(p.name))?.name ?? settings.defaultPriority;
}

export function targetMinutes(settings: TicketSettings, priority: string): number {
  const found = settings.priorities.find((p) => p.name === priority) ?? settings.priorities.find((p) => p.name === settings.defaultPriority);
  return found?.respondWithinMinutes ?? 0;
}

const MINUTE_MS = 60_000;
/** A year of days: a walk through business days never goes further than this. */
const MAX_DAYS = 400;

/** Each business window [start, end) that starts on or after the local day of `from`, in order. */
function* windows(hours: BusinessHours, from: Date): Generator<[number, number]> {
  let day = DateTime.fromJSDate(from, { zone: hours.timezone }).startOf('day');
  for (let i = 0; i < MAX_DAYS; i++, day = day.plus({ days: 1 })) {
    if (!hours.days.includes(WEEKDAYS[day.weekday - 1]!)) continue;
    const start = day.plus({ minutes: hours.fromMinute }).toMillis();
    const end = day.plus({ minutes: hours.toMinute }).toMillis();
    yield [start, end];
  }
}

/** Time between two instants that falls in business hours (all of it without them). */
export function businessMsBetween(from: Date, to: Date, hours?: BusinessHours): number {
  if (to <= from) return 0;
  if (!hours) return to.getTime() - from.getTime();
  let total = 0;
  for (const [start, end] of windows(hours, from)) {
    if (start >= to.getTime()) break;
    total += Math.max(0, Math.min(end, to.getTime()) - Math.max(start, from.getTime()));
  }
  return total;
}

/** The instant `ms` of business time after `from` (plain arithmetic without business hours). */
export function addBusinessMs(from: Date, ms: number, hours?: BusinessHours): Date {
  if (!hours) return new Date(from.getTime() + ms);
  let left = ms;
  for (const [start, end] of windows(hours, from)) {
    const begin = Math.max(start, from.getTime());
    if (begin >= end) continue;
    if (begin + left <= end) return new Date(begin + left);
    left -= end - begin;
  }
  // Only a team file with no business day at all gets here, which its schema refuses.
  return new Date(from.getTime() + ms);
}

/** When a ticket opened at `openedAt` with `priority` must be taken by. */
export function dueAtFor(settings: TicketSettings, priority: string, openedAt: Date): Date {
  return addBusinessMs(openedAt, targetMinutes(settings, priority) * MINUTE_MS, settings.businessHours);
}

/** How long it has waited against its target, in business time. */
export function ageOf(settings: TicketSettings, ticket: Pick<TicketRecord, 'openedAt' | 'takenAt'>, now: Date): number {
  return businessMsBetween(ticket.openedAt, ticket.takenAt ?? now, settings.businessHours);
}

/**
 * A customer's words (their topic's title, the name they gave the forum) as they may appear in a post Cockpit
 * writes as a moderator: a title like "@staff [click here](https://evil.example)" must not mention a group nor
 * plant a link under the team's name. Mentions get a zero-width space after the `@` (Discourse's mention pattern
 * no longer matches), and Markdown's link, image and HTML characters are escaped.
 */
export function inertOnForum(text: string): string {
  return text
    .replace(/[\\[\]()<>!*_`~|#]/g, (c) => `\\${c}`)
    .replace(/@(?=[\w.-])/g, '@\u200b');
}

/**
 * Whether the sweep makes a ticket of a topic it has never seen: open, and created recently. Without the bound,
 * the first sweep after tickets are turned on would make tickets of the category's whole first page, years of
 * old topics, and page L1 for every one. An older topic a customer writes on again still arrives by the webhook.
 */
export const SWEEP_ADOPTS_WITHIN_MS = 7 * 24 * 60 * 60_000;

export function sweepAdopts(topic: Pick<SupportTopicSummary, 'closed' | 'pinned' | 'createdAt'>, now: Date): boolean {
  return !topic.closed && !topic.pinned && now.getTime() - topic.createdAt.getTime() <= SWEEP_ADOPTS_WITHIN_MS;
}

/** The first lines of a post, as plain text for a Slack message: at most `max` characters, cut at a word. */
export function excerptOf(raw: string, max = 300): string {
  const text = raw
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/!\[[^\]]*\]\([^)]*\)/g, '[image]')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(0, 5)
    .join('\n');
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return `${space > max / 2 ? cut.slice(0, space) : cut}…`;
}

/** What the customer's words name: the components (tags or words) and incidents (`INC-12`). */
export function namedIn(text: string, tags: readonly string[], components: readonly string[]): { components: string[]; mentions: number[] } {
  const lower = text.toLowerCase();
  const named = components.filter((c) => tags.includes(c) || new RegExp(`(^|[^a-z0-9])${escapeRegExp(c)}([^a-z0-9]|$)`).test(lower));
  const mentions = [...new Set([...text.matchAll(/\bINC-(\d{1,9})\b/gi)].map((m) => Number(m[1])))];
  return { components: named, mentions };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** An open public incident, as the ticket's offer to link needs it. */
export interface IncidentLike {
  id: number;
  title: string;
  components: string[];
  public: boolean;
  status: string;
}

/**
 * The open public incidents a ticket looks like: the customer names it, or it affects a component the
 * customer's words name. Only an offer: a person links them.
 */
export function lookalikes<I extends IncidentLike>(ticket: Pick<TicketRecord, 'components' | 'mentions' | 'incidentId'>, incidents: readonly I[]): I[] {
  return incidents.filter(
    (i) => i.public && i.id !== ticket.incidentId && !['resolved', 'closed'].includes(i.status) && (ticket.mentions.includes(i.id) || i.components.some((c) => ticket.components.includes(c))),
  );
}
