import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { OpMap, OutputMap } from '@pulumi/pulumi/automation';
import { ConflictError, NotFoundError } from '../../handlers/errors';
import type { Clock, Logger } from '../../handlers/ports';
import type { PreviewCode } from '../../handlers/model/infra';
import type { StackTarget } from '../../handlers/model/stacks';
import type { Automation, AutomationRunOptions, AutomationStack } from '../integrations/pulumi/automation';
import type { ProgramCheckout, ProgramSource, ProgramWorkspace } from '../integrations/pulumi/checkout';
import { PulumiEngine } from '../integrations/pulumi/engine';
import { engineEvents, planSteps, type DemoResource, type DemoStep } from './events';
import type { DemoRepository } from './repository';

/**
 * The demo's infra engine: Cockpit's real Pulumi adapter (PulumiEngine: event folding, progress, cancellation,
 * "what runs is what was previewed") driven by a simulated Automation API instead of the Pulumi CLI. Each stack
 * has a desired set of resources and a current one; a preview plans the difference, an update plays it step by
 * step at a human pace and leaves the stack in its new state, a tear-down deletes it all.
 */

export const DEMO_ENGINE_VERSION = 'DEMO (simulated Pulumi 3.248.0 engine, no CLI)';

const k8s = {
  namespace: 'kubernetes:core/v1:Namespace',
  deployment: 'kubernetes:apps/v1:Deployment',
  service: 'kubernetes:core/v1:Service',
  configMap: 'kubernetes:core/v1:ConfigMap',
  secret: 'kubernetes:core/v1:Secret',
  ingress: 'kubernetes:networking.k8s.io/v1:Ingress',
  pvc: 'kubernetes:core/v1:PersistentVolumeClaim',
  statefulSet: 'kubernetes:apps/v1:StatefulSet',
  pdb: 'kubernetes:policy/v1:PodDisruptionBudget',
};

const r = (type: string, name: string, version = 1, replaceOn?: string[]): DemoResource => ({ type, name, version, ...(replaceOn ? { replaceOn } : {}) });

/** The product environment every stack runs, at version 1. */
const BASE: DemoResource[] = [
  r(k8s.namespace, 'product'),
  r(k8s.secret, 'db-credentials'),
  r(k8s.pvc, 'pg-data', 1, ['spec.storageClassName']),
  r(k8s.statefulSet, 'postgres'),
  r(k8s.configMap, 'web-config'),
  r(k8s.deployment, 'web'),
  r(k8s.service, 'web'),
  r(k8s.ingress, 'web'),
];

/** `resources` with some of them at a new version (changed inputs). */
const changed = (resources: DemoResource[], ...changes: Array<[type: string, name: string, version: number]>) =>
  resources.map((res) => {
    const change = changes.find(([type, name]) => type === res.type && name === res.name);
    return change ? { ...res, version: change[2] } : res;
  });

/** What each stack's program declares, and what runs there when the demo starts. */
const STACKS: Record<string, { desired: DemoResource[]; current: DemoResource[] }> = {
  // Ephemeral stacks start torn down: `up dev` creates everything.
  dev: { desired: [...BASE, r(k8s.deployment, 'search')], current: [] },
  integration: { desired: BASE, current: [] },
  // The data volume moves to another storage class: a replacement of a stateful resource, what a risk report is for.
  staging: {
    desired: [...changed(BASE, [k8s.pvc, 'pg-data', 2], [k8s.configMap, 'web-config', 2], [k8s.deployment, 'web', 2]), r(k8s.pdb, 'web')],
    current: BASE,
  },
  prod: { desired: [...changed(BASE, [k8s.deployment, 'web', 2]), r(k8s.pdb, 'web')], current: BASE },
};

/** How long the simulated engine takes, in ms, on a step of each kind of resource. */
const STEP_MS: Record<string, number> = { [k8s.deployment]: 1500, [k8s.statefulSet]: 1200, [k8s.pvc]: 1500 };
const DEFAULT_STEP_MS = 400;
const PLANNING_MS = 600;

function stackNotFound(name: string): Error {
  // The adapter tells this error by its name, as the Automation API's StackNotFoundError.
  return Object.assign(new Error(`error: no stack named '${name}' found`), { name: 'StackNotFoundError' });
}

export class DemoAutomation implements Automation {
  private readonly current = new Map<string, DemoResource[]>(Object.entries(STACKS).map(([name, s]) => [name, [...s.current]]));

  /** `pace` scales every wait: 1 is a person's pace, 0 runs as fast as events can be folded (tests). */
  constructor(private readonly pace = 1) {}

  async cliVersion(): Promise<string> {
    return DEMO_ENGINE_VERSION;
  }

  async selectStack(args: { stackName: string }): Promise<AutomationStack> {
    const stack = STACKS[args.stackName];
    if (!stack) throw stackNotFound(args.stackName);
    return new DemoStack(args.stackName, stack.desired, {
      current: () => this.current.get(args.stackName) ?? [],
      set: (resources) => this.current.set(args.stackName, resources),
      wait: (ms, signal) => this.wait(ms, signal),
    });
  }

  async installDependencies(): Promise<void> {}

  private wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.pace === 0) return new Promise((resolve) => setImmediate(resolve));
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms * this.pace);
      // SIGINT reaches the CLI wherever it is: stop waiting, the run checks the signal next.
      signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
  }
}

type StackState = {
  current(): DemoResource[];
  set(resources: DemoResource[]): void;
  wait(ms: number, signal?: AbortSignal): Promise<void>;
};

