import {
  CommandError,
  ConcurrentUpdateError,
  DiffKind,
  StackNotFoundError,
  type DiagnosticEvent,
  type EngineEvent,
  type OpMap,
  type OpType,
  type OutputMap,
  type StepEventMetadata,
  type StepEventStateMetadata,
} from '@pulumi/pulumi/automation';
import { ConflictError } from '../../handlers/errors';
import type { InfraEngine } from '../../handlers/ports';
import type { ChangeCounts, EngineAvailability, EngineProgress, PreviewCode, PreviewOptions, PreviewResult, UpdateOptions, UpdateResult } from '../../handlers/model/infra';
import type { StackTarget } from '../../handlers/model/stacks';
import {
  PulumiCliUnavailableError,
  type Automation,
  type AutomationRunOptions,
  type AutomationStack,
  type WorkspaceOptions,
} from '../../bot/integrations/pulumi/automation';

/**
 * Two fakes, for two kinds of test:
 *
 * - `FakeAutomation` / `FakeAutomationStack` stand in for the Pulumi CLI behind the Automation API seam. They
 *   replay scripted `EngineEvent` streams with the shapes the CLI writes to its event log (the types are the
 *   SDK's own), and fail with the SDK's own error classes, so the adapter's event folding is tested for real.
 * - `FakeInfraEngine` implements the `InfraEngine` port in memory for the domain's handler tests: scriptable
 *   previews, updates held open until the test finishes them, cancellation.
 */

// ---------------------------------------------------------------------------------------------------------------
// Engine event scripts
// ---------------------------------------------------------------------------------------------------------------

type ScriptedStep = {
  kind: 'step';
  op: OpType;
  type: string;
  name: string;
  custom: boolean;
  /** Properties that force the replacement (the `keys` of a replace step). */
  replaceKeys?: string[];
  /** The step fails with this provider message (and the run with it). */
  failWith?: string;
  /** A `delete-replaced` that runs in place (delete-before-replace) rather than at the end. */
  deleteFirst?: boolean;
};

type ScriptItem =
  | ScriptedStep
  | { kind: 'diagnostic'; severity: DiagnosticEvent['severity']; message: string; urn?: string; ephemeral?: boolean }
  | { kind: 'pause' };

const SDK_COMMAND_RESULT = (stderr: string, code = 255) => ({
  stdout: '',
  stderr,
  code,
  err: undefined,
  // The exact layout of the SDK's CommandResult.toString(), which becomes the error's message.
  toString: () => `code: ${code}\n stdout: \n stderr: ${stderr}\n err?: \n`,
});

type CommandErrorClass = new (result: ReturnType<typeof SDK_COMMAND_RESULT>) => Error;

/** The SDK's own error classes, built the way the SDK builds them (their constructors are marked internal). */
export function commandError(stderr: string, code = 255): CommandError {
  return new (CommandError as unknown as CommandErrorClass)(SDK_COMMAND_RESULT(stderr, code)) as CommandError;
}

export function concurrentUpdateError(): ConcurrentUpdateError {
  const stderr =
    'error: [409] Conflict: Another update is currently in progress.\n' +
    'To learn more about possible reasons and resolution, visit https://www.pulumi.com/docs/troubleshooting/#conflict\n';
  return new (ConcurrentUpdateError as unknown as CommandErrorClass)(SDK_COMMAND_RESULT(stderr)) as ConcurrentUpdateError;
}

export function stackNotFoundError(stackName: string): StackNotFoundError {
  return new (StackNotFoundError as unknown as CommandErrorClass)(
    SDK_COMMAND_RESULT(`error: no stack named '${stackName}' found\n`),
  ) as StackNotFoundError;
}

/**
 * A scripted run of the Pulumi engine: the steps a program produces, compiled into the event stream the CLI
 * emits for a preview (`planning: true`, every step reported and finished) or an update (steps finish with
 * `resOutputsEvent`, or fail with a diagnostic and `resOpFailedEvent`; `delete-replaced` runs last).
 */
export class EngineEventScript {
  private readonly items: ScriptItem[] = [];
  private config: Record<string, string> = {};

