import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock, InfraEngine, Logger } from '../../../handlers/ports';
import type { EngineAvailability, EngineProgress, PreviewCode, PreviewOptions, PreviewResult, UpdateOptions, UpdateResult } from '../../../handlers/model/infra';
import type { StackTarget } from '../../../handlers/model/stacks';
import { ConflictError, NotFoundError, UnavailableError } from '../../../handlers/errors';
import { PULUMI_INSTALL_HINT, PulumiCliUnavailableError, type Automation, type AutomationStack, type WorkspaceOptions } from './automation';
import type { ProgramCheckout, ProgramSource, ProgramWorkspace } from './checkout';
import { lockedInstall, type PackageInstaller } from './dependencies';
import { EngineEventFold, cleanEngineText } from './events';

/**
 * `InfraEngine` over the Automation API seam: checks the program out, selects the stack, runs the operation and
 * folds its engine events into domain results. One operation per stack at a time in this process, because they
 * share the stack's checkout; a preview of other code has a workspace of its own and runs beside them.
 */

type OperationKind = 'preview' | 'up' | 'destroy' | 'cancel' | 'outputs';

type Running = { kind: OperationKind; controller: AbortController; signal: AbortSignal };

export interface PulumiEngineOptions {
  automation: Automation;
  source: ProgramSource;
  /** The program's directory inside the checkout, e.g. `infra`. */
  programDir: string;
  workspace: WorkspaceOptions;
  clock: Clock;
  log: Logger;
  /** Strings that must never reach a message or the log tail (the config passphrase). */
  secrets: string[];
  /** Installs a preview workspace's packages from its lockfile. */
  installer: PackageInstaller;
}

const PROJECT_FILES = ['Pulumi.yaml', 'Pulumi.yml', 'Pulumi.json'];
const SECRET_MASK = '[secret]';
/** Shorter secrets would mask ordinary words and numbers all over the log. */
const MIN_REDACTED_LENGTH = 4;

// By name, not instanceof: the Automation API is loaded only when a stack is first touched (see automation.ts).
function isConcurrentUpdate(err: unknown): boolean {
  return err instanceof Error && err.name === 'ConcurrentUpdateError';
}

function isStackNotFound(err: unknown): boolean {
  return err instanceof Error && err.name === 'StackNotFoundError';
}

/** The `error:` lines of a failed CLI call, for when the engine sent no diagnostics (it failed before running). */
function commandFailureText(err: unknown): string {
  const text = cleanEngineText(err instanceof Error ? err.message : String(err));
  const errorLines = text
    .split('\n')
    .map((l) => l.replace(/^\s*(stderr:\s*)?/, '').trim())
    .filter((l) => /^error:/i.test(l))
    .map((l) => l.replace(/^error:\s*/i, ''));
  const lines = errorLines.length > 0 ? errorLines : [text.split('\n').find((l) => l.trim() !== '')?.trim() ?? 'unknown error'];
  return [...new Set(lines)]
    .slice(0, 3)
    .map((l) => (l.length > 300 ? `${l.slice(0, 299)}…` : l))
    .join('\n');
}

/** Every string inside a secret output, so its plaintext can be masked wherever it shows up. */
function collectStrings(value: unknown, into: string[]): void {
  if (typeof value === 'string') into.push(value);
  else if (Array.isArray(value)) value.forEach((v) => collectStrings(v, into));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => collectStrings(v, into));
}

export class PulumiEngine implements InfraEngine {
  private readonly running = new Map<string, Running>();

  constructor(private readonly options: PulumiEngineOptions) {}

  async availability(): Promise<EngineAvailability> {
    try {
      return { available: true, version: await this.options.automation.cliVersion() };
    } catch (err) {
      const reason = err instanceof PulumiCliUnavailableError ? err.reason : commandFailureText(err);
      return { available: false, reason, install: PULUMI_INSTALL_HINT };
    }
  }

  async preview(target: StackTarget, opts: PreviewOptions = {}): Promise<PreviewResult> {
    if (opts.code) return this.previewCode(target, opts.code, opts);
    return this.exclusive(target, 'preview', opts.signal, async (run) => {
      const startedAt = this.now();
      const opened = await this.open(target, run.signal, { revision: opts.revision }).catch((err: unknown) => {
        // A checkout cut short by the abort fails with git's error; the caller asked for the abort, so say that.
        run.signal.throwIfAborted();
        throw err;
      });
      return this.runPreview(target, opened, { signal: run.signal, onEvent: opts.onEvent, startedAt });
    });
  }

