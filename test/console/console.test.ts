import { PassThrough } from 'node:stream';
import { CommandCore } from '../../bot/commands';
import { renderBlocks, mrkdwnToText } from '../../bot/console/render';
import { runConsole } from '../../bot/console/repl';
import { actions, button, context, fields, header, section } from '../../bot/slack/blocks/reply';
import { openStore, type Store } from '../../bot/store/connect';
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
      'see PR #3 (https://github.com/x/pull/3) in #deploys <ok> & ! :unknown_emoji:',
    );
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

  async function session(lines: string[], core?: CommandCore): Promise<string> {
    const input = new PassThrough();
    const output = new PassThrough();
    let text = '';
    output.on('data', (c: Buffer) => (text += c.toString()));
    const c = core ?? new CommandCore(coreDeps(store, clock, { team }));
    const done = runConsole({ core: c, team, log: memoryLogger().log, input, output, actorId: 'U0ALICE001', osUser: 'tester' });
    for (const line of lines) input.write(`${line}\n`);
    input.end();
    await done;
    return text;
  }

  test('help, nonsense and status, as a newcomer types them', async () => {
    const out = await session(['/cockpit help', '/cockpit nonsense', 'status', 'quit']);
    expect(out).toContain('acting for Alice (U0ALICE001) as tester');
    expect(out).toMatch(/\/cockpit deploy <stack> \[--preview\].* — preview a stack/);
    expect(out).toContain('! unknown command "nonsense"');
    expect(out).toMatch(/Usage:\n\/cockpit help \[command\]/);
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
    expect(out).toContain('! unknown command "1"');
    expect(out).toContain('! UNOBODY99 is not in the team file');
  });
});
