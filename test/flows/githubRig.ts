import { createCockpit, type Cockpit, type CockpitDeps } from '../../bot/cockpit';
import { fromConfig as githubFromConfig } from '../../bot/integrations/github';
import type { Team } from '../../handlers/team';
import { FAKE_GITHUB_TOKEN, FakeGitHub } from '../fakes/github';
import { deliverWebhook } from '../fakes/githubWebhooks';
import { FakeInfraEngine } from '../fakes/pulumiEngine';
import { startFakeSlackApi, type FakeSlackApi } from '../fakes/slackApi';
import { exampleTeam, memoryLogger, slackTestConfig } from '../helpers';
import { FAST } from '../integrations/github/setup';
import { Teardown } from '../teardown';

export const RIG_SIGNING_SECRET = 'github-rig-signing';
export const RIG_WEBHOOK_SECRET = 'github-rig-webhook-secret';
const BOT_TOKEN = 'xoxb-github-rig';

export interface GitHubRig {
  github: FakeGitHub;
  slack: FakeSlackApi;
  engine: FakeInfraEngine;
  cockpit: Cockpit;
  /** http://127.0.0.1:<port> */
  base: string;
  /** Posts a delivery signed as GitHub signs it, and waits for the work it started. */
  deliver(event: string, payload: unknown, options?: { deliveryId?: string; secret?: string; signature?: string }): Promise<Response>;
}

export interface GitHubRigSetup {
  team?: Team;
  /** More of Cockpit's deps (a clock, a pager, drill timing); the engine and code host are the rig's. */
  deps?: Omit<Partial<CockpitDeps>, 'log' | 'engine' | 'codeHost'>;
  /** Files committed on master before the stack branches are cut from it. */
  masterFiles?: Record<string, string>;
}

/**
 * Cockpit over HTTP against the spec-checked fake GitHub (the infra repo acme/infra, with branches staging,
 * integration and dev off master) and the fake Slack, registered in the calling describe: built before its tests,
 * checked for contract violations after each, closed at the end, also when a step of its setup failed.
 */
export function useGitHubCockpit(setup: () => GitHubRigSetup | Promise<GitHubRigSetup> = () => ({})): GitHubRig {
  const rig = {} as GitHubRig;
  const opened = new Teardown();
  beforeAll(async () => {
    rig.github = opened.add(await FakeGitHub.start({ owner: 'acme', repo: 'infra' }));
    rig.slack = opened.add(await startFakeSlackApi({ token: BOT_TOKEN }));
    // Called once the fakes are up, so a suite can start more of them (a cluster) for its team file.
    const { team, deps, masterFiles } = await setup();
    if (masterFiles) rig.github.commit('master', { message: 'Stack files', files: masterFiles });
    for (const branch of ['staging', 'integration', 'dev']) rig.github.createBranch(branch, 'master');
    rig.engine = new FakeInfraEngine();
    const config = slackTestConfig(
      rig.slack.url,
      { botToken: BOT_TOKEN, signingSecret: RIG_SIGNING_SECRET },
      { GITHUB_REPO: 'acme/infra', GITHUB_TOKEN: FAKE_GITHUB_TOKEN, GITHUB_API_URL: rig.github.url, GITHUB_WEBHOOK_SECRET: RIG_WEBHOOK_SECRET },
    );
    const log = memoryLogger('warn').log;
    // The real adapter with GitHub's one-second write spacing shrunk, as every GitHub test here does.
    const codeHost = githubFromConfig(config.github!, { log, timing: FAST });
    rig.cockpit = opened.add(await createCockpit(config, team ?? exampleTeam(), { ...deps, log, engine: rig.engine, codeHost, progressIntervalMs: 10 }));
    rig.base = `http://127.0.0.1:${await rig.cockpit.listen('127.0.0.1')}`;
    rig.deliver = async (event, payload, options = {}) => {
      const res = await deliverWebhook(rig.base, RIG_WEBHOOK_SECRET, event, payload, options);
      await rig.cockpit.idle();
      return res;
    };
  });
  afterEach(async () => {
    await rig.cockpit?.idle();
    rig.github?.assertNoViolations();
    rig.slack?.assertNoViolations();
  });
  afterAll(() => opened.run());
  return rig;
}