class DemoStack implements AutomationStack {
  constructor(
    private readonly name: string,
    private readonly desired: DemoResource[],
    private readonly state: StackState,
  ) {}

  async preview(opts: AutomationRunOptions): Promise<{ changeSummary: OpMap }> {
    const steps = planSteps(this.state.current(), this.desired);
    await this.state.wait(PLANNING_MS, opts.signal);
    return { changeSummary: await this.play('preview', steps, opts) };
  }

  async up(opts: AutomationRunOptions): Promise<{ outputs: OutputMap }> {
    await this.play('update', planSteps(this.state.current(), this.desired), opts, ['web: waiting for 1 of 3 new pods to become ready (DEMO)']);
    return { outputs: await this.outputs() };
  }

  /** The stack's outputs, as `pulumi stack output` gives them (a drill would read its kubeconfig here). */
  async outputs(): Promise<OutputMap> {
    return {
      url: { value: `https://${this.name}.demo.invalid`, secret: false },
      dbPassword: { value: 'demo-not-a-real-password', secret: true },
    };
  }

  async destroy(opts: AutomationRunOptions): Promise<unknown> {
    await this.play('update', this.teardown(), opts);
    return {};
  }

  /** `pulumi destroy --preview-only`: the deletions planned, nothing deleted. */
  async previewDestroy(opts: AutomationRunOptions): Promise<{ changeSummary: OpMap }> {
    await this.state.wait(PLANNING_MS, opts.signal);
    return { changeSummary: await this.play('preview', this.teardown(), opts) };
  }

  private teardown(): DemoStep[] {
    return [...this.state.current()].reverse().map((resource) => ({ op: 'delete', resource }));
  }

  /** The backend's cancel of an update run elsewhere: the demo runs none elsewhere. */
  async cancel(): Promise<void> {}

  /** Emits the run's events; an update changes the stack's resources as each step finishes. */
  private async play(mode: 'preview' | 'update', steps: DemoStep[], opts: AutomationRunOptions, warnings: string[] = []): Promise<OpMap> {
    const script = engineEvents({ project: 'infra', stack: this.name, providerVersion: 'default_4_34_2' }, mode, steps, warnings);
    script.opening.forEach(opts.onEvent);
    for (const [i, step] of script.steps.entries()) {
      const [started, ...rest] = step.events;
      opts.onEvent(started!);
      if (step.busy && mode === 'update') await this.state.wait(STEP_MS[steps[i]?.resource.type ?? ''] ?? DEFAULT_STEP_MS, opts.signal);
      else await this.state.wait(0, opts.signal);
      rest.forEach(opts.onEvent);
      if (mode === 'update' && steps[i]) this.apply(steps[i]!);
      if (opts.signal?.aborted) {
        // After SIGINT the CLI finishes the step in flight, reports the cancellation and exits non-zero.
        opts.onEvent({ sequence: 100_000, timestamp: Math.floor(Date.now() / 1000), diagnosticEvent: { message: 'update canceled\n', color: 'never', severity: 'error' } });
        throw new Error('error: update canceled');
      }
    }
    script.closing.forEach(opts.onEvent);
    return script.summary;
  }

  private apply(step: DemoStep): void {
    const key = (res: DemoResource) => `${res.type}::${res.name}`;
    const others = this.state.current().filter((res) => key(res) !== key(step.resource));
    this.state.set(step.op === 'delete' ? others : [...others, step.resource]);
  }
}

/** The program "checked out" at the demo repository's commits: a Pulumi.yaml in a throwaway directory. */
export class DemoProgramSource implements ProgramSource {
  private readonly root: string;

  constructor(
    private readonly repo: DemoRepository,
    private readonly dir: string,
  ) {
    this.root = this.program(join(dir, 'program'));
  }

  async prepare(target: StackTarget, opts: { revision?: string } = {}): Promise<ProgramCheckout> {
    const tip = this.repo.tip(target.branch);
    if (!tip) throw new NotFoundError(`No branch ${target.branch} in the demo repository.`);
    if (opts.revision !== undefined && !this.repo.contains(target.branch, opts.revision)) {
      throw new ConflictError(`${target.branch} no longer contains ${opts.revision.slice(0, 12)}, the commit that was previewed.`, 'Preview again.');
    }
    return { root: this.root, revision: opts.revision ?? tip };
  }

  async prepareWorkspace(_target: StackTarget, code: PreviewCode): Promise<ProgramWorkspace> {
    const revision = code.kind === 'branch' ? this.repo.tip(code.branch) : code.headSha;
    if (!revision) throw new NotFoundError(`No branch ${code.kind === 'branch' ? code.branch : ''} in the demo repository.`);
    const root = this.program(mkdtempSync(join(this.dir, 'preview-')));
    return { root, revision, dispose: () => rm(root, { recursive: true, force: true }) };
  }

  private program(root: string): string {
    mkdirSync(join(root, 'infra'), { recursive: true });
    writeFileSync(join(root, 'infra', 'Pulumi.yaml'), 'name: infra\nruntime: nodejs\ndescription: DEMO program (nothing here is deployed)\n');
    return root;
  }
}

/** The real Pulumi adapter over the simulated engine and the demo repository. */
export function demoEngine(deps: { repo: DemoRepository; dir: string; clock: Clock; log: Logger; pace?: number }): PulumiEngine {
  return new PulumiEngine({
    automation: new DemoAutomation(deps.pace),
    installer: async () => undefined,
    source: new DemoProgramSource(deps.repo, deps.dir),
    programDir: 'infra',
    workspace: { envVars: {} },
    clock: deps.clock,
    log: deps.log.child({ integration: 'demo-engine' }),
    secrets: [],
  });
}
