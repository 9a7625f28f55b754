import type { OnCallLevel } from './oncall';
import type { TicketStatus } from '../ticketModel';

/** Support tickets and the forum's topics and posts they are made of, as the ports carry them. */

/** The forum user who opened the topic. */
export interface Customer {
  username: string;
  /** The name they gave the forum, when they gave one. */
  name?: string;
}

/** A ticket as its capability keeps it. */
export interface TicketRecord {
  /** The forum topic's number: the ticket's id. */
  topicId: number;
  title: string;
  customer: Customer;
  /** The first lines of the customer's first post. */
  excerpt: string;
  /** A name of cockpit.yml `tickets.priorities`. */
  priority: string;
  status: TicketStatus;
  level: OnCallLevel;
  /** The team member (Slack id) who owns it. */
  assignee?: string;
  /** Components of cockpit.yml `incidents.components` the customer's words or tags name. */
  components: string[];
  /** Incident numbers the customer's words name (`INC-12`). */
  mentions: number[];
  /** When the customer opened the topic. */
  openedAt: Date;
  /** When it must be taken by (its priority's target, counted in business hours when the team has them). */
  dueAt: Date;
  takenAt?: Date;
  resolvedAt?: Date;
  statusChangedAt: Date;
  /** The highest post number of the topic Cockpit has seen (relayed to Slack, or its own). */
  lastPostNumber: number;
  /** The Slack message that shows it, whose thread holds its conversation. */
  message?: { channel: string; ts: string };
  /** The public incident it was linked to. */
  incidentId?: number;
  /** When L1 was paged because nobody took it in time. */
  pagedAt?: Date;
  /** Bumped by every change a person makes: changes are compare-and-set on it. */
  version: number;
  updatedAt: Date;
}

export type NewTicketRecord = Omit<TicketRecord, 'version' | 'updatedAt'>;

/** Fields a person's change may set; `null` clears an optional one. */
export type TicketPatch = Partial<{
  status: TicketStatus;
  level: OnCallLevel;
  assignee: string | null;
  takenAt: Date;
  resolvedAt: Date | null;
  statusChangedAt: Date;
  incidentId: number | null;
}>;

/** A support topic as the forum shows it. */
export interface SupportTopic {
  id: number;
  title: string;
  categoryId?: number;
  createdAt: Date;
  author: Customer;
  tags: string[];
  closed: boolean;
  /** `regular`, or `private_message` for a PM (never a ticket). */
  archetype: string;
  /** The topic's posts, oldest first. */
  postIds: number[];
}

/** One post of a support topic. */
export interface SupportPost {
  id: number;
  topicId: number;
  postNumber: number;
  /** Discourse's post types: regular, a moderator action, a small action ("closed this topic"), a staff whisper. */
  kind: 'regular' | 'moderator_action' | 'small_action' | 'whisper';
  username: string;
  name?: string;
  raw: string;
  createdAt: Date;
}

/** A topic of the support category's latest list: enough to tell a new ticket, or one with posts not seen. */
export interface SupportTopicSummary {
  id: number;
  createdAt: Date;
  highestPostNumber: number;
  closed: boolean;
  /** Pinned topics (the category's "About" topic) are not tickets. */
  pinned: boolean;
}