  constructor(
    readonly project = 'infra',
    readonly stack = 'staging',
    /** The version in default provider URNs, e.g. `default_4_18_1`. */
    readonly providerVersion = '4_18_1',
  ) {
    // Every program has its stack component, and a default provider the engine reports but does not count.
    this.items.push({ kind: 'step', op: 'same', type: 'pulumi:pulumi:Stack', name: `${project}-${stack}`, custom: false });
  }

  /** Top-level resources' URNs; a parented resource's type would be `<parent type>$<type>`. */
  urn(type: string, name: string): string {
    return `urn:pulumi:${this.stack}::${this.project}::${type}::${name}`;
  }

  prelude(config: Record<string, string>): this {
    this.config = config;
    return this;
  }

  /** The implicit provider of a package (`pulumi:providers:kubernetes::default_…`). */
  defaultProvider(pkg: string, op: OpType = 'same'): this {
    this.items.push({ kind: 'step', op, type: `pulumi:providers:${pkg}`, name: `default_${this.providerVersion}`, custom: true });
    return this;
  }

  step(op: OpType, type: string, name: string, opts: { failWith?: string; custom?: boolean } = {}): this {
    this.items.push({ kind: 'step', op, type, name, custom: opts.custom ?? true, ...(opts.failWith ? { failWith: opts.failWith } : {}) });
    return this;
  }

  same(type: string, name: string): this {
    return this.step('same', type, name);
  }

  create(type: string, name: string, opts: { failWith?: string } = {}): this {
    return this.step('create', type, name, opts);
  }

  update(type: string, name: string, opts: { failWith?: string } = {}): this {
    return this.step('update', type, name, opts);
  }

  delete(type: string, name: string): this {
    return this.step('delete', type, name);
  }

  /**
   * A replacement. By default create-before-delete: `create-replacement` and `replace` now, `delete-replaced` at
   * the end of the run. With `deleteBeforeReplace` (a name that must stay unique, like a PVC's), the old one goes
   * first: `delete-replaced`, `replace`, `create-replacement`.
   */
  replace(type: string, name: string, keys: string[] = ['spec'], opts: { deleteBeforeReplace?: boolean } = {}): this {
    const step = (op: OpType): ScriptedStep => ({ kind: 'step', op, type, name, custom: true, replaceKeys: keys });
    if (opts.deleteBeforeReplace) {
      this.items.push({ ...step('delete-replaced'), deleteFirst: true }, step('replace'), step('create-replacement'));
    } else {
      this.items.push(step('create-replacement'), step('replace'));
    }
    return this;
  }

  diagnostic(severity: DiagnosticEvent['severity'], message: string, at?: { type: string; name: string }, ephemeral = false): this {
    this.items.push({ kind: 'diagnostic', severity, message, ...(at ? { urn: this.urn(at.type, at.name) } : {}), ephemeral });
    return this;
  }

  /** In an update, the fake stack stops here until the test calls `resume()`. */
  pause(): this {
    this.items.push({ kind: 'pause' });
    return this;
  }

