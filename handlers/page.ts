import { randomBytes } from 'node:crypto';
import { ConflictError, InputError, NotFoundError } from './errors';
import type { Policy, RequestMeta } from './policy';
import type { Clock, AuditLog, OnCallDirectory, PageNotifier, PageStore, Pager, Logger } from './ports';
import type { NewNotification, NotificationAddress, OnCallLevel, Page, PageNotification, PageSource, PageTarget } from './model/oncall';
import { describeActor } from './policy';
import { ONCALL_LEVELS } from './rotation';
import type { Team } from './team';

/**
 * Paging with escalation, as the runbook (on-call.md, "When nobody answers") promises: a page notifies its
 * target, waits, repeats, then adds the next step's people, and so on until someone acknowledges; everyone
 * notified keeps being asked. An acknowledged page that stays open reminds its owner. Every step is a
 * compare-and-set on the page's version in the store, and every message goes through the store's outbox, so two
 * replicas never both take a step and a restart loses none.
 */

export type EscalationTarget = { kind: 'level'; level: OnCallLevel } | { kind: 'user'; userId: string } | { kind: 'target' } | { kind: 'everyone' };

export interface EscalationStep {
  notify: EscalationTarget;
  /** Minutes to wait for an acknowledgement before repeating or moving on; 0 on a last step that waits for nothing. */
  waitMinutes: number;
  /** How many more times the step notifies before the next step. */
  repeat: number;
}

export interface EscalationSettings {
  policies: Record<string, EscalationStep[]>;
  /** The policy a page to a level follows, entered at that level's step. */
  levelPolicy: string;
  /** The policy a page to a person follows (`target` steps mean that person). */
  personPolicy: string;
  /** `on_call`: anyone on call at any level may acknowledge; `paged`: only the people paged. */
  whoMayAcknowledge: 'on_call' | 'paged';
  /** An acknowledged page still open this long reminds its owner, then again each time; 0: never. */
  remindAfterMinutes: number;
  /** Where `everyone` steps post `@here`. */
  everyoneChannel: string;
}

/** The runbook's table: L1 5 minutes, L2 10, L3 15, then `@here` in the incidents channel. */
export function defaultEscalation(team: Team): EscalationSettings {
  return {
    policies: {
      default: [
        { notify: { kind: 'level', level: 'L1' }, waitMinutes: 5, repeat: 0 },
        { notify: { kind: 'level', level: 'L2' }, waitMinutes: 10, repeat: 0 },
        { notify: { kind: 'level', level: 'L3' }, waitMinutes: 15, repeat: 0 },
        { notify: { kind: 'everyone' }, waitMinutes: 0, repeat: 0 },
      ],
      person: [{ notify: { kind: 'target' }, waitMinutes: 5, repeat: 2 }],
    },
    levelPolicy: 'default',
    personPolicy: 'person',
    whoMayAcknowledge: 'on_call',
    remindAfterMinutes: 30,
    everyoneChannel: team.channels.incidents,
  };
}

export function escalationSettings(team: Team): EscalationSettings {
  return team.escalation ?? defaultEscalation(team);
}

/** What the pager reports to the metrics (cockpit_page_ack_seconds, cockpit_pages_total). */
export interface PagerMetrics {
  acknowledged(level: string, seconds: number): void;
  outcome(level: string, outcome: 'raised' | 'acknowledged' | 'escalated' | 'resolved' | 'auto_resolved' | 'unanswered'): void;
}

export interface PagerDeps {
  team: Team;
  pages: PageStore;
  notifier: PageNotifier;
  directory: OnCallDirectory;
  policy: Policy;
  audit: AuditLog;
  clock: Clock;
  log: Logger;
  /** The channel a page's message goes to when the raiser names none. */
  channelFor?(source: PageSource): Promise<string | undefined>;
  metrics?: PagerMetrics;
  /** This replica's id, on the notifications it claims. */
  owner?: string;
  newId?: () => string;
  /** Told when a page is acknowledged, so what it was about (an incident's timeline) records who answered. */
  onAcknowledged?(page: Page, userId: string, at: Date): Promise<void>;
}

