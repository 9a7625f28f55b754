import { createHash } from 'node:crypto';
import { InputError, NotAllowedError, NotFoundError } from './errors';
import type { PagerService } from './page';
import type { Policy, RequestMeta } from './policy';
import { describeActor } from './policy';
import type { AlertBoard, AlertGroupDirectory, AlertStore, AuditLog, Clock, Heartbeats, Logger, OnCallDirectory, Silencer } from './ports';
import type { AlertGroup, AlertGroupSummary, AlertNotification } from './model/alerts';
import type { OnCallLevel } from './model/oncall';
import { ONCALL_LEVELS } from './rotation';
import { kindOf } from './policy';
import { displayName, type Team } from './team';

/**
 * Alertmanager's notifications, as the runbooks promise: one message per alert group, edited as its alerts fire
 * and resolve; only the paging stacks' critical alerts page (L1, through the escalation policy); warnings are
 * posted; `none` and `info` are kept but not posted. A resend (every group and repeat interval) changes nothing.
 * The `Watchdog` of each cluster is a heartbeat: when it stops, "monitoring is silent" pages like a critical alert.
 */

export interface AlertSettings {
  /** Each stack's `cluster` label (infra/Pulumi.<stack>.yaml `cockpit:cluster.name`): the one place names map to stacks. */
  clusters: Record<string, string>;
  /** Alerts channel per stack; the team's alerts channel when absent. */
  channels: Record<string, string>;
  /** Which alerts page, and whom. */
  paging: { stacks: string[]; severities: string[]; level: OnCallLevel };
  /** Roles that may silence alerts beside the people on call. */
  silencers: string[];
  /** A cluster whose Watchdog was not heard for this long is silent; 0 turns the check off. */
  heartbeatSilentAfterMinutes: number;
  /** Above this many new groups a minute in one channel, new groups go into one storm digest. */
  stormGroupsPerMinute: number;
  /** How long Silence 1h silences. */
  silenceMinutes: number;
}

/** The severities that are kept but never shown. */
const QUIET_SEVERITIES = new Set(['none', 'info']);

export function alertSettings(team: Team): AlertSettings {
  if (team.alerts) return team.alerts;
  const stacks = Object.keys(team.stacks);
  // The end of the promotion chain is production: its critical alerts page (runbooks/on-call.md).
  const production = stacks.filter((s) => !stacks.some((o) => team.stacks[o]!.promotesFrom === s) && team.stacks[s]!.promotesFrom !== undefined);
  return {
    clusters: Object.fromEntries(stacks.map((s) => [s, `cockpit-${team.stacks[s]!.pulumiStack}`])),
    channels: {},
    paging: { stacks: production, severities: ['critical'], level: 'L1' },
    silencers: ['sre'],
    heartbeatSilentAfterMinutes: 5,
    stormGroupsPerMinute: 10,
    silenceMinutes: 60,
  };
}

/** Which stacks a webhook token speaks for. */
export type TokenScope = { stacks: readonly string[] };

export type ReceiveOutcome =
  | { kind: 'heartbeat'; stack: string }
  | { kind: 'group'; groupId: string; created: boolean; changed: number; shown: boolean; paged: boolean };

export interface AlertIntakeDeps {
  team: Team;
  store: AlertStore;
  heartbeats: Heartbeats;
  board: AlertBoard;
  pager: PagerService;
  directory: OnCallDirectory;
  silencer: Silencer;
  policy: Policy;
  audit: AuditLog;
  clock: Clock;
  log: Logger;
  /** Counts every alert of every accepted body (cockpit_alerts_received_total{status}). */
  countReceived?(status: 'firing' | 'resolved', n: number): void;
}

export const HEARTBEAT_RECEIVER = 'cockpit-heartbeat';

export function groupIdOf(stack: string, groupKey: string): string {
  return createHash('sha256').update(`${stack}\0${groupKey}`).digest('hex').slice(0, 20);
}

