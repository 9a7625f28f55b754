import { PassThrough } from 'node:stream';
import { createCockpit } from '../../bot/cockpit';
import { CommandCore } from '../../bot/commands';
import { loadConfig } from '../../bot/config';
import { renderBlocks, mrkdwnToText } from '../../bot/console/render';
import { findPerson, runConsole } from '../../bot/console/repl';
import { actions, button, context, fields, header, section } from '../../bot/slack/blocks/reply';
import { openStore, type Store } from '../../bot/store/connect';
import { FakeInfraEngine } from '../fakes/pulumiEngine';
import { coreDeps, exampleTeam, manualClock, memoryLogger } from '../helpers';

describe('Block Kit rendered as text', () => {
  test('sections, fields, context, dividers and buttons as numbered choices', () => {
    const out = renderBlocks([
      header('Deploy staging?'),
      section('*3* to create, *1* to replace: `PersistentVolumeClaim data`'),
      fields([
        ['Last drill', '2d ago, passed'],
        ['Freeze', 'none'],
      ]),
      { type: 'divider' },
      context('asked by <@U0ALICE001>', 'ref r-1'),
      actions('confirm', button('Deploy', 'deploy.confirm', '{"id":1}', 'primary'), button('Cancel', 'deploy.cancel', '{"id":1}')),
    ], (id) => (id === 'U0ALICE001' ? 'Alice' : id));
    expect(out.text).toBe(
      [
        'Deploy staging?',
        '===============',
        '3 to create, 1 to replace: PersistentVolumeClaim data',
        'Last drill: 2d ago, passed',
        'Freeze: none',
        '─'.repeat(40),
        'asked by @Alice  ·  ref r-1',
        '[1] Deploy   [2] Cancel',
      ].join('\n'),
    );
    expect(out.choices).toEqual([
      { label: 'Deploy', actionId: 'deploy.confirm', value: '{"id":1}' },
      { label: 'Cancel', actionId: 'deploy.cancel', value: '{"id":1}' },
    ]);
  });

  test('mrkdwn: links, channels, entities, emoji', () => {
    expect(mrkdwnToText('see <https://github.com/x/pull/3|PR #3> in <#C123|deploys> &lt;ok&gt; &amp; :warning: :unknown_emoji:')).toBe(
      'see PR #3 (https://github.com/x/pull/3) in #deploys <ok> & \u26A0 :unknown_emoji:',
    );
  });

  test("Slack's own shortcodes become the emoji Slack would draw", () => {
    // Slack's names (iamcal's emoji-data), which other emoji sets spell differently (:stop_sign:, :green_circle:).
    expect(mrkdwnToText(':octagonal_sign: :large_green_circle: :large_yellow_circle: :red_circle: :white_check_mark: :x: :rocket: :+1: :thumbsup:')).toBe(
      '\u{1F6D1} \u{1F7E2} \u{1F7E1} \u{1F534} \u2705 \u274C \u{1F680} \u{1F44D} \u{1F44D}',
    );
    // A workspace's custom emoji, and text that only looks like one, stay as typed.
    expect(mrkdwnToText(':partyparrot: at 10:30:00')).toBe(':partyparrot: at 10:30:00');
  });
});