export interface RaiseRequest {
  target: PageTarget;
  summary: string;
  source: PageSource;
  raisedBy: string;
  requestId: string;
  /** Where the page's message goes; the source's channel, else the incidents channel. */
  channel?: string;
}

const MINUTE_MS = 60_000;
/** A claimed notification whose replica has not reported back after this long is sent again. */
const CLAIM_STALE_MS = 60_000;
const MAX_ATTEMPTS = 8;

export function levelLabel(page: Pick<Page, 'target'>): string {
  return page.target.kind === 'level' ? page.target.level : 'person';
}

export class PagerService implements Pager {
  readonly settings: EscalationSettings;
  private readonly newId: () => string;
  private readonly owner: string;

  constructor(private readonly deps: PagerDeps) {
    this.settings = escalationSettings(deps.team);
    this.newId = deps.newId ?? (() => `P${randomBytes(4).toString('hex').toUpperCase()}`);
    this.owner = deps.owner ?? `pager-${process.pid}`;
  }

  /** The port other capabilities call (incidents, drills, tickets, alerts). */
  async page(request: Omit<RaiseRequest, 'channel'>): Promise<{ pageId: string; created: boolean }> {
    const { page, created } = await this.raise(request);
    return { pageId: page.id, created };
  }

  /** `/cockpit page <L1|L2|L3|@person> <message>` by a person: the policy first. */
  async pageByPerson(request: { target: PageTarget; summary: string; channel?: string }, meta: RequestMeta): Promise<{ page: Page; created: boolean }> {
    await this.deps.policy.mayOnCall('page', {}, meta, request.target.kind === 'level' ? request.target.level : request.target.userId);
    return this.raise({ ...request, source: { kind: 'manual', ref: meta.requestId }, raisedBy: meta.actor.id, requestId: meta.requestId }, describeActor(meta.actor));
  }

  /** `auditActor`: how the raiser is written in the audit log, when a person raised it (console, CLI, Slack). */
  async raise(request: RaiseRequest, auditActor: string = request.raisedBy): Promise<{ page: Page; created: boolean }> {
    const summary = request.summary.trim();
    if (summary === '') throw new InputError('A page needs a message.');
    const existing = await this.deps.pages.openBySource(request.source);
    if (existing) return { page: existing, created: false };
    const now = this.deps.clock.now();
    const { policy, step } = this.entry(request.target);
    const channel = request.channel ?? (await this.deps.channelFor?.(request.source)) ?? this.deps.team.channels.incidents;
    const draft: Page = {
      id: this.newId(),
      source: request.source,
      target: request.target,
      summary: summary.slice(0, 500),
      raisedBy: request.raisedBy,
      requestId: request.requestId,
      channel,
      policy,
      status: 'triggered',
      step,
      repeats: 0,
      responders: [],
      everyone: false,
      createdAt: now,
      version: 0,
    };
    const { notifications, page } = await this.notifyStep(draft, step, 'raised', now);
    const created = await this.deps.pages.create({ ...page, version: 1 }, [{ kind: 'send', to: { kind: 'channel', channel }, reason: 'raised' }, ...notifications]);
    if (created.created) {
      this.deps.metrics?.outcome(levelLabel(page), 'raised');
      await this.record(request.requestId, auditActor, 'page.raise', created.page.id, { target: request.target, source: request.source, channel });
    }
    return created;
  }

  async get(id: string): Promise<Page | undefined> {
    return this.deps.pages.get(id);
  }

  async open(): Promise<Page[]> {
    return this.deps.pages.open();
  }

