import { fromConfig, type PulumiEngine } from '../../../bot/integrations/pulumi';
import { EngineEventFold } from '../../../bot/integrations/pulumi/events';
import { ConflictError, NotFoundError, UnavailableError } from '../../../handlers/errors';
import type { EngineProgress } from '../../../handlers/model/infra';
import { EngineEventScript, FakeAutomation, commandError } from '../../fakes/pulumiEngine';
import { STAGING, localInfraDir, recordingLogger, tempDir } from './helpers';

const PVC = 'kubernetes:core/v1:PersistentVolumeClaim';
const DEPLOYMENT = 'kubernetes:apps/v1:Deployment';
const SERVICE = 'kubernetes:core/v1:Service';
const CONFIGMAP = 'kubernetes:core/v1:ConfigMap';
const PASSPHRASE = 'correct-horse-battery-staple';

/** A deploy touching every kind of change, with the stateful replacement a risk report must catch. */
function deployScript(): EngineEventScript {
  return new EngineEventScript('infra', 'staging')
    .prelude({ 'kubernetes:context': 'staging', 'infra:dbPassword': '[secret]' })
    .defaultProvider('kubernetes', 'create')
    .same('kubernetes:core/v1:Namespace', 'apps')
    .create(DEPLOYMENT, 'web')
    .update(SERVICE, 'web')
    .replace(PVC, 'data', ['spec.storageClassName'])
    .delete(CONFIGMAP, 'legacy')
    .diagnostic('warning', 'networking.k8s.io/v1beta1 Ingress is deprecated', { type: SERVICE, name: 'web' });
}

