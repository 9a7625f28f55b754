import { createCockpit, type Cockpit, type CockpitDeps } from '../../bot/cockpit';
import type { SlackTiming } from '../../bot/config';
import { startFakeSlackApi, type FakeSlackApi } from '../fakes/slackApi';
import { exampleTeam, memoryLogger, slackTestConfig } from '../helpers';
import { Teardown } from '../teardown';

export const RIG_SIGNING_SECRET = 'rig-signing-secret';
export const RIG_BOT_TOKEN = 'xoxb-rig-0000';

export interface SlackRig {
  fake: FakeSlackApi;
  cockpit: Cockpit;
  /** http://127.0.0.1:<port> */
  base: string;
  /** `{ url, signingSecret }` for the senders of fakes/slackSigned.ts, pointed at /slack/events. */
  signed: { url: string; signingSecret: string };
  logger: ReturnType<typeof memoryLogger>;
}

export interface RigSetup {
  /** More environment for loadConfig, e.g. SLACK_TEAM_ID, GITHUB_*. */
  env?: NodeJS.ProcessEnv;
  timing?: Partial<SlackTiming>;
  deps?: Omit<Partial<CockpitDeps>, 'log'>;
}

/**
 * Cockpit over HTTP against a fresh fake Slack, registered in the calling describe: started before its tests,
 * checked for contract violations and reset after each, closed at the end. `setup` runs after the fake Slack is
 * up (so it can start other fakes and name their URLs). Read the rig's fields inside tests and hooks.
 */
export function useSlackCockpit(setup: () => Promise<RigSetup> | RigSetup = () => ({}), logLevel = 'info'): SlackRig {
  const rig = { logger: memoryLogger(logLevel) } as SlackRig;
  const opened = new Teardown();
  beforeAll(async () => {
    rig.fake = opened.add(await startFakeSlackApi({ token: RIG_BOT_TOKEN }));
    const { env, timing, deps } = await setup();
    const config = slackTestConfig(rig.fake.url, { botToken: RIG_BOT_TOKEN, signingSecret: RIG_SIGNING_SECRET }, env);
    rig.cockpit = opened.add(await createCockpit({ ...config, slack: { ...config.slack!, timing } }, exampleTeam(), { ...deps, log: rig.logger.log }));
    rig.base = `http://127.0.0.1:${await rig.cockpit.listen('127.0.0.1')}`;
    rig.signed = { url: `${rig.base}/slack/events`, signingSecret: RIG_SIGNING_SECRET };
  });
  afterEach(() => {
    rig.fake.assertNoViolations();
    rig.fake.reset();
  });
  // The fake Slack is closed even when Cockpit's close fails, or its server keeps jest alive.
  afterAll(() => opened.run());
  return rig;
}
