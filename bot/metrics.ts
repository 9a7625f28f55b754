import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Cockpit's Prometheus metrics, on a registry of its own (no global state: tests build as many as they like). */
export function createMetrics(options: { collectProcessMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.collectProcessMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'cockpit_' });
  return {
    registry,
    commands: new Counter({
      name: 'cockpit_commands_total',
      help: 'Commands handled, by command and outcome (ok, bad_input, refused, error).',
      labelNames: ['command', 'outcome', 'front'] as const,
      registers: [registry],
    }),
    ackLatency: new Histogram({
      name: 'cockpit_slack_ack_seconds',
      help: 'Time from a Slack request reaching Cockpit to its ack; Slack gives up after 3 s.',
      labelNames: ['kind'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    httpRequests: new Counter({
      name: 'cockpit_http_requests_total',
      help: 'HTTP requests by route and status code.',
      labelNames: ['route', 'status'] as const,
      registers: [registry],
    }),
    pageAck: new Histogram({
      name: 'cockpit_page_ack_seconds',
      help: 'Time from a page being raised to its acknowledgement, by the level paged.',
      labelNames: ['level'] as const,
      buckets: [30, 60, 120, 300, 600, 900, 1800, 3600],
      registers: [registry],
    }),
    pages: new Counter({
      name: 'cockpit_pages_total',
      help: 'Pages by level and what happened to them (raised, acknowledged, escalated, resolved, auto_resolved, unanswered).',
      labelNames: ['level', 'outcome'] as const,
      registers: [registry],
    }),
    alertsReceived: new Counter({
      name: 'cockpit_alerts_received_total',
      help: 'Alerts in the Alertmanager bodies Cockpit accepted, by their status (firing, resolved).',
      labelNames: ['status'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