  async acknowledge(id: string, meta: RequestMeta): Promise<{ page: Page; already: boolean }> {
    const page = await this.mustGet(id);
    if (page.status === 'resolved') throw new ConflictError(`This page was resolved${page.resolvedBy ? ` by ${page.resolvedBy}` : ''}.`);
    if (page.status === 'acknowledged') {
      if (page.acknowledgedBy === meta.actor.id) return { page, already: true };
      throw new ConflictError(`Already acknowledged by <@${page.acknowledgedBy}>.`);
    }
    await this.deps.policy.mayOnCall('acknowledge', await this.facts(page, meta.actor.id), meta, page.id);
    const now = this.deps.clock.now();
    const remind = this.settings.remindAfterMinutes;
    const next = {
      ...page,
      status: 'acknowledged' as const,
      acknowledgedAt: now,
      acknowledgedBy: meta.actor.id,
      responders: addOnce(page.responders, [meta.actor.id]),
      nextAt: remind > 0 ? new Date(now.getTime() + remind * MINUTE_MS) : undefined,
    };
    const moved = await this.deps.pages.transition(id, page.version, next, [refresh()]);
    if (!moved) return this.acknowledge(id, meta); // someone moved it in between: judge again on the new state
    const seconds = (now.getTime() - page.createdAt.getTime()) / 1000;
    this.deps.metrics?.acknowledged(levelLabel(page), seconds);
    this.deps.metrics?.outcome(levelLabel(page), 'acknowledged');
    await this.record(meta.requestId, describeActor(meta.actor), 'page.acknowledge', id, { seconds });
    await this.deps.onAcknowledged?.(moved, meta.actor.id, now).catch((err: unknown) => this.deps.log.warn({ err, pageId: id }, 'could not tell what the page was about that it was acknowledged'));
    return { page: moved, already: false };
  }

  /** Escalate pressed: the next step now, without waiting. */
  async escalate(id: string, meta: RequestMeta): Promise<Page> {
    const page = await this.mustGet(id);
    if (page.status === 'resolved') throw new ConflictError('This page was resolved.');
    await this.deps.policy.mayOnCall('escalate', await this.facts(page, meta.actor.id), meta, page.id);
    const steps = this.steps(page.policy);
    if (page.step + 1 >= steps.length) throw new InputError('Nobody is left to escalate to: everyone was asked.', 'Phone the on-call people (the team phone list is pinned in the incidents channel).');
    const now = this.deps.clock.now();
    const { page: next, notifications } = await this.notifyStep(page, page.step + 1, 'escalated', now);
    const moved = await this.deps.pages.transition(id, page.version, { ...next, nextAt: page.status === 'acknowledged' ? page.nextAt : next.nextAt }, [...notifications, refresh()]);
    if (!moved) return this.escalate(id, meta);
    this.deps.metrics?.outcome(levelLabel(page), 'escalated');
    await this.record(meta.requestId, describeActor(meta.actor), 'page.escalate', id, { step: moved.step });
    return moved;
  }

  async resolve(id: string, meta: RequestMeta): Promise<{ page: Page; already: boolean }> {
    const page = await this.mustGet(id);
    if (page.status === 'resolved') return { page, already: true };
    await this.deps.policy.mayOnCall('resolve', await this.facts(page, meta.actor.id), meta, page.id);
    return this.close(page, meta.actor.id, meta.requestId, describeActor(meta.actor), 'resolved');
  }

  /** The thing paged about went away by itself (an alert resolved, a heartbeat came back). */
  async resolveSource(source: PageSource, by: string, requestId: string): Promise<Page | undefined> {
    const page = await this.deps.pages.openBySource(source);
    if (!page) return undefined;
    return (await this.close(page, by, requestId, by, 'auto_resolved')).page;
  }

  private async close(page: Page, by: string, requestId: string, auditActor: string, outcome: 'resolved' | 'auto_resolved'): Promise<{ page: Page; already: boolean }> {
    const now = this.deps.clock.now();
    const moved = await this.deps.pages.transition(page.id, page.version, { ...page, status: 'resolved', resolvedAt: now, resolvedBy: by, nextAt: undefined }, [refresh()]);
    if (!moved) {
      const fresh = await this.mustGet(page.id);
      if (fresh.status === 'resolved') return { page: fresh, already: true };
      return this.close(fresh, by, requestId, auditActor, outcome);
    }
    this.deps.metrics?.outcome(levelLabel(page), outcome);
    await this.record(requestId, auditActor, 'page.resolve', page.id, { seconds: (now.getTime() - page.createdAt.getTime()) / 1000, acknowledged: page.acknowledgedBy !== undefined });
    return { page: moved, already: false };
  }