export class AlertIntake implements AlertGroupDirectory {
  readonly settings: AlertSettings;
  private readonly stackOfCluster: Map<string, string>;

  constructor(private readonly deps: AlertIntakeDeps) {
    this.settings = alertSettings(deps.team);
    this.stackOfCluster = new Map(Object.entries(this.settings.clusters).map(([stack, cluster]) => [cluster, stack]));
  }

  /** The stack a cluster label names, if any. */
  stackOf(cluster: string): string | undefined {
    return this.stackOfCluster.get(cluster);
  }

  channelOf(stack: string): string {
    return this.settings.channels[stack] ?? this.deps.team.channels.alerts;
  }

  /** Whether a group of this stack and severity pages (only prod's critical alerts, by default). */
  pages(stack: string, severity: string): boolean {
    return this.settings.paging.stacks.includes(stack) && this.settings.paging.severities.includes(severity);
  }

  /**
   * Takes one validated notification from a sender the token vouches for. The cluster label of the group and of
   * every alert must name a stack the token speaks for: a dev token cannot post prod's alerts.
   */
  async receive(notification: AlertNotification, scope: TokenScope, requestId: string): Promise<ReceiveOutcome> {
    const stack = this.authorisedStack(notification, scope);
    const now = this.deps.clock.now();
    const cluster = this.settings.clusters[stack]!;
    const firing = notification.alerts.filter((a) => a.status === 'firing').length;
    this.deps.countReceived?.('firing', firing);
    this.deps.countReceived?.('resolved', notification.alerts.length - firing);

    if (notification.receiver === HEARTBEAT_RECEIVER) {
      await this.deps.heartbeats.beat(stack, cluster, now);
      await this.clearSilence(stack, requestId);
      return { kind: 'heartbeat', stack };
    }

    const labels = notification.commonLabels;
    const id = groupIdOf(stack, notification.groupKey);
    const severity = labels.severity ?? notification.alerts[0]?.labels.severity ?? 'warning';
    const result = await this.deps.store.apply(
      {
        id,
        stack,
        cluster,
        groupKey: notification.groupKey,
        receiver: notification.receiver,
        alertname: labels.alertname ?? notification.groupLabels.alertname ?? notification.alerts[0]?.labels.alertname ?? 'alert',
        severity,
        groupLabels: notification.groupLabels,
        commonLabels: labels,
        commonAnnotations: notification.commonAnnotations,
        externalUrl: notification.externalUrl,
        truncatedAlerts: notification.truncatedAlerts,
        channel: this.channelOf(stack),
      },
      notification.alerts,
      now,
    );
    const { group } = result;
    const moved = result.created || result.changed > 0 || result.statusChanged;
    if (!moved) return { kind: 'group', groupId: id, created: false, changed: 0, shown: false, paged: false };

    const shown = !QUIET_SEVERITIES.has(severity);
    let paged = false;
    if (this.pages(stack, severity)) {
      if (group.status === 'firing') {
        const { pageId } = await this.deps.pager.page({
          target: { kind: 'level', level: this.settings.paging.level },
          summary: `${group.alertname} on ${stack}: ${group.commonAnnotations.summary ?? `${group.firing} firing`}`,
          source: { kind: 'alert', ref: id },
          raisedBy: 'alertmanager',
          requestId,
        });
        paged = true;
        if (group.pageId !== pageId) await this.deps.store.setPage(id, pageId);
      } else if (group.pageId) {
        await this.deps.pager.resolveSource({ kind: 'alert', ref: id }, 'alertmanager', requestId);
      }
    }
    if (shown) await this.deps.board.changed(id);
    return { kind: 'group', groupId: id, created: result.created, changed: result.changed, shown, paged };
  }

