import type { Button, KnownBlock } from '@slack/types';
import { customerImpact } from '../../../handlers/alerts';
import type { AlertGroup, StoredAlert } from '../../../handlers/model/alerts';
import type { Page } from '../../../handlers/model/oncall';
import { ACTIONS } from '../ids';
import { pageStateLine } from './page';
import { actions, button, context, escapeMrkdwn, mention, section, truncate, type Reply } from './reply';

/**
 * An alert group's one message, edited in place as its alerts fire and resolve, and the storm digest that
 * stands for many groups when a channel gets more than Slack (or a person) can follow.
 */

/** How many alerts a group's message lists; the rest are counted. */
export const ALERTS_SHOWN = 5;

/** Labels that say where an alert comes from rather than what is wrong; left out of the per-alert line. */
const NOISE = new Set(['prometheus', 'endpoint', 'job', 'service', 'instance', 'uid', 'customer_impact', 'level', 'severity', 'alertname', 'cluster']);

const ICON: Record<string, string> = { critical: ':rotating_light:', warning: ':warning:', info: ':information_source:', none: ':information_source:' };

/** A link only when it is a web URL: a label value from the sender never becomes a `javascript:` or mention trick. */
function link(url: string | undefined, label: string): string | undefined {
  if (!url || !/^https?:\/\/[^\s<>|]+$/.test(url) || url.length > 2000) return undefined;
  return `<${url}|${label}>`;
}

function alertLine(alert: StoredAlert, group: AlertGroup): string {
  const summary = alert.annotations.summary ?? alert.annotations.description ?? alert.labels.alertname ?? 'alert';
  const distinct = Object.entries(alert.labels)
    .filter(([k, v]) => !NOISE.has(k) && group.commonLabels[k] !== v)
    .slice(0, 6)
    .map(([k, v]) => `\`${escapeMrkdwn(k)}=${escapeMrkdwn(truncate(v, 80))}\``)
    .join(' ');
  const links = [link(alert.annotations.runbook_url, 'runbook'), link(alert.generatorUrl, 'source')].filter(Boolean).join(' · ');
  const state = alert.status === 'firing' ? ':red_circle:' : ':large_green_circle:';
  return `${state} ${escapeMrkdwn(truncate(summary, 300))}${distinct ? `\n${distinct}` : ''}${links ? `\n${links}` : ''}`;
}

export function alertGroupReply(view: { group: AlertGroup; alerts: StoredAlert[]; page?: Page; now: Date }): Reply {
  const { group, alerts, page, now } = view;
  const firing = group.status === 'firing';
  const icon = firing ? (ICON[group.severity] ?? ':warning:') : ':white_check_mark:';
  const where = `${group.stack} (${group.cluster})`;
  const title = `${icon} *${escapeMrkdwn(group.alertname)}* on ${escapeMrkdwn(where)} · ${escapeMrkdwn(group.severity)}${firing ? '' : ' · resolved'}`;
  const counts = [`${group.firing} firing`, `${group.resolved} resolved`];
  if (group.truncatedAlerts > 0) counts.push(`+${group.truncatedAlerts} more Alertmanager did not send`);
  const blocks: KnownBlock[] = [section(title), context(counts.join(' · '))];
  if (customerImpact(group) && firing) blocks.push(section(':busts_in_silhouette: *Customers notice this.* Declare a public incident now (runbooks/incident-management.md).'));
  const shown = alerts.slice(0, ALERTS_SHOWN);
  if (shown.length > 0) blocks.push(section(shown.map((a) => alertLine(a, group)).join('\n\n')));
  const listed = group.firing + group.resolved;
  if (listed > shown.length) blocks.push(context(`${listed - shown.length} more in this group.`));
  const runbook = link(group.commonAnnotations.runbook_url, 'Runbook');
  if (runbook) blocks.push(context(runbook));
  const status: string[] = [];
  if (group.acknowledgedBy) status.push(`:eyes: Acknowledged by ${mention(group.acknowledgedBy)} at ${group.acknowledgedAt?.toISOString().slice(11, 16)} UTC`);
  if (group.silence) {
    const active = group.silence.until.getTime() > now.getTime();
    status.push(`:mute: ${active ? 'Silenced' : 'Was silenced'} by ${mention(group.silence.by)} until ${group.silence.until.toISOString().slice(11, 16)} UTC (silence ${group.silence.id.slice(0, 8)})`);
  }
  if (page) status.push(`:pager: ${page.target.kind === 'level' ? page.target.level : 'page'} ${page.id}: ${pageStateLine(page, now)}`);
  if (status.length > 0) blocks.push(context(...status));
  const buttons: Button[] = [];
  if (firing && !group.acknowledgedBy) buttons.push(button('Acknowledge', ACTIONS.alertAcknowledge, group.id, 'primary'));
  if (firing && !(group.silence && group.silence.until.getTime() > now.getTime())) buttons.push(button('Silence 1h', ACTIONS.alertSilence, group.id));
  buttons.push(button('Declare incident', ACTIONS.alertDeclareIncident, group.id, customerImpact(group) && firing ? 'danger' : undefined));
  blocks.push(actions(`alert_${group.id}`, ...buttons));
  const text = `${firing ? escapeMrkdwn(group.severity.toUpperCase()) : 'RESOLVED'} ${escapeMrkdwn(group.alertname)} on ${group.stack}: ${group.firing} firing`;
  return { text, visibility: 'in_channel', blocks };
}

/** One message for a storm: counts by severity and cluster and the top alert names, edited as groups arrive. */
export function stormDigestReply(groups: AlertGroup[], since: Date): Reply {
  const count = (key: (g: AlertGroup) => string) => {
    const m = new Map<string, number>();
    for (const g of groups) m.set(key(g), (m.get(key(g)) ?? 0) + 1);
    return [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  };
  const list = (entries: Array<[string, number]>, limit: number) => entries.slice(0, limit).map(([k, n]) => `${escapeMrkdwn(k)} ${n}`).join(' · ');
  const firing = groups.filter((g) => g.status === 'firing').length;
  return {
    text: `Alert storm: ${groups.length} groups since ${since.toISOString().slice(11, 16)} UTC`,
    visibility: 'in_channel',
    blocks: [
      section(`:cyclone: *Alert storm*: ${groups.length} new groups since ${since.toISOString().slice(11, 16)} UTC, ${firing} still firing. One digest instead of a message each.`),
      section(`*By severity* ${list(count((g) => g.severity), 5)}\n*By cluster* ${list(count((g) => g.cluster), 5)}\n*Top alerts* ${list(count((g) => g.alertname), 8)}`),
      context('Every group is kept, and critical ones still page.'),
    ],
  };
}

export function alertNoticeReply(text: string): Reply {
  return { text, visibility: 'in_channel', blocks: [section(escapeMrkdwn(text).replace(/^:(\w+):/, ':$1:'))] };
}

export function alertDoneReply(group: AlertGroup, what: 'acknowledged' | 'silenced', already: boolean): Reply {
  const until = what === 'silenced' && group.silence ? ` until ${group.silence.until.toISOString().slice(11, 16)} UTC` : '';
  return { text: `${group.alertname} ${what}`, visibility: 'ephemeral', blocks: [section(already ? `You ${what} ${escapeMrkdwn(group.alertname)} already.` : `:ok_hand: ${escapeMrkdwn(group.alertname)} on ${group.stack} ${what}${until}.`)] };
}