  /** Other code than the stack's branch tip, in a workspace made for this run and removed after it, come what may. */
  private async previewCode(target: StackTarget, code: PreviewCode, opts: PreviewOptions): Promise<PreviewResult> {
    opts.signal?.throwIfAborted();
    const signal = opts.signal ?? new AbortController().signal;
    const startedAt = this.now();
    await this.assertCli();
    const workspace = await this.options.source.prepareWorkspace(target, code, { signal }).catch((err: unknown) => {
      signal.throwIfAborted();
      throw err;
    });
    try {
      const workDir = this.programDirOf(workspace);
      signal.throwIfAborted();
      await this.installFresh(target, workspace, workDir, signal);
      signal.throwIfAborted();
      const stack = await this.select(target, workDir);
      return await this.runPreview(target, { stack, checkout: workspace }, { signal, onEvent: opts.onEvent, startedAt, code });
    } catch (err) {
      signal.throwIfAborted();
      throw err;
    } finally {
      await workspace.dispose().catch((err: unknown) => this.options.log.warn({ stack: target.stack, root: workspace.root, err }, 'could not remove a preview workspace'));
    }
  }

  /** The tear-down's dry run: the program does not run (destroy reads the state), so nothing is installed. */
  async previewDestroy(target: StackTarget, opts: { signal?: AbortSignal } = {}): Promise<PreviewResult> {
    return this.exclusive(target, 'preview', opts.signal, async (run) => {
      const startedAt = this.now();
      const opened = await this.open(target, run.signal, { skipInstall: true }).catch((err: unknown) => {
        run.signal.throwIfAborted();
        throw err;
      });
      return this.runPreview(target, opened, { signal: run.signal, startedAt, destroy: true });
    });
  }

  private async runPreview(
    target: StackTarget,
    { stack, checkout }: { stack: AutomationStack; checkout: ProgramCheckout },
    run: { signal: AbortSignal; onEvent?: (p: EngineProgress) => void; startedAt: number; code?: PreviewCode; destroy?: boolean },
  ): Promise<PreviewResult> {
    run.signal.throwIfAborted();
    const fold = new EngineEventFold({ mode: 'preview', onProgress: this.guard(target, run.onEvent) });
    let changeSummary;
    try {
      const options = { onEvent: (e: Parameters<typeof fold.accept>[0]) => fold.accept(e), signal: run.signal };
      ({ changeSummary } = await (run.destroy ? stack.previewDestroy(options) : stack.preview(options)));
    } catch (err) {
      run.signal.throwIfAborted();
      if (isConcurrentUpdate(err)) throw this.conflict(target);
      const redact = this.redactor([]);
      const why = redact(fold.errorSummary() ?? commandFailureText(err));
      this.options.log.warn({ stack: target.stack, code: run.code, err: redact(commandFailureText(err)) }, 'pulumi preview failed');
      // Not an outage in the usual sense: the program or its providers refused. The hint carries their words.
      throw new UnavailableError(`The preview of ${target.stack} failed.`, why);
    }
    const { revision, baseRevision, headRevision } = checkout;
    const result: PreviewResult = {
      counts: fold.counts(changeSummary),
      changes: fold.changes(),
      steps: fold.steps(),
      durationMs: this.now() - run.startedAt,
      ...(revision ? { revision } : {}),
      ...(baseRevision ? { baseRevision } : {}),
      ...(headRevision ? { headRevision } : {}),
    };
    this.options.log.info(
      { stack: target.stack, code: run.code, counts: result.counts, durationMs: result.durationMs, revision, baseRevision, headRevision },
      'pulumi preview done',
    );
    return result;
  }

  up(target: StackTarget, opts: UpdateOptions = {}): Promise<UpdateResult> {
    return this.update('up', target, opts);
  }

  destroy(target: StackTarget, opts: UpdateOptions = {}): Promise<UpdateResult> {
    return this.update('destroy', target, opts);
  }

  /**
   * One output of the stack's last update, secrets decrypted: for Cockpit's own use (a drill's kubeconfig), never
   * for a message. Undefined when the stack has no such output.
   */
  async stackOutput(target: StackTarget, name: string): Promise<unknown> {
    return this.exclusive(target, 'outputs', undefined, async (run) => {
      const { stack } = await this.open(target, run.signal, { skipInstall: true });
      try {
        return (await stack.outputs())[name]?.value;
      } catch (err) {
        throw new UnavailableError(`Pulumi could not read the outputs of ${target.stack}.`, this.redactor([])(commandFailureText(err)));
      }
    });
  }