  /** The stack the notification belongs to, if the token may speak for it; NotAllowedError otherwise. */
  private authorisedStack(notification: AlertNotification, scope: TokenScope): string {
    const clusters = new Set<string>();
    const groupCluster = notification.commonLabels.cluster ?? notification.groupLabels.cluster;
    if (groupCluster !== undefined) clusters.add(groupCluster);
    for (const alert of notification.alerts) clusters.add(alert.labels.cluster ?? '');
    if (clusters.size !== 1 || clusters.has('')) {
      throw new NotAllowedError(clusters.has('') ? 'an alert has no cluster label' : `the alerts name several clusters: ${[...clusters].join(', ')}`);
    }
    const cluster = [...clusters][0]!;
    const stack = this.stackOf(cluster);
    if (!stack) throw new NotAllowedError(`cluster "${cluster}" is no stack of cockpit.yml (alerts.clusters)`);
    if (!scope.stacks.includes(stack)) throw new NotAllowedError(`this token is not ${stack}'s: it may not send alerts of cluster "${cluster}"`);
    return stack;
  }

  async get(id: string): Promise<AlertGroupSummary | undefined> {
    const group = await this.deps.store.get(id);
    if (!group) return undefined;
    const responders = new Set<string>();
    if (group.acknowledgedBy) responders.add(group.acknowledgedBy);
    if (group.pageId) for (const p of (await this.deps.pager.get(group.pageId))?.responders ?? []) responders.add(p);
    return {
      id: group.id,
      cluster: group.cluster,
      stack: group.stack,
      alertname: group.alertname,
      severity: group.severity,
      status: group.status,
      labels: group.commonLabels,
      summary: group.commonAnnotations.summary,
      startsAt: group.firstSeenAt,
      customerImpact: customerImpact(group),
      responders: [...responders],
    };
  }

  async group(id: string): Promise<AlertGroup> {
    const group = await this.deps.store.get(id);
    if (!group) throw new NotFoundError('That alert group is no longer known.');
    return group;
  }

  /** Acknowledge on an alert group's message: owns the group, and acknowledges its page when it has one. */
  async acknowledge(id: string, meta: RequestMeta): Promise<{ group: AlertGroup; already: boolean }> {
    const group = await this.group(id);
    if (group.acknowledgedBy === meta.actor.id) return { group, already: true };
    if (group.acknowledgedBy) throw new InputError(`Already acknowledged by <@${group.acknowledgedBy}>.`);
    const page = group.pageId ? await this.deps.pager.get(group.pageId) : undefined;
    if (page && page.status === 'triggered') {
      await this.deps.pager.acknowledge(page.id, meta);
    } else {
      const onCall = await this.isOnCall(meta.actor.id);
      await this.deps.policy.mayOnCall('acknowledge', { onCall, paged: page?.responders.includes(meta.actor.id) ?? false }, meta, `alert:${id}`);
    }
    const first = await this.deps.store.acknowledge(id, meta.actor.id, this.deps.clock.now());
    if (first) await this.record(meta, 'alert.acknowledge', id, {});
    await this.deps.board.changed(id);
    return { group: await this.group(id), already: !first };
  }

