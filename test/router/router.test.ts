import { GRAMMARS, parseCommand, usageText, VERBS, type CommandRequest } from '../../bot/router';
import { parseDurationMinutes, parseUserMention, tokenize } from '../../bot/router/tokens';

const ctx = { stacks: ['dev', 'integration', 'staging', 'prod'] };

function ok(text: string): CommandRequest {
  const r = parseCommand(text, ctx);
  if (!r.ok) throw new Error(`expected "${text}" to parse, got: ${r.error}`);
  return r.request;
}

function err(text: string): { error: string; usage: string } {
  const r = parseCommand(text, ctx);
  if (r.ok) throw new Error(`expected "${text}" to fail, got ${JSON.stringify(r.request)}`);
  return r;
}

describe('router: every command the product has', () => {
  test.each<[string, CommandRequest]>([
    ['', { verb: 'help' }],
    ['help', { verb: 'help' }],
    ['help deploy', { verb: 'help', topic: 'deploy' }],
    ['/cockpit status', { verb: 'status' }],
    ['STATUS', { verb: 'status' }],
    ['deploy staging', { verb: 'deploy', stack: 'staging', preview: false }],
    ['deploy prod --preview', { verb: 'deploy', stack: 'prod', preview: true }],
    ['deploy --preview dev', { verb: 'deploy', stack: 'dev', preview: true }],
    ['deploy prod --override-freeze "hotfix for INC-4"', { verb: 'deploy', stack: 'prod', preview: false, overrideFreeze: 'hotfix for INC-4' }],
    ['cancel prod', { verb: 'cancel', stack: 'prod' }],
    ['unlock staging replica b was OOM-killed', { verb: 'unlock', stack: 'staging', reason: 'replica b was OOM-killed' }],
    ['promote staging', { verb: 'promote', stack: 'staging' }],
    ['up dev', { verb: 'up', stack: 'dev' }],
    ['up integration --ttl 4h', { verb: 'up', stack: 'integration', ttlMinutes: 240 }],
    ['down dev', { verb: 'down', stack: 'dev' }],
    ['drill staging', { verb: 'drill', action: 'run', stack: 'staging' }],
    ['drill prod --latest-backup', { verb: 'drill', action: 'run', stack: 'prod', backup: 'latest' }],
    ['drill history', { verb: 'drill', action: 'history' }],
    ['drill history integration', { verb: 'drill', action: 'history', stack: 'integration' }],
    ['oncall', { verb: 'oncall', action: 'who' }],
    ['oncall schedule 14', { verb: 'oncall', action: 'schedule', days: 14 }],
    ['oncall override <@U0BOB00001|bob> 2h', { verb: 'oncall', action: 'override', userId: 'U0BOB00001', minutes: 120 }],
    ['page L2 db is on fire', { verb: 'page', target: { kind: 'level', level: 'L2' }, message: 'db is on fire' }],
    ['page <@U0ALICE001> "please look"', { verb: 'page', target: { kind: 'user', userId: 'U0ALICE001' }, message: 'please look' }],
    ["page L1 can't reach the db", { verb: 'page', target: { kind: 'level', level: 'L1' }, message: "can't reach the db" }],
    ['incident', { verb: 'incident', action: 'list' }],
    ['incident open sev2 Checkout errors above 5%', { verb: 'incident', action: 'open', severity: 'SEV2', title: 'Checkout errors above 5%' }],
    ['incident show INC-12', { verb: 'incident', action: 'show', id: 12 }],
    ['incident update 12 identified bad config in release 41', { verb: 'incident', action: 'update', id: 12, status: 'identified', message: 'bad config in release 41' }],
    ['incident update #12 still looking', { verb: 'incident', action: 'update', id: 12, message: 'still looking' }],
    ['incident resolve 12', { verb: 'incident', action: 'resolve', id: 12 }],
    ['incident close 12', { verb: 'incident', action: 'close', id: 12 }],
    ['ticket take 345', { verb: 'ticket', action: 'take', topicId: 345 }],
    ['ticket status 345 waiting need your logs', { verb: 'ticket', action: 'status', topicId: 345, status: 'waiting', message: 'need your logs' }],
    ['runbook', { verb: 'runbook' }],
    ['runbook on-call', { verb: 'runbook', name: 'on-call' }],
  ])('%j', (text, expected) => {
    expect(ok(text)).toEqual(expected);
  });
});