  /** The events, or pause markers (`null`), in the order the CLI would emit them. */
  compile(mode: 'preview' | 'update', opts: { durationSeconds?: number } = {}): Array<EngineEvent | null> {
    let sequence = 0;
    const timestamp = 1_760_000_000;
    const out: Array<EngineEvent | null> = [];
    const emit = (payload: Omit<EngineEvent, 'sequence' | 'timestamp'>) => {
      sequence += 1;
      out.push({ sequence, timestamp: timestamp + sequence, ...payload });
    };
    const planning = mode === 'preview' ? { planning: true } : {};
    const counted: OpMap = {};
    const replacedLater: ScriptedStep[] = [];
    let failed = false;

    emit({ preludeEvent: { config: this.config } });

    const runStep = (step: ScriptedStep) => {
      const metadata = this.metadata(step);
      emit({ resourcePreEvent: { metadata, ...planning } });
      if (step.failWith) {
        failed = true;
        emit({
          diagnosticEvent: {
            urn: metadata.urn,
            // The severity travels in `prefix`; providers' multi-errors read "N error(s) occurred:\n\t* cause".
            prefix: '<{%fg 1%}>error: <{%reset%}>',
            message: `1 error occurred:\n\t* ${step.failWith}\n`,
            color: 'never',
            severity: 'error',
          },
        });
        // A preview only reports the diagnostic; an update also reports the failed operation.
        if (mode === 'update') emit({ resOpFailedEvent: { metadata, status: 1, steps: sequence } });
        return;
      }
      // The stack component reports its outputs when the program finishes, after every other step.
      if (step.type !== 'pulumi:pulumi:Stack' || mode === 'preview') emit({ resOutputsEvent: { metadata, ...planning } });
      if (isLogical(step.op) && !isInternal(step)) counted[step.op] = (counted[step.op] ?? 0) + 1;
    };

    for (const item of this.items) {
      if (item.kind === 'pause') {
        if (mode === 'update') out.push(null);
        continue;
      }
      if (item.kind === 'diagnostic') {
        emit({
          diagnosticEvent: {
            ...(item.urn ? { urn: item.urn } : {}),
            message: `${item.message}\n`,
            color: 'never',
            severity: item.severity,
            ...(item.ephemeral ? { ephemeral: true } : {}),
          },
        });
        continue;
      }
      // After a failure the engine starts no new steps.
      if (failed) continue;
      runStep(item);
      const deletedAlready = this.items.some((i) => i.kind === 'step' && i.deleteFirst && i.type === item.type && i.name === item.name);
      if (item.op === 'replace' && !deletedAlready) replacedLater.push(item);
    }
    if (!failed) {
      for (const replaced of replacedLater) runStep({ ...replaced, op: 'delete-replaced' });
    }

    const stackStep = this.items[0] as ScriptedStep;
    if (mode === 'update' && !failed) emit({ resOutputsEvent: { metadata: this.metadata(stackStep) } });
    if (failed) {
      emit({
        diagnosticEvent: {
          urn: this.urn(stackStep.type, stackStep.name),
          message: `${mode === 'preview' ? 'preview' : 'update'} failed\n`,
          color: 'never',
          severity: 'error',
        },
      });
    }
    emit({
      summaryEvent: { maybeCorrupt: false, durationSeconds: opts.durationSeconds ?? 3, resourceChanges: counted, policyPacks: {} },
    });
    emit({ cancelEvent: {} });
    return out;
  }

  /** True when a run of this script fails (some step has `failWith`). */
  get fails(): boolean {
    return this.items.some((i) => i.kind === 'step' && i.failWith !== undefined);
  }

  private metadata(step: ScriptedStep): StepEventMetadata {
    const urn = this.urn(step.type, step.name);
    const provider = step.type.startsWith('pulumi:') ? '' : `${this.urn(`pulumi:providers:${step.type.split(':')[0]}`, `default_${this.providerVersion}`)}::04da6b54-80e4-46f7-96ec-b56ff0331ba9`;
    const parent = step.type === 'pulumi:pulumi:Stack' ? '' : this.urn('pulumi:pulumi:Stack', `${this.project}-${this.stack}`);
    const state = (id: string, extra: Partial<StepEventStateMetadata> = {}): StepEventStateMetadata => ({
      type: step.type,
      urn,
      custom: step.custom,
      id,
      parent,
      inputs: { metadata: { name: step.name } },
      outputs: id ? { metadata: { name: step.name } } : {},
      provider,
      ...extra,
    });
    const before = ['update', 'replace', 'delete', 'same', 'delete-replaced'].includes(step.op);
    const after = ['create', 'update', 'replace', 'same', 'create-replacement'].includes(step.op);
    const md: StepEventMetadata = {
      op: step.op,
      urn,
      type: step.type,
      provider,
      ...(before ? { old: state(`default/${step.name}`, step.op === 'delete-replaced' ? { delete: true } : {}) } : {}),
      ...(after ? { new: state(step.op === 'create' || step.op === 'create-replacement' ? '' : `default/${step.name}`) } : {}),
      // Only logical steps carry the flag: the CLI omits `logical: false`.
      ...(isLogical(step.op) ? { logical: true } : {}),
    };
    if (step.replaceKeys) {
      md.keys = step.replaceKeys;
      md.diffs = step.replaceKeys;
      md.detailedDiff = Object.fromEntries(step.replaceKeys.map((k) => [k, { diffKind: DiffKind.updateReplace, inputDiff: true }]));
    } else if (step.op === 'update') {
      md.diffs = ['spec'];
      md.detailedDiff = { 'spec.replicas': { diffKind: DiffKind.update, inputDiff: true } };
    }
    return md;
  }
}