describe('Pulumi engine adapter: engine events into domain results', () => {
  const dir = tempDir('pulumi-engine');
  let automation: FakeAutomation;
  let engine: PulumiEngine;
  const log = recordingLogger();

  beforeAll(() => localInfraDir(dir.path));
  afterAll(() => dir.cleanup());
  beforeEach(() => {
    automation = new FakeAutomation();
    log.records.length = 0;
    engine = fromConfig(
      { infraRepo: { localDir: dir.path }, workDir: dir.path, programDir: 'infra', passphrase: PASSPHRASE, backendUrl: 'file:///state' },
      { automation, log },
    );
  });

  describe('preview', () => {
    it('counts each kind of change the way Pulumi summarises it, a replacement once', async () => {
      automation.withStack('staging', { preview: deployScript() });
      const preview = await engine.preview(STAGING);
      expect(preview.counts).toEqual({ create: 1, update: 1, replace: 1, delete: 1, same: 2 });
    });

    it('lists every non-same step once per resource, with its type, so stateful replacements are visible', async () => {
      automation.withStack('staging', { preview: deployScript() });
      const preview = await engine.preview(STAGING);
      expect(preview.changes).toEqual([
        { op: 'create', type: DEPLOYMENT, name: 'web', urn: 'urn:pulumi:staging::infra::kubernetes:apps/v1:Deployment::web' },
        { op: 'update', type: SERVICE, name: 'web', urn: 'urn:pulumi:staging::infra::kubernetes:core/v1:Service::web' },
        { op: 'replace', type: PVC, name: 'data', urn: 'urn:pulumi:staging::infra::kubernetes:core/v1:PersistentVolumeClaim::data' },
        { op: 'delete', type: CONFIGMAP, name: 'legacy', urn: 'urn:pulumi:staging::infra::kubernetes:core/v1:ConfigMap::legacy' },
      ]);
      // The implicit default provider is the engine's business, not a change to review.
      expect(preview.changes.some((c) => c.type.startsWith('pulumi:providers:'))).toBe(false);
    });

    it('counts the steps an update will walk: sames and both halves of the replacement', async () => {
      automation.withStack('staging', { preview: deployScript() });
      const preview = await engine.preview(STAGING);
      // Stack, Namespace, Deployment, Service, create-replacement, replace, delete, delete-replaced.
      expect(preview.steps).toBe(8);
    });

    it('selects the stack in the program directory with the backend and passphrase in its environment', async () => {
      automation.withStack('staging', { preview: deployScript() });
      await engine.preview(STAGING);
      expect(automation.selected).toEqual([
        {
          stackName: 'staging',
          workDir: `${dir.path}/infra`,
          options: {
            envVars: { PULUMI_SKIP_UPDATE_CHECK: 'true', PULUMI_BACKEND_URL: 'file:///state', PULUMI_CONFIG_PASSPHRASE: PASSPHRASE },
          },
        },
      ]);
    });

    it('turns a concurrent update into a ConflictError', async () => {
      automation.withStack('staging', { preview: deployScript(), locked: true });
      const err = await engine.preview(STAGING).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConflictError);
      expect((err as ConflictError).code).toBe('CONFLICT');
    });

    it('reports an unknown Pulumi stack as not found, with how to create it', async () => {
      const err = await engine.preview({ ...STAGING, pulumiStack: 'nope' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NotFoundError);
      expect((err as NotFoundError).hint).toContain('pulumi stack init nope');
    });

    it("fails with the provider's words when the program or a provider refuses", async () => {
      automation.withStack('staging', {
        preview: new EngineEventScript().create(DEPLOYMENT, 'web', { failWith: `spec.replicas: Invalid value: -1 (passphrase ${PASSPHRASE})` }),
      });
      const err = (await engine.preview(STAGING).catch((e: unknown) => e)) as UnavailableError;
      expect(err).toBeInstanceOf(UnavailableError);
      expect(err.hint).toContain('kubernetes:apps/v1:Deployment web: spec.replicas: Invalid value: -1');
      expect(err.hint).not.toContain(PASSPHRASE);
      expect(err.hint).not.toMatch(/preview failed|error occurred/);
    });

    it('stops when the caller aborts, with the standard AbortError', async () => {
      automation.withStack('staging', { preview: deployScript() });
      const controller = new AbortController();
      const err = await engine.preview(STAGING, { signal: controller.signal, onEvent: () => controller.abort() }).catch((e: unknown) => e);
      expect((err as Error).name).toBe('AbortError');
      expect(automation.stacks.get('staging')?.lastSignal?.aborted).toBe(true);
    });

    it('refuses to run without the Pulumi CLI and says what to install', async () => {
      automation.cli = { unavailable: 'the Pulumi CLI is not installed' };
      const err = (await engine.preview(STAGING).catch((e: unknown) => e)) as UnavailableError;
      expect(err).toBeInstanceOf(UnavailableError);
      expect(err.hint).toContain('https://get.pulumi.com');
      expect(await engine.availability()).toEqual({ available: false, reason: 'the Pulumi CLI is not installed', install: expect.stringContaining('get.pulumi.com') });
    });

    it('reports the CLI version when it is there', async () => {
      expect(await engine.availability()).toEqual({ available: true, version: '3.248.0' });
    });
  });

  describe('up', () => {
    it('reports progress as steps start and finish, with a total from the preview', async () => {
      const stack = automation.withStack('staging', { preview: deployScript(), up: deployScript() });
      const preview = await engine.preview(STAGING);
      const seen: EngineProgress[] = [];
      const result = await engine.up(STAGING, { expectedSteps: preview.steps, onEvent: (p) => seen.push(p) });

      expect(result.outcome).toBe('succeeded');
      expect(seen.every((p) => p.total === 8)).toBe(true);
      expect(seen.map((p) => p.done)).toEqual([...seen.map((p) => p.done)].sort((a, b) => a - b));
      expect(seen.at(-1)).toEqual({ done: 8, total: 8 });
      expect(seen).toContainEqual({ done: 1, total: 8, current: 'creating kubernetes:apps/v1:Deployment web' });
      expect(seen.some((p) => p.current === 'replacing kubernetes:core/v1:PersistentVolumeClaim data')).toBe(true);
      expect(stack.calls).toEqual(['preview', 'up']);
    });

    it('lets the caller observe progress while the update is still running', async () => {
      const stack = automation.withStack('staging', {
        up: new EngineEventScript().create(DEPLOYMENT, 'web').pause().update(SERVICE, 'web'),
      });
      const seen: EngineProgress[] = [];
      const running = engine.up(STAGING, { expectedSteps: 3, onEvent: (p) => seen.push(p) });
      await stack.paused();
      expect(seen.at(-1)).toEqual({ done: 1, total: 3 });
      stack.resume();
      const result = await running;
      expect(result.outcome).toBe('succeeded');
      expect(seen.at(-1)).toEqual({ done: 3, total: 3 });
    });

    it("counts what was done from Pulumi's summary", async () => {
      automation.withStack('staging', { up: deployScript() });
      const result = await engine.up(STAGING);
      expect(result.counts).toEqual({ create: 1, update: 1, replace: 1, delete: 1, same: 2 });
    });

    it('returns outputs with secret values masked, and masks their plaintext anywhere in the log', async () => {
      automation.withStack('staging', {
        up: new EngineEventScript().create(DEPLOYMENT, 'web').diagnostic('info', 'connecting with s3cr3t-db-pass to postgres'),
        outputs: {
          url: { value: 'https://web.staging.example.com', secret: false },
          dbPassword: { value: 's3cr3t-db-pass', secret: true },
          kubeconfig: { value: { token: 'kube-token-123' }, secret: true },
        },
      });
      const result = await engine.up(STAGING);
      expect(result.outputs).toEqual({
        url: { value: 'https://web.staging.example.com', secret: false },
        dbPassword: { value: '[secret]', secret: true },
        kubeconfig: { value: '[secret]', secret: true },
      });
      expect(result.logTail).toContain('connecting with [secret] to postgres');
      expect(JSON.stringify(result)).not.toMatch(/s3cr3t-db-pass|kube-token-123/);
    });

    it('reports a failed update as an outcome with the resource-level diagnostic, not the generic line', async () => {
      automation.withStack('staging', {
        up: new EngineEventScript()
          .create(CONFIGMAP, 'settings')
          .update(DEPLOYMENT, 'web', {
            failWith: 'the Kubernetes API server reported that "apps/web" failed to fully initialize: Minimum number of live Pods was not attained',
          })
          .update(SERVICE, 'web'),
      });
      const result = await engine.up(STAGING);
      expect(result.outcome).toBe('failed');
      expect(result.error).toBe(
        'kubernetes:apps/v1:Deployment web: the Kubernetes API server reported that "apps/web" failed to fully initialize: Minimum number of live Pods was not attained',
      );
      expect(result.counts).toEqual({ create: 1, update: 0, replace: 0, delete: 0, same: 1 });
      expect(result.logTail.some((l) => l.startsWith('error: kubernetes:apps/v1:Deployment web: the Kubernetes API server'))).toBe(true);
      expect(result.outputs).toEqual({});
    });

    it('never lets the config passphrase into the error or the log tail', async () => {
      automation.withStack('staging', {
        up: new EngineEventScript()
          .diagnostic('info#err', `PULUMI_CONFIG_PASSPHRASE=${PASSPHRASE}`)
          .create(DEPLOYMENT, 'web', { failWith: `decrypt failed with ${PASSPHRASE}` }),
      });
      const result = await engine.up(STAGING);
      expect(JSON.stringify(result)).not.toContain(PASSPHRASE);
      expect(result.error).toContain('decrypt failed with [secret]');
      expect(JSON.stringify(log.records)).not.toContain(PASSPHRASE);
    });

    it('turns a concurrent update into a ConflictError rather than an outcome', async () => {
      automation.withStack('staging', { up: deployScript(), locked: true });
      await expect(engine.up(STAGING)).rejects.toBeInstanceOf(ConflictError);
    });

    it('keeps going when the progress callback throws', async () => {
      automation.withStack('staging', { up: deployScript() });
      const result = await engine.up(STAGING, {
        onEvent: () => {
          throw new Error('slack edit failed');
        },
      });
      expect(result.outcome).toBe('succeeded');
      expect(log.records.some((r) => r.level === 'warn' && r.msg?.includes('progress callback threw'))).toBe(true);
    });

    it('previews a destroy without running it: every resource it would delete, for the confirmation', async () => {
      const stack = automation.withStack('staging', { destroy: new EngineEventScript().delete(PVC, 'data').delete(SERVICE, 'web') });
      const preview = await engine.previewDestroy(STAGING);
      expect(preview.counts).toMatchObject({ delete: 2 });
      expect(preview.changes.map((c) => `${c.op} ${c.name}`)).toEqual(['delete data', 'delete web']);
      expect(stack.calls).toEqual(['preview']);
    });

    it('runs destroy through the same folding', async () => {
      automation.withStack('staging', { destroy: new EngineEventScript().delete(DEPLOYMENT, 'web').delete(SERVICE, 'web') });
      const result = await engine.destroy(STAGING);
      expect(result).toMatchObject({ outcome: 'succeeded', counts: { delete: 2 }, outputs: {} });
    });
  });

  describe('one operation per stack, and cancel', () => {
    it('refuses a second operation on a stack while one runs here', async () => {
      const stack = automation.withStack('staging', { preview: deployScript(), up: new EngineEventScript().create(DEPLOYMENT, 'web').pause() });
      const running = engine.up(STAGING);
      await stack.paused();
      await expect(engine.preview(STAGING)).rejects.toBeInstanceOf(ConflictError);
      await expect(engine.up(STAGING)).rejects.toBeInstanceOf(ConflictError);
      stack.resume();
      expect((await running).outcome).toBe('succeeded');
      await expect(engine.preview(STAGING)).resolves.toMatchObject({ counts: { create: 1 } });
    });

    it('cancels a running update gracefully (SIGINT through the signal), ending it as cancelled', async () => {
      const stack = automation.withStack('staging', {
        up: new EngineEventScript().create(DEPLOYMENT, 'web').pause().update(SERVICE, 'web'),
      });
      const running = engine.up(STAGING);
      await stack.paused();
      await engine.cancel(STAGING);
      const result = await running;
      expect(result.outcome).toBe('cancelled');
      expect(result.error).toBeUndefined();
      expect(result.counts.create).toBe(1);
      expect(stack.lastSignal?.aborted).toBe(true);
      // The graceful path never asks the backend to drop the lock under a live update.
      expect(stack.calls).not.toContain('cancel');
    });

    it('asks the backend to cancel when the update is not running here', async () => {
      const stack = automation.withStack('staging', {});
      await engine.cancel(STAGING);
      expect(stack.calls).toEqual(['cancel']);
    });

    it('says so when the backend has no update to cancel', async () => {
      automation.withStack('staging', {
        cancel: () => Promise.reject(commandError('error: [409] Conflict: The Update has already completed\n')),
      });
      await expect(engine.cancel(STAGING)).rejects.toBeInstanceOf(NotFoundError);
    });
  });
});

