/**
 * Alertmanager's configuration, as data. Everything goes to Cockpit's webhook; the always-firing Watchdog
 * goes to a receiver of its own so Cockpit can treat it as a heartbeat and notice when it stops.
 */

/** Receiver names Cockpit sees in the webhook body's `receiver` field. */
export const COCKPIT_RECEIVER = 'cockpit';
export const HEARTBEAT_RECEIVER = 'cockpit-heartbeat';
const NULL_RECEIVER = 'null';

export type AlertmanagerConfigArgs = {
  /** Cockpit's Alertmanager webhook, `https://…/hooks/alertmanager`. */
  webhookUrl: string;
  /** Where Watchdog is sent; Cockpit's webhook unless an external dead man's switch is configured. */
  heartbeatUrl: string;
  /** File holding the bearer token, mounted from a Secret so the token never sits in the chart values. */
  bearerTokenFile: string;
};

export function buildAlertmanagerConfig(args: AlertmanagerConfigArgs) {
  const authorization = { type: 'Bearer', credentials_file: args.bearerTokenFile };
  // Cockpit's token goes to Cockpit only: an external dead man's switch gets the beat without it.
  const heartbeatToCockpit = new URL(args.heartbeatUrl).origin === new URL(args.webhookUrl).origin;
  return {
    global: { resolve_timeout: '5m' },
    route: {
      receiver: COCKPIT_RECEIVER,
      group_by: ['alertname', 'namespace', 'cluster'],
      group_wait: '30s',
      group_interval: '5m',
      repeat_interval: '4h',
      routes: [
        {
          receiver: HEARTBEAT_RECEIVER,
          matchers: ['alertname = "Watchdog"'],
          // Sent every minute so a missing beat is noticed within minutes, not hours.
          group_wait: '0s',
          group_interval: '1m',
          repeat_interval: '1m',
        },
        // kube-prometheus-stack's InfoInhibitor only exists to silence info alerts; it is not news.
        { receiver: NULL_RECEIVER, matchers: ['alertname = "InfoInhibitor"'] },
      ],
    },
    inhibit_rules: [
      // A critical alert for the same thing makes its warning noise.
      {
        source_matchers: ['severity = "critical"'],
        target_matchers: ['severity =~ "warning|info"'],
        equal: ['namespace', 'alertname', 'cluster'],
      },
      {
        source_matchers: ['severity = "warning"'],
        target_matchers: ['severity = "info"'],
        equal: ['namespace', 'alertname', 'cluster'],
      },
      { source_matchers: ['alertname = "InfoInhibitor"'], target_matchers: ['severity = "info"'], equal: ['namespace', 'cluster'] },
      // The product's own alerts are narrower copies of these upstream ones; page once, with the product runbook.
      {
        source_matchers: ['alertname = "ProductPodCrashLooping"'],
        target_matchers: ['alertname = "KubePodCrashLooping"'],
        equal: ['namespace', 'pod', 'cluster'],
      },
      // The same certificate close to expiry and about to expire: one alert, the critical one. Their names differ,
      // so the severity rule above (same alertname) does not cover them.
      {
        source_matchers: ['alertname = "CertificateExpiryImminent"'],
        target_matchers: ['alertname = "CertificateExpiringSoon"'],
        equal: ['namespace', 'name', 'cluster'],
      },
      {
        source_matchers: ['alertname =~ "ProductVolumeFillingUp|ProductVolumeAlmostFull"'],
        target_matchers: ['alertname = "KubePersistentVolumeFillingUp"'],
        equal: ['namespace', 'persistentvolumeclaim', 'cluster'],
      },
    ],
    receivers: [
      {
        name: COCKPIT_RECEIVER,
        webhook_configs: [{ url: args.webhookUrl, send_resolved: true, http_config: { authorization } }],
      },
      {
        name: HEARTBEAT_RECEIVER,
        // A "resolved" Watchdog means Prometheus stopped evaluating; a dead man's switch must see silence then,
        // not one more request it would count as a beat.
        webhook_configs: [
          { url: args.heartbeatUrl, send_resolved: false, ...(heartbeatToCockpit ? { http_config: { authorization } } : {}) },
        ],
      },
      { name: NULL_RECEIVER },
    ],
  };
}

export type AlertmanagerConfig = ReturnType<typeof buildAlertmanagerConfig>;