function isLogical(op: OpType): boolean {
  return op !== 'create-replacement' && op !== 'delete-replaced' && op !== 'discard-replaced';
}

function isInternal(step: ScriptedStep): boolean {
  return step.type.startsWith('pulumi:providers:') && step.name.startsWith('default');
}

// ---------------------------------------------------------------------------------------------------------------
// The Automation API seam
// ---------------------------------------------------------------------------------------------------------------

export type FakeStackScenario = {
  preview?: EngineEventScript;
  /** What `destroy --preview-only` replays; default: the destroy script, as a preview. */
  previewDestroy?: EngineEventScript;
  up?: EngineEventScript;
  destroy?: EngineEventScript;
  /** What `stack output --json` gives after a successful update (secret values in plaintext, as the SDK returns them). */
  outputs?: OutputMap;
  /** The backend refuses: another update holds the stack (the SDK throws ConcurrentUpdateError). */
  locked?: boolean;
  /** What `cancel()` does; default: succeeds. */
  cancel?: () => Promise<void>;
};

/** Replays a scenario like a `Stack` of the Automation API, honouring `signal` the way the CLI honours SIGINT. */
export class FakeAutomationStack implements AutomationStack {
  readonly calls: string[] = [];
  /** The signal of the run in flight, to assert it was aborted. */
  lastSignal?: AbortSignal;
  private release?: () => void;
  private pausedWaiters: Array<() => void> = [];

  constructor(readonly scenario: FakeStackScenario) {}

  async preview(opts: AutomationRunOptions): Promise<{ changeSummary: OpMap }> {
    await this.play('preview', this.scenario.preview, opts);
    return { changeSummary: this.scenario.preview ? summaryOf(this.scenario.preview, 'preview') : {} };
  }

  async previewDestroy(opts: AutomationRunOptions): Promise<{ changeSummary: OpMap }> {
    const script = this.scenario.previewDestroy ?? this.scenario.destroy;
    await this.play('preview', script, opts);
    return { changeSummary: script ? summaryOf(script, 'preview') : {} };
  }

  async up(opts: AutomationRunOptions): Promise<{ outputs: OutputMap }> {
    await this.play('up', this.scenario.up, opts);
    return { outputs: this.scenario.outputs ?? {} };
  }

  async destroy(opts: AutomationRunOptions): Promise<unknown> {
    await this.play('destroy', this.scenario.destroy, opts);
    return { stdout: '', stderr: '' };
  }

  async outputs(): Promise<OutputMap> {
    this.calls.push('outputs');
    return this.scenario.outputs ?? {};
  }

  async cancel(): Promise<void> {
    this.calls.push('cancel');
    await (this.scenario.cancel?.() ?? Promise.resolve());
  }

  /** Resolves when a running update reaches a `pause()` of its script. */
  paused(): Promise<void> {
    if (this.release) return Promise.resolve();
    return new Promise((resolve) => this.pausedWaiters.push(resolve));
  }

  /** Lets a paused update go on. */
  resume(): void {
    this.release?.();
  }