  /**
   * One turn of the timer loop: every due page takes its next step (repeat, escalate, remind), then the outbox is
   * delivered. Returns how many steps were taken and notifications sent.
   */
  async tick(): Promise<{ steps: number; sent: number }> {
    const now = this.deps.clock.now();
    let steps = 0;
    for (const page of await this.deps.pages.due(now)) {
      if (await this.advance(page, now)) steps++;
    }
    return { steps, sent: await this.deliver() };
  }

  /** Sends what the outbox holds; a failure is retried with back-off and never blocks the others. */
  async deliver(): Promise<number> {
    const now = this.deps.clock.now();
    const claimed = await this.deps.pages.claim(this.owner, now, new Date(now.getTime() - CLAIM_STALE_MS));
    let sent = 0;
    await Promise.all(
      claimed.map(async (n) => {
        const page = await this.deps.pages.get(n.pageId);
        if (!page) return this.deps.pages.markFailed(n.id, 'page gone', now);
        try {
          await this.deliverOne(page, n);
          sent++;
        } catch (err) {
          const attempts = n.attempts + 1;
          const retryAt = attempts < MAX_ATTEMPTS ? new Date(this.deps.clock.now().getTime() + Math.min(60_000, 1000 * 2 ** attempts)) : undefined;
          this.deps.log.warn({ err, pageId: page.id, notification: n.id, attempts }, retryAt ? 'page notification failed; trying again' : 'page notification failed; giving up');
          await this.deps.pages.markFailed(n.id, err instanceof Error ? err.message : String(err), this.deps.clock.now(), retryAt);
        }
      }),
    );
    return sent;
  }

  private async deliverOne(page: Page, n: PageNotification): Promise<void> {
    if (n.kind === 'refresh') {
      const receipts = await this.deps.pages.receipts(page.id);
      await Promise.all([...receipts.map((r) => this.deps.notifier.update(page, r)), this.deps.notifier.changed?.(page)]);
      await this.deps.pages.markSent(n.id, undefined, this.deps.clock.now());
      return;
    }
    const receipt = await this.deps.notifier.send(page, n.to!, n.reason);
    await this.deps.pages.markSent(n.id, receipt, this.deps.clock.now());
  }

  /** The due page's next step; false when another replica took it first or nothing was due. */
  private async advance(page: Page, now: Date): Promise<boolean> {
    if (page.status === 'resolved') return false;
    if (page.status === 'acknowledged') {
      const remind = this.settings.remindAfterMinutes;
      const next = { ...page, nextAt: remind > 0 ? new Date(now.getTime() + remind * MINUTE_MS) : undefined };
      const to = page.acknowledgedBy ? [{ kind: 'send' as const, to: { kind: 'person' as const, userId: page.acknowledgedBy }, reason: 'reminder' as const }] : [];
      return (await this.deps.pages.transition(page.id, page.version, next, to)) !== undefined;
    }
    const steps = this.steps(page.policy);
    const step = steps[page.step];
    let result: { page: Omit<Page, 'version'>; notifications: NewNotification[] };
    let escalated = false;
    if (step && page.repeats < step.repeat) {
      result = await this.notifyStep({ ...page, repeats: page.repeats + 1 }, page.step, 'repeat', now);
    } else if (page.step + 1 < steps.length) {
      result = await this.notifyStep(page, page.step + 1, 'escalated', now);
      escalated = true;
    } else {
      // Everyone was asked: nothing more is timed. The message says so; people phone from here.
      const moved = await this.deps.pages.transition(page.id, page.version, { ...page, nextAt: undefined }, [refresh()]);
      if (moved) this.deps.metrics?.outcome(levelLabel(page), 'unanswered');
      return moved !== undefined;
    }
    const moved = await this.deps.pages.transition(page.id, page.version, result.page, [...result.notifications, refresh()]);
    if (moved && escalated) this.deps.metrics?.outcome(levelLabel(page), 'escalated');
    return moved !== undefined;
  }

