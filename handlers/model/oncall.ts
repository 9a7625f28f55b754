/** On-call levels, overrides and swaps, and pages with their notifications. */

/** An on-call level: L1 support, L2, L3 infra (the owner of the Pulumi code). */
export type OnCallLevel = 'L1' | 'L2' | 'L3';

/** Why a page was raised: what its acknowledgement and resolution are about. */
export interface PageSource {
  kind: 'manual' | 'alert' | 'incident' | 'drill' | 'ticket' | 'heartbeat';
  /** The thing paged about: an alert group id, `INC-12`, a drill's request id, a ticket's topic id. */
  ref: string;
}

/** An override: someone holds a level for a while, above every layer of its rotation (a swap is two of them). */
export interface OnCallOverride {
  id: string;
  level: OnCallLevel;
  /** Who is on call instead (Slack id). */
  userId: string;
  /** Who the schedule had there when it was made, for the record and the messages. */
  replaces?: string;
  from: Date;
  to: Date;
  /** Who ran it (or accepted the swap that made it). */
  createdBy: string;
  createdAt: Date;
  requestId: string;
  /** Set when a swap made it. */
  swapId?: string;
}

export type SwapStatus = 'proposed' | 'accepted' | 'declined' | 'expired';

/** A trade of shifts at one level: `give` goes to the counterpart, `take` comes back to the proposer. */
export interface ShiftSwap {
  id: string;
  level: OnCallLevel;
  proposedBy: string;
  counterpart: string;
  give: { from: Date; to: Date };
  take: { from: Date; to: Date };
  status: SwapStatus;
  createdAt: Date;
  decidedAt?: Date;
  requestId: string;
}

export type PageTarget = { kind: 'level'; level: OnCallLevel } | { kind: 'user'; userId: string };

export type PageStatus = 'triggered' | 'acknowledged' | 'resolved';

/** A page: who it is for, where it stands in its escalation policy, and when its next step is due. */
export interface Page {
  id: string;
  source: PageSource;
  target: PageTarget;
  summary: string;
  raisedBy: string;
  requestId: string;
  /** The channel its message is in (the alert's channel, or where it was raised). */
  channel: string;
  /** The escalation policy (cockpit.yml `escalation.policies`) it follows. */
  policy: string;
  status: PageStatus;
  /** Index of the step of the policy reached, and how often that step was repeated. */
  step: number;
  repeats: number;
  /** Everyone notified so far (Slack ids), first notified first. */
  responders: string[];
  /** The whole team was asked (the policy's `everyone` step). */
  everyone: boolean;
  createdAt: Date;
  acknowledgedAt?: Date;
  acknowledgedBy?: string;
  resolvedAt?: Date;
  resolvedBy?: string;
  /** When the next timed act is due (repeat, escalate, remind); absent when none is. */
  nextAt?: Date;
  /** Bumped by every change: changes are compare-and-set on it, so two replicas never both apply one step. */
  version: number;
}

/** Where a notification goes: a person (a DM today; a phone one day), or a channel (with `@here` for everyone). */
export type NotificationAddress = { kind: 'person'; userId: string } | { kind: 'channel'; channel: string; everyone?: boolean };

/**
 * One message about a page, in the store before it is sent (an outbox): a restart sends what was not sent, and
 * sends nothing twice. `refresh` edits every message sent about the page to its current state.
 */
export interface PageNotification {
  id: string;
  pageId: string;
  kind: 'send' | 'refresh';
  to?: NotificationAddress;
  reason: 'raised' | 'escalated' | 'repeat' | 'reminder' | 'everyone' | 'changed';
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  createdAt: Date;
  /** Not sent before this time (a retry's back-off). */
  notBefore?: Date;
  receipt?: NotificationReceipt;
}

/** What a medium answers when it delivered a notification, so later changes can edit it. */
export interface NotificationReceipt {
  medium: string;
  /** The channel or address it went to. */
  address: string;
  /** The medium's id of the message (Slack's ts). */
  ref: string;
}

export type NewNotification = Pick<PageNotification, 'kind' | 'to' | 'reason'>;