  private async play(kind: 'preview' | 'up' | 'destroy', script: EngineEventScript | undefined, opts: AutomationRunOptions): Promise<void> {
    this.calls.push(kind);
    this.lastSignal = opts.signal;
    if (this.scenario.locked) throw concurrentUpdateError();
    if (!script) throw commandError(`error: the fake has no ${kind} script\n`);
    const mode = kind === 'preview' ? 'preview' : 'update';
    for (const event of script.compile(mode)) {
      if (opts.signal?.aborted) return this.interrupted(opts);
      if (event === null) {
        await this.waitAtGate(opts.signal);
        continue;
      }
      opts.onEvent(event);
      // Events arrive from the CLI's log one by one, never in one synchronous burst.
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (opts.signal?.aborted) return this.interrupted(opts);
    if (script.fails) throw commandError(`error: ${mode === 'preview' ? 'preview' : 'update'} failed\n`);
  }

  private interrupted(opts: AutomationRunOptions): never {
    // After SIGINT the CLI reports the cancellation and exits non-zero.
    opts.onEvent({
      sequence: 10_000,
      timestamp: 1_760_010_000,
      diagnosticEvent: { message: 'update canceled\n', color: 'never', severity: 'error' },
    });
    opts.onEvent({ sequence: 10_001, timestamp: 1_760_010_001, cancelEvent: {} });
    throw commandError('error: update canceled\n');
  }

  private waitAtGate(signal?: AbortSignal): Promise<void> {
    const released = new Promise<void>((resolve) => (this.release = resolve));
    this.pausedWaiters.splice(0).forEach((notify) => notify());
    // SIGINT reaches the CLI wherever it is; the run then stops at its next event.
    signal?.addEventListener('abort', () => this.release?.(), { once: true });
    return released.finally(() => {
      this.release = undefined;
    });
  }
}

function summaryOf(script: EngineEventScript, mode: 'preview' | 'update'): OpMap {
  for (const e of script.compile(mode)) if (e?.summaryEvent) return e.summaryEvent.resourceChanges;
  return {};
}

/** The Automation API seam without a CLI: stacks by Pulumi stack name, with every call recorded. */
export class FakeAutomation implements Automation {
  /** The CLI version, or why there is no CLI. */
  cli: { version: string } | { unavailable: string } = { version: '3.248.0' };
  readonly stacks = new Map<string, FakeAutomationStack>();
  readonly selected: Array<{ stackName: string; workDir: string; options: WorkspaceOptions }> = [];
  readonly installs: Array<{ workDir: string; options: WorkspaceOptions }> = [];
  installFailure?: Error;

  withStack(pulumiStack: string, scenario: FakeStackScenario): FakeAutomationStack {
    const stack = new FakeAutomationStack(scenario);
    this.stacks.set(pulumiStack, stack);
    return stack;
  }

  async cliVersion(): Promise<string> {
    if ('unavailable' in this.cli) throw new PulumiCliUnavailableError(this.cli.unavailable);
    return this.cli.version;
  }

  async selectStack(args: { stackName: string; workDir: string }, options: WorkspaceOptions): Promise<AutomationStack> {
    this.selected.push({ ...args, options });
    const stack = this.stacks.get(args.stackName);
    if (!stack) throw stackNotFoundError(args.stackName);
    return stack;
  }

