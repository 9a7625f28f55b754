import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * Bolt and Octokit take a good part of a second and tens of MB to load; the console and the CLI must start
 * without them. Checked in a fresh Node process (jest's module registry is not Node's), by what is in
 * `require.cache` once Cockpit is built, not by a clock.
 */
const root = join(__dirname, '..', '..');

function loadedAfterBuilding(env: Record<string, string>): { bolt: boolean; octokit: boolean; kubernetes: boolean; pulumi: boolean; demo: boolean } {
  const script = `
    const { createCockpit } = require('./bot/cockpit');
    const { loadConfig } = require('./bot/config');
    const { loadTeamConfig } = require('./bot/teamConfig');
    const { createLogger } = require('./bot/log');
    const loaded = (name) => Object.keys(require.cache).some((k) => k.includes('/node_modules/' + name + '/'));
    const config = { ...loadConfig(${JSON.stringify(env)}), store: { kind: 'sqlite', file: ':memory:' } };
    createCockpit(config, loadTeamConfig('cockpit.yml'), { log: createLogger({ level: 'silent' }) })
      .then(async (cockpit) => {
        const demo = Object.keys(require.cache).some((k) => k.includes('/bot/demo/'));
        const found = { bolt: loaded('@slack/bolt'), octokit: loaded('@octokit/rest') || loaded('@octokit/core'), kubernetes: loaded('@kubernetes/client-node'), pulumi: loaded('@pulumi/pulumi'), demo };
        await cockpit.close();
        console.log(JSON.stringify(found));
      });
  `;
  return JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root, encoding: 'utf8' })) as { bolt: boolean; octokit: boolean; kubernetes: boolean; pulumi: boolean; demo: boolean };
}

describe('what building Cockpit loads', () => {
  it('the console (no Slack, no GitHub) loads neither Bolt, Octokit, the Kubernetes client nor Pulumi, and never the demo adapters', () => {
    expect(loadedAfterBuilding({})).toEqual({ bolt: false, octokit: false, kubernetes: false, pulumi: false, demo: false });
  });

  it('Slack loads Bolt; GitHub loads Octokit', () => {
    const slack = { SLACK_BOT_TOKEN: 'xoxb-load', SLACK_SIGNING_SECRET: 'load-secret', SLACK_BOT_ID: 'B0LOAD', SLACK_BOT_USER_ID: 'U0LOAD' };
    expect(loadedAfterBuilding(slack)).toMatchObject({ bolt: true, demo: false });
    expect(loadedAfterBuilding({ GITHUB_REPO: 'acme/infra', GITHUB_TOKEN: 'load-token' }).octokit).toBe(true);
  });
});