describe('router: bad input gets a clear error and the one usage line that fits', () => {
  const line = (verb: string, action?: string) =>
    GRAMMARS[verb as keyof typeof GRAMMARS].usage.filter((u) => action === undefined || u.split(' ')[1] === action).map((u) => `/cockpit ${u}`).join('\n');
  test.each<[string, RegExp, string]>([
    ['nonsense', /^unknown command "nonsense"$/, ''],
    ['deploy', /deploy: which stack\?/, line('deploy')],
    ['deploy qa', /unknown stack "qa" \(known: dev, integration, staging, prod\)/, line('deploy')],
    ['deploy prod --force', /unknown option --force$/, line('deploy')],
    ['deploy prod staging', /unexpected "staging"/, line('deploy')],
    ['deploy prod --override-freeze', /--override-freeze needs a reason/, line('deploy')],
    ['deploy prod --override-freeze --preview', /--override-freeze needs a reason/, line('deploy')],
    ['unlock prod', /say why/, line('unlock')],
    ['up dev --ttl soon', /--ttl needs a duration/, line('up')],
    ['up dev --ttl 0m', /--ttl needs a duration/, line('up')],
    ['page L4 hello', /neither a level/, line('page')],
    ['page L1', /add a message/, line('page')],
    ['incident open SEV9 title', /"SEV9" is not a severity/, line('incident', 'open')],
    ['incident open SEV1', /give the incident a title/, line('incident', 'open')],
    ['incident show abc', /"abc" is not an incident number/, line('incident', 'show')],
    ['incident update 3', /add a message/, line('incident', 'update')],
    ['incident frobnicate 3', /unknown incident action "frobnicate" \(list, open, show, update, resolve, close\)/, line('incident')],
    ['ticket status 3 done', /"done" is not a ticket status/, line('ticket', 'status')],
    ['oncall override bob 2h', /mention a person/, line('oncall', 'override')],
    ['oncall schedule 1000', /days must be/, line('oncall', 'schedule')],
    ['help nothing', /no command "nothing"$/, line('help')],
    ['status now', /unexpected "now"/, line('status')],
    ['page L1 "unclosed', /quote is not closed/, ''],
  ])('%j', (text, message, usage) => {
    const r = err(text);
    expect(r.error).toMatch(message);
    expect(r.usage).toBe(usage);
    // One line, or the few of one verb: never the whole list.
    expect(r.usage.split('\n').length).toBeLessThanOrEqual(GRAMMARS.incident.usage.length);
  });

  test.each<[string, RegExp, string]>([
    ['stauts', /^unknown command "stauts": did you mean "status"\?$/, line('status')],
    ['deplyo staging', /^unknown command "deplyo": did you mean "deploy"\?$/, line('deploy')],
    ['Promte staging', /did you mean "promote"\?/, line('promote')],
    ['deploy stagign', /unknown stack "stagign": did you mean "staging"\? \(known:/, line('deploy')],
    ['deploy prod --preveiw', /unknown option --preveiw: did you mean --preview\?$/, line('deploy')],
    ['incident updte 3 looking', /unknown incident action "updte": did you mean "update"\?/, line('incident')],
    ['ticket status 3 waitng', /"waitng" is not a ticket status: did you mean "waiting"\?/, line('ticket', 'status')],
    ['help deply', /no command "deply": did you mean "deploy"\?/, line('help')],
  ])('a typo gets a did-you-mean: %j', (text, message, usage) => {
    const r = err(text);
    expect(r.error).toMatch(message);
    expect(r.usage).toBe(usage);
  });

  test('nothing close enough, no guess', () => {
    expect(err('qa').error).toBe('unknown command "qa"');
    expect(err('deploy moon').error).not.toContain('did you mean');
  });

  test('overlong input is refused before parsing', () => {
    expect(err(`page L1 ${'x'.repeat(2000)}`).error).toMatch(/too long \(\d+ characters, at most 1000\)/);
  });

  test('binary and control characters are refused', () => {
    expect(err('status\u0000').error).toMatch(/control or binary/);
    expect(err('deploy \u001b[31mprod').error).toMatch(/control or binary/);
    expect(err('page L1 \uFFFD\uFFFD').error).toMatch(/control or binary/);
  });

  test('prototype keys are not verbs', () => {
    expect(err('constructor').error).toMatch(/unknown command/);
    expect(err('__proto__').error).toMatch(/unknown command/);
    expect(err('toString').error).toMatch(/unknown command/);
  });

  test('usage lists every verb', () => {
    const usage = usageText();
    for (const v of VERBS) for (const u of GRAMMARS[v].usage) expect(usage).toContain(`/cockpit ${u}`);
  });
});

describe('router: what phones and pastes do to a command', () => {
  test.each<[string, CommandRequest]>([
    ['deploy prod —preview', { verb: 'deploy', stack: 'prod', preview: true }], // an em dash: iOS smart punctuation
    ['deploy prod –preview', { verb: 'deploy', stack: 'prod', preview: true }], // an en dash: macOS
    ['deploy prod ‐‐preview', { verb: 'deploy', stack: 'prod', preview: true }], // two Unicode hyphens
    ['up dev —ttl 2h', { verb: 'up', stack: 'dev', ttlMinutes: 120 }],
    ['deploy staging\u200b', { verb: 'deploy', stack: 'staging', preview: false }], // a zero-width space after the stack
    ['\uFEFFstatus', { verb: 'status' }], // a byte-order mark from a pasted file
    ['deploy\u00A0staging', { verb: 'deploy', stack: 'staging', preview: false }], // a no-break space
    ['deploy sta\u00ADging', { verb: 'deploy', stack: 'staging', preview: false }], // a soft hyphen
    ['deploy \u200Eprod\u200F', { verb: 'deploy', stack: 'prod', preview: false }], // direction marks
  ])('%j', (text, expected) => {
    expect(ok(text)).toEqual(expected);
  });

  test('free text keeps its dashes, quotes keep what they hold, emoji keep their joiners', () => {
    expect(ok('deploy prod --override-freeze "fix — see INC-12 —now"')).toMatchObject({ overrideFreeze: 'fix — see INC-12 —now' });
    expect(ok('page L1 the 2–3 pm window')).toMatchObject({ message: 'the 2–3 pm window' });
    expect(ok('page L1 👩\u200d💻 needed')).toMatchObject({ message: '👩\u200d💻 needed' });
    expect(ok('page L1 disk\u200d full')).toMatchObject({ message: 'disk full' });
  });

  test('an unknown option typed with a dash is still refused, as the option it looks like', () => {
    expect(err('deploy prod —force').error).toMatch(/unknown option --force/);
  });
});

describe('tokens', () => {
  test('tokenize keeps quoted phrases and smart quotes', () => {
    expect(tokenize('a "b c" \'d e\' “f g”')).toEqual(['a', 'b c', 'd e', 'f g']);
    expect(tokenize('a ""')).toEqual(['a', '']);
    expect(tokenize('"open')).toBeUndefined();
  });
  test('mentions', () => {
    expect(parseUserMention('<@U123ABC|alice>')).toBe('U123ABC');
    expect(parseUserMention('<@W123ABC>')).toBe('W123ABC');
    expect(parseUserMention('U123ABC')).toBe('U123ABC');
    expect(parseUserMention('@alice')).toBeUndefined();
    expect(parseUserMention('<#C123>')).toBeUndefined();
  });
  test('durations', () => {
    expect(parseDurationMinutes('90m')).toBe(90);
    expect(parseDurationMinutes('1h30m')).toBe(90);
    expect(parseDurationMinutes('2d')).toBe(2880);
    expect(parseDurationMinutes('0h')).toBeUndefined();
    expect(parseDurationMinutes('4 hours')).toBeUndefined();
    expect(parseDurationMinutes('')).toBeUndefined();
  });
});
