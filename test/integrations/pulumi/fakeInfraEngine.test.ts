import { ConflictError, NotFoundError } from '../../../handlers/errors';
import type { EngineProgress } from '../../../handlers/model/infra';
import { FakeInfraEngine } from '../../fakes/pulumiEngine';
import { STAGING } from './helpers';

/** The in-memory port fake the handler tests lean on: it must behave as documented, or those tests lie. */
describe('FakeInfraEngine', () => {
  it('answers the scripted preview, and no changes by default', async () => {
    const engine = new FakeInfraEngine();
    expect(await engine.preview(STAGING)).toMatchObject({ counts: { create: 0, update: 0, replace: 0, delete: 0, same: 0 }, changes: [] });
    engine.setPreview('staging', {
      counts: { create: 0, update: 0, replace: 1, delete: 0, same: 4 },
      changes: [{ op: 'replace', type: 'kubernetes:core/v1:PersistentVolumeClaim', name: 'data', urn: 'urn:pulumi:staging::infra::kubernetes:core/v1:PersistentVolumeClaim::data' }],
      steps: 7,
      revision: 'abc1234',
    });
    expect(await engine.preview(STAGING)).toMatchObject({ counts: { replace: 1 }, steps: 7, revision: 'abc1234' });
  });

  it('records the code each preview ran, answers per code when scripted, and lets code previews run beside updates', async () => {
    const engine = new FakeInfraEngine();
    const head = 'a'.repeat(40);
    engine.setPreview('staging', { counts: { create: 1, update: 0, replace: 0, delete: 0, same: 0 } });
    engine.setPreview('staging', { counts: { create: 0, update: 2, replace: 0, delete: 0, same: 0 }, baseRevision: 'b'.repeat(40) }, { kind: 'pull_request', number: 7, headSha: head });

    expect(await engine.preview(STAGING)).toMatchObject({ counts: { create: 1 } });
    expect(await engine.preview(STAGING, { code: { kind: 'pull_request', number: 7, headSha: head } })).toMatchObject({
      counts: { update: 2 },
      baseRevision: 'b'.repeat(40),
      headRevision: head,
    });
    expect(await engine.preview(STAGING, { code: { kind: 'branch', branch: 'main' } })).toMatchObject({ counts: { create: 1 } });
    expect(engine.previewedCode('staging')).toEqual([undefined, { kind: 'pull_request', number: 7, headSha: head }, { kind: 'branch', branch: 'main' }]);

    engine.holdUpdates = true;
    const update = engine.up(STAGING);
    await engine.nextUpdate();
    await expect(engine.preview(STAGING)).rejects.toBeInstanceOf(ConflictError);
    await expect(engine.preview(STAGING, { code: { kind: 'branch', branch: 'main' } })).resolves.toBeDefined();
    engine.runningUpdate('staging')!.succeed();
    await update;
  });

  it('holds updates open so intermediate progress can be observed, then finishes them', async () => {
    const engine = new FakeInfraEngine();
    engine.holdUpdates = true;
    const seen: EngineProgress[] = [];
    const result = engine.up(STAGING, { expectedSteps: 3, onEvent: (p) => seen.push(p), revision: 'abc1234' });
    const update = await engine.nextUpdate();
    update.progress(1, 3, 'updating kubernetes:apps/v1:Deployment web');
    expect(seen).toEqual([{ done: 1, total: 3, current: 'updating kubernetes:apps/v1:Deployment web' }]);
    await expect(engine.preview(STAGING)).rejects.toBeInstanceOf(ConflictError);
    update.succeed({ outputs: { url: { value: 'https://web', secret: false } } });
    expect(await result).toMatchObject({ outcome: 'succeeded', revision: 'abc1234', outputs: { url: { value: 'https://web' } } });
  });

  it('ends a running update as cancelled on cancel', async () => {
    const engine = new FakeInfraEngine();
    engine.holdUpdates = true;
    const result = engine.up(STAGING);
    const update = await engine.nextUpdate();
    await engine.cancel(STAGING);
    expect(update.cancelRequested).toBe(true);
    expect((await result).outcome).toBe('cancelled');
  });

  it('reports failures as outcomes, and conflicts as errors', async () => {
    const engine = new FakeInfraEngine();
    engine.holdUpdates = true;
    const failing = engine.up(STAGING);
    (await engine.nextUpdate()).failWith('Deployment web: pods not ready');
    expect(await failing).toMatchObject({ outcome: 'failed', error: 'Deployment web: pods not ready' });

    engine.failNextUpdate('staging', new ConflictError('Another Pulumi update of staging is in progress.'));
    await expect(engine.up(STAGING)).rejects.toBeInstanceOf(ConflictError);
  });

  it('completes updates at once unless held, counting what the preview promised', async () => {
    const engine = new FakeInfraEngine();
    engine.setPreview('staging', { counts: { create: 2, update: 1, replace: 0, delete: 0, same: 3 }, steps: 6 });
    const seen: EngineProgress[] = [];
    const result = await engine.up(STAGING, { expectedSteps: 6, onEvent: (p) => seen.push(p) });
    expect(result).toMatchObject({ outcome: 'succeeded', counts: { create: 2, update: 1, same: 3 } });
    expect(seen).toEqual([{ done: 6, total: 6 }]);
    expect(engine.calls.map((c) => c.method)).toEqual(['up']);
  });

  it('cancel with nothing running resolves, or throws what it was told to', async () => {
    const engine = new FakeInfraEngine();
    await expect(engine.cancel(STAGING)).resolves.toBeUndefined();
    engine.cancelWhenIdle = new NotFoundError('No update is running on staging.');
    await expect(engine.cancel(STAGING)).rejects.toBeInstanceOf(NotFoundError);
  });
});
