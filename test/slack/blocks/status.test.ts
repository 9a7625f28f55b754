import { statusReply } from '../../../bot/slack/blocks/status';
import type { StatusReport } from '../../../handlers/status';

const report = (services: StatusReport['services']): StatusReport => ({
  version: '1.2.3',
  stacks: [],
  store: { dialect: 'sqlite', reachable: true, migrationsApplied: 3, migrationsPending: 0 },
  engine: { available: false, reason: 'the Pulumi CLI is not installed', install: 'curl -fsSL https://get.pulumi.com | sh' },
  services,
  generatedAt: new Date('2026-05-20T09:00:00Z'),
});

describe('statusReply', () => {
  it('shows each service up or down with what was seen, escaped for mrkdwn', () => {
    const reply = statusReply(
      report([
        { name: 'Slack', health: { up: true, detail: 'bot U0COCKPIT1 in Acme' } },
        { name: 'GitHub', health: { up: false, detail: 'GitHub answered 502 <html> & more' } },
      ]),
    );
    const fields = JSON.stringify(reply.blocks);
    expect(fields).toContain('*Slack*\\n:large_green_circle: up: bot U0COCKPIT1 in Acme');
    expect(fields).toContain('*GitHub*\\n:red_circle: down: GitHub answered 502 &lt;html&gt; &amp; more');
    expect(fields).toContain('*Deploy engine*\\n:red_circle: unavailable: the Pulumi CLI is not installed');
    expect(reply.text).toBe('Cockpit 1.2.3: 0 stacks, store ok, Slack up, GitHub down');
  });

  it('shows no service line when none is probed', () => {
    expect(JSON.stringify(statusReply(report([])).blocks)).not.toContain('Slack');
  });
});