  /**
   * The notifications of reaching `stepIndex` (or repeating it): its people are notified, and on an escalation the
   * people asked before are asked again, since the level that missed its deadline keeps being paged.
   */
  private async notifyStep(page: Omit<Page, 'version'>, stepIndex: number, reason: 'raised' | 'escalated' | 'repeat', now: Date): Promise<{ page: Omit<Page, 'version'>; notifications: NewNotification[] }> {
    const step = this.steps(page.policy)[stepIndex];
    const notifications: NewNotification[] = [];
    let responders = page.responders;
    let everyone = page.everyone;
    if (step) {
      if (step.notify.kind === 'everyone') {
        everyone = true;
        notifications.push({ kind: 'send', to: { kind: 'channel', channel: this.settings.everyoneChannel, everyone: true }, reason: 'everyone' });
      } else {
        const people = await this.people(step.notify, page.target, now);
        const earlier = reason === 'escalated' ? page.responders.filter((p) => !people.includes(p)) : [];
        for (const userId of people) notifications.push({ kind: 'send', to: person(userId), reason });
        for (const userId of earlier) notifications.push({ kind: 'send', to: person(userId), reason: 'repeat' });
        responders = addOnce(responders, people);
      }
    }
    const waitMinutes = step?.waitMinutes ?? 0;
    return {
      page: { ...page, step: stepIndex, repeats: reason === 'repeat' ? page.repeats : 0, responders, everyone, nextAt: waitMinutes > 0 ? new Date(now.getTime() + waitMinutes * MINUTE_MS) : undefined },
      notifications,
    };
  }

  private async people(target: EscalationTarget, pageTarget: PageTarget, now: Date): Promise<string[]> {
    switch (target.kind) {
      case 'level':
        return this.deps.directory.onCall(target.level, now);
      case 'user':
        return [target.userId];
      case 'target':
        return pageTarget.kind === 'user' ? [pageTarget.userId] : this.deps.directory.onCall(pageTarget.level, now);
      case 'everyone':
        return [];
    }
  }

  /** Which policy a page follows and at which step it enters it. */
  private entry(target: PageTarget): { policy: string; step: number } {
    if (target.kind === 'user') return { policy: this.settings.personPolicy, step: 0 };
    const policy = this.settings.levelPolicy;
    const steps = this.steps(policy);
    const at = steps.findIndex((s) => s.notify.kind === 'level' && s.notify.level === target.level);
    return { policy, step: Math.max(0, at) };
  }

  steps(policy: string): EscalationStep[] {
    return this.settings.policies[policy] ?? defaultEscalation(this.deps.team).policies.default!;
  }

  /** What the policy needs to know about a person and a page. */
  private async facts(page: Page, userId: string) {
    const onCall = (await Promise.all(ONCALL_LEVELS.map((l) => this.deps.directory.onCall(l)))).some((people) => people.includes(userId));
    const paged = page.responders.includes(userId) || (page.target.kind === 'user' && page.target.userId === userId);
    return { onCall, paged, everyone: page.everyone, raisedBy: page.raisedBy, acknowledgedBy: page.acknowledgedBy };
  }

  private async mustGet(id: string): Promise<Page> {
    const page = await this.deps.pages.get(id);
    if (!page) throw new NotFoundError(`No page ${id}.`);
    return page;
  }

  private async record(requestId: string, actor: string, action: string, target: string, detail: Record<string, unknown>): Promise<void> {
    await this.deps.audit.record({ requestId, actor, action, target, outcome: 'succeeded', detail });
  }
}

const refresh = (): NewNotification => ({ kind: 'refresh', reason: 'changed' });
const person = (userId: string): NotificationAddress => ({ kind: 'person', userId });

function addOnce(list: readonly string[], more: readonly string[]): string[] {
  return [...list, ...more.filter((m) => !list.includes(m))];
}