describe('EngineEventFold', () => {
  it('counts from the steps the same as the summary says, when no summary arrives', () => {
    const events = deployScript().compile('preview').filter((e) => e !== null);
    const withSummary = new EngineEventFold({ mode: 'preview' });
    const withoutSummary = new EngineEventFold({ mode: 'preview' });
    for (const e of events) {
      withSummary.accept(e);
      if (!e.summaryEvent) withoutSummary.accept(e);
    }
    expect(withoutSummary.counts()).toEqual(withSummary.counts());
  });

  it('folds a delete-before-replace replacement into one replace, the old resource going first', () => {
    const fold = new EngineEventFold({ mode: 'preview' });
    const script = new EngineEventScript().replace(PVC, 'data', ['spec.storageClassName'], { deleteBeforeReplace: true });
    const events = script.compile('preview').filter((e) => e !== null);
    expect(events.filter((e) => e.resourcePreEvent).map((e) => e.resourcePreEvent?.metadata.op)).toEqual(['same', 'delete-replaced', 'replace', 'create-replacement']);
    for (const e of events) if (!e.summaryEvent) fold.accept(e);
    expect(fold.changes()).toEqual([{ op: 'replace', type: PVC, name: 'data', urn: script.urn(PVC, 'data') }]);
    expect(fold.counts()).toEqual({ create: 0, update: 0, replace: 1, delete: 0, same: 1 });
    expect(fold.steps()).toBe(4);
  });

  it('counts only finished steps of an update without a summary', () => {
    const fold = new EngineEventFold({ mode: 'update' });
    const events = new EngineEventScript().create(DEPLOYMENT, 'web').update(SERVICE, 'web', { failWith: 'boom' }).compile('update');
    for (const e of events) if (e && !e.summaryEvent) fold.accept(e);
    expect(fold.counts()).toEqual({ create: 1, update: 0, replace: 0, delete: 0, same: 0 });
    expect(fold.errorSummary()).toBe('kubernetes:core/v1:Service web: boom');
  });

  it('strips colour directives and skips ephemeral diagnostics', () => {
    const fold = new EngineEventFold({ mode: 'update' });
    fold.accept({ sequence: 1, timestamp: 1, diagnosticEvent: { message: '<{%fg 1%}>boom<{%reset%}>\n', color: 'raw', severity: 'error' } });
    fold.accept({ sequence: 2, timestamp: 2, diagnosticEvent: { message: 'waiting for rollout\n', color: 'raw', severity: 'info', ephemeral: true } });
    expect(fold.logTail()).toEqual(['error: boom']);
    expect(fold.errorSummary()).toBe('boom');
  });

  it('keeps a bounded tail of the log', () => {
    const fold = new EngineEventFold({ mode: 'update', logTailSize: 3 });
    for (let i = 1; i <= 5; i++) fold.accept({ sequence: i, timestamp: i, diagnosticEvent: { message: `line ${i}`, color: 'never', severity: 'info' } });
    expect(fold.logTail()).toEqual(['line 3', 'line 4', 'line 5']);
  });
});