describe('the console', () => {
  let store: Store;
  const team = exampleTeam();
  const clock = manualClock();
  beforeEach(async () => {
    store = await openStore({ kind: 'sqlite', file: ':memory:' }, { clock });
  });
  afterEach(() => store.close());

  async function session(lines: string[], core?: CommandCore, log = memoryLogger().log): Promise<string> {
    const input = new PassThrough();
    const output = new PassThrough();
    let text = '';
    output.on('data', (c: Buffer) => (text += c.toString()));
    const c = core ?? new CommandCore(coreDeps(store, clock, { team }));
    const done = runConsole({ core: c, team, log, input, output, actorId: 'U0ALICE001', osUser: 'tester' });
    for (const line of lines) input.write(`${line}\n`);
    input.end();
    await done;
    return text;
  }

  test('help, nonsense and status, as a newcomer types them', async () => {
    const out = await session(['/cockpit help', '/cockpit nonsense', 'status', 'quit']);
    expect(out).toContain('acting for Alice (U0ALICE001) as tester');
    expect(out).toMatch(/\/cockpit deploy <stack> \[--preview\].* — preview a stack/);
    expect(out).toContain('\u26A0 unknown command "nonsense"');
    // No guess and no list of every command for nonsense: a pointer to help instead.
    expect(out).not.toContain('Usage:');
    expect(out).toContain('/cockpit help lists every command.');
    expect(out).toMatch(/prod · branch master · long-lived · free/);
    expect(out).toMatch(/Store: sqlite, \d+ migrations applied/);
  });

  test('buttons are numbered choices that run the action as the current person', async () => {
    const presses: string[] = [];
    const core = new CommandCore(
      coreDeps(store, clock, { team }),
      {
        verbs: {
          cancel: async (req) => ({
            text: 'sure?',
            visibility: 'in_channel',
            blocks: [section(`Cancel ${req.stack}?`), actions('c', button('Yes', 'test.yes', req.stack), button('No', 'test.no', req.stack))],
          }),
        },
        actions: {
          'test.yes': async (value, ctx) => {
            presses.push(`${value} by ${ctx.actor.id}`);
            return { text: 'cancelled', visibility: 'in_channel', blocks: [section(`${value} cancelled`)] };
          },
        },
      },
    );
    const out = await session(['cancel prod', '7', 'as U0BOB00001', '1', '1', 'as UNOBODY99'], core);
    expect(out).toContain('[1] Yes   [2] No');
    expect(out).toContain('! pick 1 to 2');
    expect(out).toContain('now acting as Bob (U0BOB00001).');
    expect(out).toContain('prod cancelled');
    expect(presses).toEqual(['prod by U0BOB00001']);
    // A choice is used once: the second "1" is an unknown command, not a second press.
    expect(out).toContain('\u26A0 unknown command "1"');
    expect(out).toContain('! UNOBODY99 is not in the team file');
  });

  test('"as" takes a name in any case, a mention or an id; an unknown one is refused with who is known', async () => {
    const out = await session(['as carol', 'as BOB', 'as <@U0ALICE001>', 'as U0CAROL001', 'as Mallory']);
    expect(out).toContain('now acting as Carol (U0CAROL001).');
    expect(out).toContain('now acting as Bob (U0BOB00001).');
    expect(out).toContain('now acting as Alice (U0ALICE001).');
    expect(out).toContain('! Mallory is not in the team file; known: Alice (U0ALICE001), Bob (U0BOB00001), Carol (U0CAROL001)');
  });

  test('two people of one name must be named by id', () => {
    const twins = { ...team, people: [...team.people, { slack: 'U0CAROL002', name: 'carol', roles: [] }] };
    expect(findPerson(twins, 'Carol')).toEqual({ problem: '2 people are called Carol: use the id (U0CAROL001, U0CAROL002)' });
    expect(findPerson(twins, 'U0CAROL002')).toMatchObject({ person: { slack: 'U0CAROL002' } });
  });

  test('a typo gets the one usage line and a did-you-mean; an invisible character changes nothing', async () => {
    const out = await session(['stauts', 'status\u200b']);
    expect(out).toContain('unknown command "stauts": did you mean "status"?');
    expect(out).toContain('Usage:\n/cockpit status\n/cockpit help lists every command.');
    expect(out).toMatch(/prod · branch master/);
  });

  test('each log line names its command once', async () => {
    const logger = memoryLogger('info');
    await session(['deploy moon', 'drill staging'], undefined, logger.log);
    const lines = logger.text().split('\n').filter(Boolean);
    expect(lines.some((l) => l.includes('command refused'))).toBe(true);
    for (const line of lines.filter((l) => l.includes('"command"'))) expect(line.match(/"command":/g)).toHaveLength(1);
    expect(logger.lines().find((l) => l.msg === 'bad command input')).toMatchObject({ command: 'deploy', user: 'U0ALICE001' });
  });

  test('after "as" another person, a message Alice asked for still says she asked, whoever presses its buttons', async () => {
    const engine = new FakeInfraEngine();
    engine.setPreview('prod', { counts: { create: 0, update: 1, replace: 0, delete: 0, same: 9 }, changes: [], steps: 10, revision: 'fedcba9876543210' });
    const cockpit = await createCockpit({ ...loadConfig({}), store: { kind: 'sqlite', file: ':memory:' } }, team, { log: memoryLogger('warn').log, engine, progressIntervalMs: 0 });
    try {
      const input = new PassThrough();
      const output = new PassThrough();
      let text = '';
      output.on('data', (c: Buffer) => (text += c.toString()));
      const done = runConsole({ core: cockpit.core, team, log: memoryLogger('warn').log, input, output, actorId: 'U0ALICE001', osUser: 'tester', via: 'demo' });
      const until = async (seen: string) => {
        for (let waited = 0; !text.includes(seen); waited += 10) {
          if (waited > 5000) throw new Error(`never saw ${seen} in:\n${text}`);
          await new Promise((r) => setTimeout(r, 10));
        }
      };
      input.write('deploy prod\n');
      await until('[1] Deploy prod');
      input.write('1\n');
      await until('[1] Approve and deploy');
      input.write('as U0CAROL001\n');
      await until('now acting as Carol');
      input.write('1\n');
      await until('prod deployed');
      // The tear-down prompt Alice asked for, pressed by Carol and failing: it was rebuilt as "asked by @Carol".
      input.write('as alice\n');
      input.write('down dev\n');
      await until('[1] Tear down dev');
      engine.failNextUpdate('dev', new Error('the cluster is unreachable'));
      input.write('as carol\n');
      input.write('1\n');
      await until('did not start');
      input.end();
      await done;
      // Every rendering of Alice's deploy, before and after Carol's press, names Alice as the asker.
      expect(text).not.toContain('asked by @Carol');
      expect(text.match(/asked by @Alice/g)?.length).toBeGreaterThanOrEqual(4);
      expect(text).toContain('asked by @Alice  ·  approved by @Carol');
    } finally {
      await cockpit.close();
    }
  });
});