  async cancel(target: StackTarget): Promise<void> {
    const running = this.running.get(target.stack);
    if (running) {
      // SIGINT is Pulumi's graceful cancel: no new steps, running ones finish, the state stays consistent.
      this.options.log.info({ stack: target.stack, operation: running.kind }, 'cancelling the running pulumi operation');
      running.controller.abort(new DOMException(`The ${running.kind} of ${target.stack} was cancelled.`, 'AbortError'));
      return;
    }
    // Nothing runs here: the update belongs to a process that is gone or elsewhere; the backend can stop it.
    await this.exclusive(target, 'cancel', undefined, async (run) => {
      const { stack } = await this.open(target, run.signal, { skipInstall: true });
      try {
        await stack.cancel();
        this.options.log.warn({ stack: target.stack }, 'asked the pulumi backend to cancel the stack update');
      } catch (err) {
        const text = commandFailureText(err);
        if (/already completed|never been updated|no update/i.test(text)) {
          throw new NotFoundError(`No update is running on ${target.stack}.`);
        }
        throw new UnavailableError(`Pulumi could not cancel the update of ${target.stack}.`, this.redactor([])(text));
      }
    });
  }

  private async update(kind: 'up' | 'destroy', target: StackTarget, opts: UpdateOptions): Promise<UpdateResult> {
    return this.exclusive(target, kind, undefined, async (run) => {
      const startedAt = this.now();
      const fold = new EngineEventFold({ mode: 'update', expectedSteps: opts.expectedSteps, onProgress: this.guard(target, opts.onEvent) });
      const result = (outcome: UpdateResult['outcome'], extra: Partial<UpdateResult> = {}): UpdateResult => ({
        outcome,
        durationMs: this.now() - startedAt,
        counts: fold.counts(),
        outputs: {},
        logTail: fold.logTail(),
        ...extra,
      });

      let opened: { stack: AutomationStack; checkout: ProgramCheckout };
      try {
        opened = await this.open(target, run.signal, { revision: opts.revision });
      } catch (err) {
        // Cancelled while checking out: nothing was applied, which is an outcome, not an error.
        if (run.signal.aborted) return result('cancelled');
        throw err;
      }
      const { stack } = opened;
      const { revision } = opened.checkout;
      if (run.signal.aborted) return result('cancelled', revision ? { revision } : {});

      const runOptions = { onEvent: (e: Parameters<typeof fold.accept>[0]) => fold.accept(e), signal: run.signal };
      let outcome: UpdateResult['outcome'] = 'succeeded';
      let failure: unknown;
      let outputs: UpdateResult['outputs'] = {};
      const secretValues: string[] = [];
      try {
        if (kind === 'up') {
          const upResult = await stack.up(runOptions);
          for (const [name, output] of Object.entries(upResult.outputs)) {
            if (output.secret) collectStrings(output.value, secretValues);
            outputs[name] = { value: output.secret ? SECRET_MASK : output.value, secret: output.secret };
          }
        } else {
          await stack.destroy(runOptions);
        }
      } catch (err) {
        if (isConcurrentUpdate(err)) throw this.conflict(target);
        outcome = run.signal.aborted ? 'cancelled' : 'failed';
        failure = err;
        outputs = {};
      }

      const redact = this.redactor(secretValues);
      const final = result(outcome, {
        outputs,
        logTail: fold.logTail().map(redact),
        ...(outcome === 'failed' ? { error: redact(fold.errorSummary() ?? commandFailureText(failure)) } : {}),
        ...(revision ? { revision } : {}),
      });
      const logFields = { stack: target.stack, operation: kind, outcome, counts: final.counts, durationMs: final.durationMs, revision };
      if (outcome === 'failed') this.options.log.warn({ ...logFields, error: final.error }, `pulumi ${kind} failed`);
      else this.options.log.info(logFields, `pulumi ${kind} ${outcome}`);
      return final;
    });
  }

  /** Checks the CLI, checks the program out, installs its dependencies when they changed, and selects the stack. */
  private async open(
    target: StackTarget,
    signal: AbortSignal,
    opts: { revision?: string; skipInstall?: boolean },
  ): Promise<{ stack: AutomationStack; checkout: ProgramCheckout }> {
    await this.assertCli();
    const checkout = await this.options.source.prepare(target, { revision: opts.revision, signal });
    const workDir = this.programDirOf(checkout);

    if (checkout.staleDependencies && !opts.skipInstall) {
      signal.throwIfAborted();
      this.options.log.info({ stack: target.stack, workDir }, 'installing the infra program dependencies');
      await this.pulumiInstall(workDir);
      await checkout.staleDependencies.record();
    }

    return { stack: await this.select(target, workDir), checkout };
  }

