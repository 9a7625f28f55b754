import { generateKeyPairSync } from 'node:crypto';
import { UnavailableError } from '../../../handlers/errors';
import { startGitHub, type GitHubRig } from './setup';

/** GitHub App authentication through the real @octokit/auth-app: a signed JWT buys an installation token. */

const appKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privateKey = appKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const publicKeyPem = appKeys.publicKey.export({ type: 'spki', format: 'pem' }).toString();

let rig: GitHubRig;

beforeEach(async () => {
  rig = await startGitHub();
  rig.fake.registerApp({ appId: 12345, publicKeyPem, installationId: 678, login: 'cockpit[bot]' });
  rig.fake.createBranch('staging');
  rig.fake.commit('staging', { message: 'Bump', files: { 'infra/Pulumi.staging.yaml': 'config: {}\n' } });
});

afterEach(async () => {
  await rig.fake.close();
  rig.fake.assertNoViolations();
});

it('acts as the app installation, minting one token and reusing it', async () => {
  const host = rig.hostWith({ auth: { kind: 'app', appId: '12345', privateKey, installationId: 678 } });
  expect((await host.compare('master', 'staging')).aheadBy).toBe(1);
  const pr = await host.openPullRequest({ base: 'master', head: 'staging', title: 'Promote', body: '' });
  await host.upsertComment(pr.number, 'cockpit/preview', 'hello');
  expect(rig.fake.issuedInstallationTokens).toHaveLength(1);
  expect(rig.fake.pullRequests()[0]?.author).toBe('cockpit[bot]');
  expect(rig.fake.comments(pr.number)[0]?.author).toBe('cockpit[bot]');
});

it('accepts a private key whose line breaks were escaped into one env-var line', async () => {
  const oneLine = privateKey.replace(/\n/g, '\\n');
  const host = rig.hostWith({ auth: { kind: 'app', appId: '12345', privateKey: oneLine, installationId: 678 } });
  expect((await host.compare('master', 'staging')).aheadBy).toBe(1);
});

it('reports a key GitHub does not know as rejected credentials, never leaking the key', async () => {
  const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const host = rig.hostWith({ auth: { kind: 'app', appId: '12345', privateKey: otherKey, installationId: 678 } });
  const err = await host.compare('master', 'staging').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(UnavailableError);
  expect((err as Error).message).toBe("GitHub rejected Cockpit's credentials while trying to compare master with staging.");
  const keyBody = otherKey.split('\n')[1] ?? '';
  expect(JSON.stringify(rig.lines)).not.toContain(keyBody);
  expect(rig.fake.issuedInstallationTokens).toHaveLength(0);
});
