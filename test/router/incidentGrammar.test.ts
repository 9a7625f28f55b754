import { parseCommand, type CommandRequest } from '../../bot/router';

const ctx = { stacks: ['dev', 'integration', 'staging', 'prod'] };
const parse = (text: string) => parseCommand(text, ctx);

describe('router: incident commands', () => {
  test.each<[string, CommandRequest]>([
    ['incident open', { verb: 'incident', action: 'form' }],
    ['incident open SEV2 Dashboard fails to load --public', { verb: 'incident', action: 'open', severity: 'SEV2', title: 'Dashboard fails to load', public: true }],
    ['incident open --public sev1 "Nobody can log in"', { verb: 'incident', action: 'open', severity: 'SEV1', title: 'Nobody can log in', public: true }],
    ['incident update 12 identified "a bad config in release 41" --internal', { verb: 'incident', action: 'update', id: 12, status: 'identified', message: 'a bad config in release 41', internal: true }],
    ['incident update monitoring rolled back', { verb: 'incident', action: 'update', status: 'monitoring', message: 'rolled back' }],
    ['incident update INC-4 "--internal is a word here"', { verb: 'incident', action: 'update', id: 4, message: '--internal is a word here' }],
    ['incident assign commander <@U0BOB00001|bob>', { verb: 'incident', action: 'assign', role: 'commander', userId: 'U0BOB00001' }],
    ['incident assign 7 communications U0CAROL001', { verb: 'incident', action: 'assign', id: 7, role: 'communications', userId: 'U0CAROL001' }],
    ['incident severity 7 sev1', { verb: 'incident', action: 'severity', id: 7, severity: 'SEV1' }],
    ['incident severity SEV3', { verb: 'incident', action: 'severity', severity: 'SEV3' }],
    ['incident publish 7 Some customers cannot load the dashboard', { verb: 'incident', action: 'publish', id: 7, summary: 'Some customers cannot load the dashboard' }],
    ['incident followup 7 alert on the queue depth', { verb: 'incident', action: 'followup', id: 7, text: 'alert on the queue depth' }],
    ['incident resolve "the rollback held for 30 minutes"', { verb: 'incident', action: 'resolve', message: 'the rollback held for 30 minutes' }],
    ['incident close', { verb: 'incident', action: 'close' }],
    ['incident show', { verb: 'incident', action: 'show' }],
  ])('%j', (text, request) => {
    const result = parse(text);
    if (!result.ok) throw new Error(result.error);
    expect(result.request).toStrictEqual(request);
  });

  test.each<[string, RegExp]>([
    ['incident open SEV2 Title --loud', /unknown option --loud/],
    ['incident update 3 resolved it is fixed', /to resolve it, use incident resolve/],
    ['incident update 3 --internal', /add a message/],
    ['incident assign scribe <@U0BOB00001>', /"scribe" is not a role \(commander, communications\)/],
    ['incident assign commander bob', /who is commander\? mention a person/],
    ['incident severity 3 SEV5', /"SEV5" is not a severity/],
    ['incident publish 3', /add the public summary/],
    ['incident close soon', /"soon" is not an incident number/],
  ])('%j is refused', (text, message) => {
    const result = parse(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(message);
  });
});