  /** Silence 1h: a silence in the group's own Alertmanager, matching the labels the group is grouped by. */
  async silence(id: string, meta: RequestMeta): Promise<AlertGroup> {
    const group = await this.group(id);
    const onCall = await this.isOnCall(meta.actor.id);
    await this.deps.policy.mayOnCall('silence', { onCall, pagingStack: this.settings.paging.stacks.includes(group.stack) }, meta, `alert:${id}`);
    if (group.silence && group.silence.until.getTime() > this.deps.clock.now().getTime()) {
      throw new InputError(`Already silenced by <@${group.silence.by}> until ${group.silence.until.toISOString().slice(11, 16)} UTC.`);
    }
    const matchers = Object.keys(group.groupLabels).length > 0 ? group.groupLabels : group.commonLabels;
    if (Object.keys(matchers).length === 0) throw new InputError('This group has no labels to match: silence it in Alertmanager.');
    const now = this.deps.clock.now();
    const until = new Date(now.getTime() + this.settings.silenceMinutes * 60_000);
    const who = displayName(this.deps.team, meta.actor.id);
    const { silenceId } = await this.deps.silencer.create({
      alertmanagerUrl: group.externalUrl,
      matchers: { ...matchers, cluster: group.cluster },
      startsAt: now,
      endsAt: until,
      createdBy: `${who} (via Cockpit)`,
      comment: `Silenced from Slack by ${who} for ${this.settings.silenceMinutes} minutes (${meta.requestId}).`,
    });
    await this.deps.store.setSilence(id, { id: silenceId, by: meta.actor.id, until });
    await this.record(meta, 'alert.silence', id, { silenceId, until: until.toISOString(), matchers });
    await this.deps.board.changed(id);
    return this.group(id);
  }

  /**
   * The heartbeat check (every minute): a cluster whose Watchdog stopped is silent, which pages like a critical
   * alert where its alerts page and is posted elsewhere; it clears when the beats come back.
   */
  async checkHeartbeats(requestId: string): Promise<string[]> {
    const after = this.settings.heartbeatSilentAfterMinutes;
    if (after <= 0) return [];
    const now = this.deps.clock.now();
    const silenced: string[] = [];
    for (const beat of await this.deps.heartbeats.list()) {
      const quiet = now.getTime() - beat.lastBeatAt.getTime() > after * 60_000;
      if (!quiet || beat.silentSince) continue;
      // A stack Cockpit tore down on purpose is not silent, it is gone.
      const settings = this.deps.team.stacks[beat.stack];
      if (!settings || kindOf(settings) === 'ephemeral') continue;
      if (!(await this.deps.heartbeats.markSilent(beat.stack, now))) continue;
      silenced.push(beat.stack);
      const text = `Monitoring is silent on ${beat.cluster}: no Watchdog for ${Math.round((now.getTime() - beat.lastBeatAt.getTime()) / 60_000)} minutes.`;
      this.deps.log.warn({ stack: beat.stack, lastBeatAt: beat.lastBeatAt }, 'cluster monitoring is silent');
      await this.deps.board.notice(beat.stack, `:mute: ${text}`);
      if (this.pages(beat.stack, 'critical')) {
        await this.deps.pager.page({ target: { kind: 'level', level: this.settings.paging.level }, summary: `monitoring is silent on ${beat.cluster}`, source: { kind: 'heartbeat', ref: beat.stack }, raisedBy: 'alertmanager', requestId });
      }
    }
    return silenced;
  }

  private async clearSilence(stack: string, requestId: string): Promise<void> {
    if (!(await this.deps.heartbeats.clearSilent(stack))) return;
    const cluster = this.settings.clusters[stack]!;
    this.deps.log.info({ stack }, 'cluster monitoring is back');
    await this.deps.pager.resolveSource({ kind: 'heartbeat', ref: stack }, 'alertmanager', requestId);
    await this.deps.board.notice(stack, `:loud_sound: Monitoring is back on ${cluster}: the Watchdog arrives again.`);
  }

  private async isOnCall(userId: string): Promise<boolean> {
    const all = await Promise.all(ONCALL_LEVELS.map((l) => this.deps.directory.onCall(l)));
    return all.some((people) => people.includes(userId));
  }

  private async record(meta: RequestMeta, action: string, target: string, detail: Record<string, unknown>): Promise<void> {
    await this.deps.audit.record({ requestId: meta.requestId, actor: describeActor(meta.actor), action, target, outcome: 'succeeded', detail });
  }
}

/** Alerts labelled `customer_impact="true"` are ones customers notice now: declaring an incident is suggested at once. */
export function customerImpact(group: Pick<AlertGroup, 'commonLabels'>): boolean {
  return group.commonLabels.customer_impact === 'true';
}
