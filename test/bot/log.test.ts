import { scrubSecrets } from '../../bot/log';
import { memoryLogger } from '../helpers';

describe('logs never carry secrets', () => {
  test('secret-named fields are redacted wherever they sit', () => {
    const { log, text } = memoryLogger();
    log.info({
      token: 'xoxb-111',
      slack: { botToken: 'xoxb-222', signingSecret: 's3cr3t', appToken: 'xapp-333' },
      headers: { authorization: 'Bearer abc', 'x-slack-signature': 'v0=deadbeef', 'x-hub-signature-256': 'sha256=feed' },
      github: { privateKey: '-----BEGIN RSA PRIVATE KEY-----' },
      pulumi: { passphrase: 'correct horse' },
      store: { password: 'hunter2', databaseUrl: 'postgres://u:p@h/db' },
      discourse: { apiKey: 'disc0urse-k3y' },
      request: { headers: { 'Api-Key': 'disc0urse-h3ader' } },
    }, 'config');
    const out = text();
    for (const secret of ['xoxb-111', 'xoxb-222', 's3cr3t', 'xapp-333', 'Bearer abc', 'deadbeef', 'feed', 'BEGIN RSA', 'correct horse', 'hunter2', 'u:p@h', 'disc0urse-k3y', 'disc0urse-h3ader']) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain('[redacted]');
  });

  test('token-shaped strings inside error messages and stacks are scrubbed', () => {
    const { log, text } = memoryLogger();
    log.error({ err: new Error('auth failed for xoxb-1234-5678-abcdef and ghs_abcdefghijklmnopqrstuvwxyz012345 at postgres://cockpit:pa55@db/x') }, 'boom');
    const out = text();
    expect(out).not.toMatch(/xoxb-1234|ghs_abc|pa55/);
    expect(out).toContain('auth failed for [redacted]');
    expect(out).toContain('postgres://cockpit:[redacted]@db/x');
  });

  test('scrubSecrets leaves ordinary text alone', () => {
    expect(scrubSecrets('deploy staging took 3m; see https://ci.example/run/42')).toBe('deploy staging took 3m; see https://ci.example/run/42');
    expect(scrubSecrets('Authorization: Bearer eyJhbGciOi.x.y')).toBe('Authorization: Bearer [redacted]');
  });
});