  async installDependencies(workDir: string, options: WorkspaceOptions): Promise<void> {
    this.installs.push({ workDir, options });
    if (this.installFailure) throw this.installFailure;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The port, in memory
// ---------------------------------------------------------------------------------------------------------------

function zeroCounts(): ChangeCounts {
  return { create: 0, update: 0, replace: 0, delete: 0, same: 0 };
}

/** An update the test drives: report progress, then finish it one way or another. */
export class FakeUpdate {
  readonly result: Promise<UpdateResult>;
  cancelRequested = false;
  private settle!: (r: UpdateResult) => void;
  private fail!: (e: Error) => void;
  private settled = false;
  private readonly progressSent: EngineProgress[] = [];

  constructor(
    readonly kind: 'up' | 'destroy',
    readonly target: StackTarget,
    readonly options: UpdateOptions,
    private readonly defaults: () => Partial<UpdateResult>,
  ) {
    this.result = new Promise<UpdateResult>((resolve, reject) => {
      this.settle = resolve;
      this.fail = reject;
    });
  }

  get finished(): boolean {
    return this.settled;
  }

  /** Sends one progress report to the caller's `onEvent`. */
  progress(done: number, total = this.options.expectedSteps ?? done, current?: string): void {
    const p: EngineProgress = { done, total, ...(current ? { current } : {}) };
    this.progressSent.push(p);
    this.options.onEvent?.(p);
  }

  succeed(extra: Partial<UpdateResult> = {}): void {
    this.finish('succeeded', extra);
  }

  /** A failed run: an outcome, as the real engine reports it. */
  failWith(error: string, extra: Partial<UpdateResult> = {}): void {
    this.finish('failed', { error, logTail: [`error: ${error}`], ...extra });
  }

  /** A thrown error (e.g. ConflictError), as for a backend conflict. */
  reject(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.fail(err);
  }

  finish(outcome: UpdateResult['outcome'], extra: Partial<UpdateResult> = {}): void {
    if (this.settled) return;
    this.settled = true;
    this.settle({
      outcome,
      durationMs: 1000,
      counts: zeroCounts(),
      outputs: {},
      logTail: [],
      ...this.defaults(),
      ...extra,
    });
  }
}

/** How a scripted preview is found: by stack, or by stack and the code previewed. */
function previewKey(stack: string, code?: PreviewCode): string {
  if (!code) return stack;
  return code.kind === 'branch' ? `${stack}@branch:${code.branch}` : `${stack}@pr:${code.number}`;
}

/**
 * `InfraEngine` in memory. Previews answer what `setPreview` scripted (no changes by default). Updates succeed
 * at once unless `holdUpdates` is set; held ones wait for the test (`nextUpdate()` → `progress()`, `succeed()`,
 * `failWith()`), so a handler's intermediate progress messages can be observed. `cancel` ends a running update
 * as `cancelled`. Like the real adapter, a second operation on a stack that has one running is a ConflictError,
 * except a preview of other code (`code`), which runs in a workspace of its own.
 */
export class FakeInfraEngine implements InfraEngine {
  availabilityResult: EngineAvailability = { available: true, version: '3.248.0' };
  holdUpdates = false;
  /** Thrown by `cancel` when nothing runs; default: resolves, as a self-managed backend does. */
  cancelWhenIdle?: Error;
  readonly calls: Array<{ method: 'preview' | 'previewDestroy' | 'up' | 'destroy' | 'cancel'; stack: string; options?: UpdateOptions; revision?: string; code?: PreviewCode }> = [];
  readonly updates: FakeUpdate[] = [];
  private readonly previews = new Map<string, PreviewResult | Error>();
  private readonly destroyPreviews = new Map<string, PreviewResult | Error>();
  private readonly running = new Map<string, FakeUpdate>();
  private readonly failures = new Map<string, Error>();
  private readonly updateWaiters: Array<(u: FakeUpdate) => void> = [];
  private claimed = 0;

  /**
   * What previews of `stack` answer; with `code`, only previews of that code (a branch, or a pull request by
   * number), which otherwise get the stack's answer. A pull request's answer carries its `headRevision`.
   */
  setPreview(stack: string, result: Partial<PreviewResult> | Error, code?: PreviewCode): void {
    this.previews.set(
      previewKey(stack, code),
      result instanceof Error ? result : { counts: zeroCounts(), changes: [], steps: 0, durationMs: 1200, ...result },
    );
  }

  /** The code each preview of `stack` ran (undefined: the stack's branch tip), in call order. */
  previewedCode(stack: string): Array<PreviewCode | undefined> {
    return this.calls.filter((c) => c.method === 'preview' && c.stack === stack).map((c) => c.code);
  }

  /** The next `up`/`destroy` of `stack` throws this (e.g. a ConflictError for a held Pulumi lock). */
  failNextUpdate(stack: string, err: Error): void {
    this.failures.set(stack, err);
  }

  /** The next update not yet handed out, waiting for it to start if needed. */
  nextUpdate(): Promise<FakeUpdate> {
    const pending = this.updates[this.claimed];
    if (pending) {
      this.claimed += 1;
      return Promise.resolve(pending);
    }
    return new Promise((resolve) =>
      this.updateWaiters.push((u) => {
        this.claimed += 1;
        resolve(u);
      }),
    );
  }

  runningUpdate(stack: string): FakeUpdate | undefined {
    return this.running.get(stack);
  }

  async availability(): Promise<EngineAvailability> {
    return this.availabilityResult;
  }

  async preview(stack: StackTarget, opts: PreviewOptions = {}): Promise<PreviewResult> {
    this.calls.push({ method: 'preview', stack: stack.stack, ...(opts.revision ? { revision: opts.revision } : {}), ...(opts.code ? { code: structuredClone(opts.code) } : {}) });
    opts.signal?.throwIfAborted();
    if (!opts.code) this.assertIdle(stack);
    const scripted = this.previews.get(previewKey(stack.stack, opts.code)) ??
      this.previews.get(stack.stack) ?? { counts: zeroCounts(), changes: [], steps: 0, durationMs: 1200 };
    if (scripted instanceof Error) throw scripted;
    opts.onEvent?.({ done: scripted.steps, total: scripted.steps });
    const result = structuredClone(scripted);
    if (opts.code?.kind === 'pull_request') result.headRevision ??= opts.code.headSha;
    // A pinned preview reports the commit it was pinned to, as the real checkout does.
    if (opts.revision) result.revision = opts.revision;
    return result;
  }

  /** A tear-down's dry run: what `setDestroyPreview` scripted, else one delete per scripted preview change. */
  async previewDestroy(stack: StackTarget, opts: { signal?: AbortSignal } = {}): Promise<PreviewResult> {
    this.calls.push({ method: 'previewDestroy', stack: stack.stack });
    opts.signal?.throwIfAborted();
    this.assertIdle(stack);
    const scripted = this.destroyPreviews.get(stack.stack);
    if (scripted instanceof Error) throw scripted;
    if (scripted) return structuredClone(scripted);
    const changes = this.destroyable(stack.stack);
    return { counts: { ...zeroCounts(), delete: changes.length }, changes, steps: changes.length, durationMs: 800 };
  }

  setDestroyPreview(stack: string, result: Partial<PreviewResult> | Error): void {
    this.destroyPreviews.set(stack, result instanceof Error ? result : { counts: zeroCounts(), changes: [], steps: 0, durationMs: 800, ...result });
  }

  private destroyable(stack: string): PreviewResult['changes'] {
    const scripted = this.previews.get(stack);
    if (!scripted || scripted instanceof Error) return [];
    return scripted.changes.map((c) => ({ ...c, op: 'delete' as const }));
  }

  up(stack: StackTarget, opts: UpdateOptions = {}): Promise<UpdateResult> {
    return this.startUpdate('up', stack, opts);
  }

  destroy(stack: StackTarget, opts: UpdateOptions = {}): Promise<UpdateResult> {
    return this.startUpdate('destroy', stack, opts);
  }

  async cancel(stack: StackTarget): Promise<void> {
    this.calls.push({ method: 'cancel', stack: stack.stack });
    const running = this.running.get(stack.stack);
    if (running) {
      running.cancelRequested = true;
      running.finish('cancelled');
      return;
    }
    if (this.cancelWhenIdle) throw this.cancelWhenIdle;
  }

  private async startUpdate(kind: 'up' | 'destroy', stack: StackTarget, opts: UpdateOptions): Promise<UpdateResult> {
    this.calls.push({ method: kind, stack: stack.stack, options: opts });
    this.assertIdle(stack);
    const failure = this.failures.get(stack.stack);
    if (failure) {
      this.failures.delete(stack.stack);
      throw failure;
    }
    const preview = this.previews.get(stack.stack);
    const update = new FakeUpdate(kind, stack, opts, () => ({
      counts: preview && !(preview instanceof Error) ? { ...preview.counts } : zeroCounts(),
      ...(opts.revision ? { revision: opts.revision } : {}),
    }));
    this.updates.push(update);
    this.running.set(stack.stack, update);
    this.updateWaiters.shift()?.(update);
    if (!this.holdUpdates) {
      const total = opts.expectedSteps ?? 1;
      update.progress(total, total);
      update.succeed();
    }
    try {
      return await update.result;
    } finally {
      this.running.delete(stack.stack);
    }
  }

  private assertIdle(stack: StackTarget): void {
    const busy = this.running.get(stack.stack);
    if (busy) throw new ConflictError(`A ${busy.kind} of ${stack.stack} is already running.`, 'Wait for it to finish, or cancel it.');
  }
}
