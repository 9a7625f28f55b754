import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ConfigError, loadConfig } from '../../bot/config';
import { scopeOf } from '../../bot/http/alertmanagerHook';
import { parseTeamConfig, TeamConfigError } from '../../bot/teamConfig';
import { exampleTeam } from '../helpers';

const example = readFileSync(join(__dirname, '..', '..', 'cockpit.yml'), 'utf8');

function problems(text: string): string[] {
  try {
    parseTeamConfig(text, 'cockpit.yml');
  } catch (err) {
    if (err instanceof TeamConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('the on-call sections of the team file', () => {
  test('the shipped file has rotations for every level, the runbook’s escalation, and a cluster per stack', () => {
    const team = exampleTeam();
    expect(team.oncall?.rotations.map((r) => r.level)).toEqual(['L1', 'L2', 'L3']);
    expect(team.escalation?.policies.default?.map((s) => [s.notify, s.waitMinutes])).toEqual([
      [{ kind: 'level', level: 'L1' }, 5],
      [{ kind: 'level', level: 'L2' }, 10],
      [{ kind: 'level', level: 'L3' }, 15],
      [{ kind: 'everyone' }, 0],
    ]);
    expect(team.alerts?.paging).toEqual({ stacks: ['prod'], severities: ['critical'], level: 'L1' });
  });

  test('the clusters named are infra’s: each stack’s cockpit:cluster.name in infra/Pulumi.<stack>.yaml', () => {
    const team = exampleTeam();
    for (const [stack, settings] of Object.entries(team.stacks)) {
      const file = parse(readFileSync(join(__dirname, '..', '..', 'infra', `Pulumi.${settings.pulumiStack}.yaml`), 'utf8')) as { config: Record<string, { name?: string }> };
      expect(`${stack}: ${team.alerts?.clusters[stack]}`).toBe(`${stack}: ${file.config['cockpit:cluster']?.name}`);
    }
  });

  test('refuses, with file and line, a rotation that puts one person on two levels at once', () => {
    const clash = example.replace('members: [U0ALICE001, U0BOB00001]', 'members: [U0BOB00001, U0ALICE001]');
    const found = problems(clash);
    expect(found).toHaveLength(3);
    expect(found[0]).toMatch(/^cockpit\.yml:\d+: oncall\.rotations: Bob would be on call at L1 and L2 at once from Mon 5 Jan 10:00 \(Europe\/Paris\)/);
  });

  test('refuses unknown people, policies, stacks and bad durations', () => {
    expect(problems(example.replace('members: [U0CAROL001, U0ALICE001, U0BOB00001, U0CAROL001]', 'members: [U0NOBODY01]'))).toEqual([
      expect.stringMatching(/oncall\.rotations\.L3\.layers\.0\.members\.0: U0NOBODY01 is not in people/),
    ]);
    expect(problems(example.replace('{ notify: L2, wait: 10m }', '{ notify: L2, wait: soon }'))[0]).toMatch(/escalation\.policies\.default\.1\.wait: must be a duration/);
    expect(problems(example.replace('{ notify: L2, wait: 10m }', '{ notify: L2 }'))[0]).toMatch(/a step before the last needs a wait/);
    expect(problems(example.replace('stacks: [prod]', 'stacks: [production]'))[0]).toMatch(/alerts\.paging\.stacks\.0: names unknown stack "production"/);
    expect(problems(example.replace('staging: cockpit-staging', 'staging: cockpit-prod'))[0]).toMatch(/cockpit-prod is prod's cluster already|cockpit-prod is staging's cluster already/);
  });
});

describe('Alertmanager tokens in the environment', () => {
  test('one token per stack, and the single token of old', () => {
    const config = loadConfig({ ALERTMANAGER_WEBHOOK_TOKENS: 'dev=dev-token-0123456789abc, staging=staging-token-0123456789', ALERTMANAGER_WEBHOOK_TOKEN: 'single-token-0123456789' });
    expect(config.alertmanager.tokens).toEqual({ perStack: { dev: 'dev-token-0123456789abc', staging: 'staging-token-0123456789' }, any: 'single-token-0123456789' });
  });

  test('a stack’s token speaks for that stack; the single token for the stacks no per-stack token names', () => {
    const stacks = ['dev', 'integration', 'staging', 'prod'];
    const tokens = { perStack: { dev: 'dev-token-0123456789abc', staging: 'staging-token-0123456789' }, any: 'prod-token-0123456789' };
    expect(scopeOf(tokens, 'dev-token-0123456789abc', stacks)).toEqual({ stacks: ['dev'] });
    expect(scopeOf(tokens, 'prod-token-0123456789', stacks)).toEqual({ stacks: ['integration', 'prod'] });
    expect(scopeOf({ perStack: {}, any: 'prod-token-0123456789' }, 'prod-token-0123456789', stacks)).toEqual({ stacks });
    expect(scopeOf(tokens, 'dev-token-0123456789ab', stacks)).toBeUndefined();
    expect(scopeOf(tokens, undefined, stacks)).toBeUndefined();
  });

  test('a malformed entry is refused without printing the token', () => {
    try {
      loadConfig({ ALERTMANAGER_WEBHOOK_TOKENS: 'dev:short-secret-value' });
      throw new Error('accepted');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toContain('ALERTMANAGER_WEBHOOK_TOKENS');
      expect((err as Error).message).not.toContain('short-secret-value');
    }
  });
});