  private async assertCli(): Promise<void> {
    try {
      await this.options.automation.cliVersion();
    } catch (err) {
      const reason = err instanceof PulumiCliUnavailableError ? err.reason : commandFailureText(err);
      throw new UnavailableError(`Pulumi is not available: ${reason}.`, PULUMI_INSTALL_HINT);
    }
  }

  private programDirOf(checkout: ProgramCheckout): string {
    const { programDir } = this.options;
    const workDir = join(checkout.root, programDir);
    if (!PROJECT_FILES.some((f) => existsSync(join(workDir, f)))) {
      throw new NotFoundError(
        `There is no Pulumi program in ${programDir}/ of the infra repo${checkout.revision ? ` at ${checkout.revision.slice(0, 12)}` : ''}.`,
        'It needs a Pulumi.yaml there.',
      );
    }
    return workDir;
  }

  /** A workspace starts with no packages: Node ones from the lockfile, anything else through `pulumi install`. */
  private async installFresh(target: StackTarget, workspace: ProgramWorkspace, workDir: string, signal: AbortSignal): Promise<void> {
    const locked = lockedInstall(workspace.root, this.options.programDir);
    this.options.log.info({ stack: target.stack, workDir, lockfile: locked?.lockfile }, 'installing the preview workspace dependencies');
    if (locked) return this.options.installer(locked, { signal });
    await this.pulumiInstall(workDir);
  }

  private async pulumiInstall(workDir: string): Promise<void> {
    try {
      await this.options.automation.installDependencies(workDir, this.options.workspace);
    } catch (err) {
      throw new UnavailableError(`Installing the infra program's dependencies failed.`, this.redactor([])(commandFailureText(err)));
    }
  }

  private async select(target: StackTarget, workDir: string): Promise<AutomationStack> {
    try {
      return await this.options.automation.selectStack({ stackName: target.pulumiStack, workDir }, this.options.workspace);
    } catch (err) {
      if (isStackNotFound(err)) {
        throw new NotFoundError(
          `Pulumi stack "${target.pulumiStack}" does not exist in the backend.`,
          `Create it once with \`pulumi stack init ${target.pulumiStack}\` in ${this.options.programDir}/, or fix pulumiStack in cockpit.yml.`,
        );
      }
      throw new UnavailableError(`Pulumi could not open stack "${target.pulumiStack}".`, this.redactor([])(commandFailureText(err)));
    }
  }

  private async exclusive<T>(
    target: StackTarget,
    kind: OperationKind,
    callerSignal: AbortSignal | undefined,
    body: (run: Running) => Promise<T>,
  ): Promise<T> {
    callerSignal?.throwIfAborted();
    const busy = this.running.get(target.stack);
    if (busy) {
      throw new ConflictError(`A ${busy.kind} of ${target.stack} is already running.`, 'Wait for it to finish, or cancel it.');
    }
    const controller = new AbortController();
    const signal = callerSignal ? AbortSignal.any([callerSignal, controller.signal]) : controller.signal;
    const run: Running = { kind, controller, signal };
    this.running.set(target.stack, run);
    try {
      return await body(run);
    } finally {
      this.running.delete(target.stack);
    }
  }

  private conflict(target: StackTarget): ConflictError {
    return new ConflictError(
      `Another Pulumi update of ${target.stack} is in progress.`,
      `Wait for it to finish. If the process running it died, \`/cockpit cancel ${target.stack}\` releases the stack.`,
    );
  }

  /** Progress callbacks run inside the CLI's event stream; a throwing one must not abort a deploy. */
  private guard(target: StackTarget, onEvent?: (p: EngineProgress) => void): ((p: EngineProgress) => void) | undefined {
    if (!onEvent) return undefined;
    return (progress) => {
      try {
        onEvent(progress);
      } catch (err) {
        this.options.log.warn({ stack: target.stack, err }, 'progress callback threw; the operation goes on');
      }
    };
  }

  private redactor(extra: string[]): (text: string) => string {
    const secrets = [...this.options.secrets, ...extra]
      .filter((s) => s.length >= MIN_REDACTED_LENGTH)
      .sort((a, b) => b.length - a.length);
    return (text) => secrets.reduce((out, secret) => out.split(secret).join(SECRET_MASK), text);
  }

  private now(): number {
    return this.options.clock.now().getTime();
  }
}
