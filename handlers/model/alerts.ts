/** Alertmanager's alerts and groups as Cockpit keeps them, and the clusters' heartbeats. */

/** An Alertmanager alert group as other capabilities see it (the incident a person declares from it). */
export interface AlertGroupSummary {
  id: string;
  /** The cluster label, e.g. `cockpit-prod`, and the stack it maps to. */
  cluster: string;
  stack?: string;
  alertname: string;
  severity: string;
  status: 'firing' | 'resolved';
  /** The labels common to the group. */
  labels: Record<string, string>;
  summary?: string;
  startsAt: Date;
  customerImpact: boolean;
  /** Slack ids of the people who acknowledged or were paged for it. */
  responders: string[];
}

/** One alert of a webhook notification, vendor-neutral. */
export interface IncomingAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: Date;
  /** Absent while firing without an end (Alertmanager's zero time). */
  endsAt?: Date;
  generatorUrl?: string;
  fingerprint: string;
}

/** What Alertmanager said about one alert group, validated. */
export interface AlertNotification {
  receiver: string;
  status: 'firing' | 'resolved';
  groupKey: string;
  truncatedAlerts: number;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  /** The Alertmanager that sent it: where a silence is created. */
  externalUrl: string;
  alerts: IncomingAlert[];
}

/** An alert group as Cockpit keeps it: one Slack message, edited in place. */
export interface AlertGroup {
  id: string;
  stack: string;
  cluster: string;
  groupKey: string;
  receiver: string;
  alertname: string;
  severity: string;
  status: 'firing' | 'resolved';
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalUrl: string;
  truncatedAlerts: number;
  /** Where it is shown, and the message once posted. */
  channel: string;
  message?: { channel: string; ts: string };
  /** Shown in the channel's storm digest instead of a message of its own. */
  inDigest: boolean;
  firstSeenAt: Date;
  updatedAt: Date;
  /** When it last went from firing to resolved or back. */
  statusChangedAt: Date;
  acknowledgedBy?: string;
  acknowledgedAt?: Date;
  silence?: { id: string; by: string; until: Date };
  pageId?: string;
  firing: number;
  resolved: number;
}

/** An alert as the store keeps it: what the notification said, in its group. */
export interface StoredAlert extends IncomingAlert {
  groupId: string;
}

/** What one notification changed. */
export interface AlertApplyResult {
  group: AlertGroup;
  created: boolean;
  /** Alerts whose state moved (new, fired again, resolved); a resend changes none. */
  changed: number;
  /** The group's own status moved (firing → resolved or back). */
  statusChanged: boolean;
}

/** A cluster's Watchdog heartbeat, as last heard. */
export interface Heartbeat {
  stack: string;
  cluster: string;
  lastBeatAt: Date;
  /** Set while the cluster is silent: since when it was declared so. */
  silentSince?: Date;
}
