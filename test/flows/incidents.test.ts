import { join } from 'node:path';
import { LogLevel, WebClient } from '@slack/web-api';
import type { RequestContext } from '../../bot/commands';
import { incidentsFlow, type IncidentsFlow } from '../../bot/flows/incidents';
import { FileMessageTemplateSource } from '../../bot/integrations/runbooks';
import { IncidentDesk } from '../../handlers/incident';
import { Policy } from '../../handlers/policy';
import { MemoryAuditLog, MemoryIncidentRecords, MemoryOnCall, RecordingPager } from '../fakes/incidentFakes';
import { MemoryDeployPlans } from '../fakes/memoryStores';
import { FAKE_WORKSPACE, startFakeSlackApi, type FakeSlackApi } from '../fakes/slackApi';
import { exampleTeam, manualClock, memoryLogger } from '../helpers';

const alice = 'U0ALICE001';
const carol = 'U0CAROL001';
const MINUTE = 60_000;

/** The flow's scheduled and after-the-fact work, on a manual clock: reminders, deploys told to the channel. */
describe('incidents flow', () => {
  let slack: FakeSlackApi;
  let flow: IncidentsFlow;
  let clock: ReturnType<typeof manualClock>;
  let records: MemoryIncidentRecords;
  const log = memoryLogger('warn').log;
  const ctx = (userId: string): RequestContext => ({ requestId: `r-${userId}`, actor: { id: userId, via: 'slack' }, front: 'slack', log, channelId: 'C0DEPLOYS01' });

  beforeAll(async () => {
    slack = await startFakeSlackApi({ token: FAKE_WORKSPACE.botToken });
  });
  beforeEach(() => {
    clock = manualClock('2026-11-25T12:00:00Z');
    records = new MemoryIncidentRecords(clock);
    const team = exampleTeam();
    const audit = new MemoryAuditLog(clock);
    const desk = new IncidentDesk({
      team,
      policy: new Policy({ team, plans: new MemoryDeployPlans(clock.now), incidents: records, audit, clock }),
      records,
      audit,
      clock,
      templates: new FileMessageTemplateSource({ dir: join(__dirname, '..', '..', 'runbooks') }),
      onCall: new MemoryOnCall(),
      pager: new RecordingPager(),
      forum: { categoryId: 5 },
    });
    const client = new WebClient(FAKE_WORKSPACE.botToken, { slackApiUrl: slack.url, logLevel: LogLevel.ERROR, retryConfig: { retries: 0 } });
    flow = incidentsFlow({ desk, team, clock, log, slack: () => ({ client, botUserId: FAKE_WORKSPACE.botUserId }), runbookUrl: async () => undefined });
  });
  afterEach(() => {
    slack.assertNoViolations();
    slack.reset();
  });
  afterAll(() => slack.close());

  const run = (job: IncidentsFlow['jobs'][number]) => job.run({ slot: clock.now(), requestId: 'r-job', log });

  it('reminds the commander and the communications lead in the channel when a customer update is late', async () => {
    await flow.verbs.incident!({ verb: 'incident', action: 'open', severity: 'SEV1', title: 'Nobody can log in', public: true }, ctx(alice));
    await flow.verbs.incident!({ verb: 'incident', action: 'assign', id: 1, role: 'communications', userId: carol }, ctx(alice));
    const channel = (await records.get(1))!.channelId!;
    const [reminders] = flow.jobs;
    clock.advance(29 * MINUTE);
    await run(reminders!);
    const reminded = () => slack.messagesIn(channel).filter((m) => m.text === 'INC-1: a customer update is due');
    expect(reminded()).toHaveLength(0);
    clock.advance(2 * MINUTE);
    await run(reminders!);
    await run(reminders!); // the next minute's run, before the interval passed again: nothing more
    expect(reminded()).toHaveLength(1);
    expect(JSON.stringify(reminded()[0]!.blocks)).toContain(`<@${alice}> <@${carol}> No customer update on *INC-1* for 31 minutes (SEV1: every 30m)`);
  });

  it('tells the channel of each open incident on a stack when a deploy of it finishes', async () => {
    await flow.verbs.incident!({ verb: 'incident', action: 'open', severity: 'SEV2', title: 'Checkout fails', public: false }, ctx(alice));
    await records.change(1, (await records.get(1))!.version, { stacks: ['prod'] }, { timeline: [], forum: [] });
    await flow.onStackDeployed('prod', { requestId: 'r-hotfix', actor: { id: alice } });
    await flow.onStackDeployed('staging', { requestId: 'r-other', actor: { id: alice } });
    const channel = (await records.get(1))!.channelId!;
    const told = slack.messagesIn(channel).filter((m) => m.text?.includes('A deploy of'));
    expect(told.map((m) => m.text)).toEqual([`INC-1: A deploy of prod just finished (ref r-hotfix, by <@${alice}>); its result is in the deploys channel.`]);
  });
});
