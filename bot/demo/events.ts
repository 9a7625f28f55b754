import type { EngineEvent, OpMap, OpType, StepEventMetadata, StepEventStateMetadata } from '@pulumi/pulumi/automation';

/**
 * The demo's stand-in for the Pulumi CLI's event stream: the engine events a run of a plan would write with
 * `--event-log`, in the CLI's order and shapes (the types are the SDK's own), so the real adapter folds them
 * into the risk report and the progress exactly as it folds a real run's.
 */

/** One resource the demo's "program" declares. `version` stands for its inputs: a new version is a change. */
export interface DemoResource {
  type: string;
  name: string;
  version: number;
  /** Properties whose change forces a replacement (a PVC's storage class, a cluster's region). */
  replaceOn?: string[];
}

/** One step of a run, as the engine plans it. */
export interface DemoStep {
  op: 'create' | 'update' | 'replace' | 'delete' | 'same';
  resource: DemoResource;
}

/** What the engine would do to go from `current` to `desired`, in program order, deletions last. */
export function planSteps(current: readonly DemoResource[], desired: readonly DemoResource[]): DemoStep[] {
  const key = (r: DemoResource) => `${r.type}::${r.name}`;
  const before = new Map(current.map((r) => [key(r), r]));
  const wanted = new Set(desired.map(key));
  const steps: DemoStep[] = desired.map((resource) => {
    const old = before.get(key(resource));
    if (!old) return { op: 'create', resource };
    if (old.version === resource.version) return { op: 'same', resource };
    return { op: resource.replaceOn ? 'replace' : 'update', resource };
  });
  for (const old of current) if (!wanted.has(key(old))) steps.push({ op: 'delete', resource: old });
  return steps;
}

export interface RunShape {
  project: string;
  stack: string;
  /** `default_4_34_2`: the default provider's name, as the engine names it. */
  providerVersion: string;
}

/** A run's events, grouped per step so a player can pause where the CLI would be working. */
export interface EventScript {
  /** Events before the first step (prelude, the stack component, the default provider). */
  opening: EngineEvent[];
  /** Per step: the events the CLI writes while it works on it; `busy` marks the ones that take time. */
  steps: Array<{ events: EngineEvent[]; busy: boolean }>;
  /** The summary and the end of the stream. */
  closing: EngineEvent[];
  /** Pulumi's own change counts (what `changeSummary` returns). */
  summary: OpMap;
}

/**
 * The stream a preview (`planning: true`) or an update of `steps` produces. Replacements are
 * create-before-delete as the engine does by default: `create-replacement` and `replace` in place, the
 * `delete-replaced` at the end; the summary counts the replacement once, as `replace`.
 */
export function engineEvents(shape: RunShape, mode: 'preview' | 'update', steps: readonly DemoStep[], warnings: readonly string[] = []): EventScript {
  let sequence = 0;
  const started = Math.floor(Date.now() / 1000);
  const event = (payload: Omit<EngineEvent, 'sequence' | 'timestamp'>): EngineEvent => {
    sequence += 1;
    return { sequence, timestamp: started + sequence, ...payload } as EngineEvent;
  };
  const planning = mode === 'preview' ? { planning: true } : {};
  const urn = (type: string, name: string) => `urn:pulumi:${shape.stack}::${shape.project}::${type}::${name}`;
  const stackType = 'pulumi:pulumi:Stack';
  const stackName = `${shape.project}-${shape.stack}`;
  const providerUrn = urn('pulumi:providers:kubernetes', shape.providerVersion);
  const provider = `${providerUrn}::04da6b54-80e4-46f7-96ec-b56ff0331ba9`;

  const metadata = (op: OpType, r: DemoResource, custom = true): StepEventMetadata => {
    const id = `default/${r.name}`;
    const state = (extra: Partial<StepEventStateMetadata> = {}): StepEventStateMetadata => ({
      type: r.type,
      urn: urn(r.type, r.name),
      custom,
      id,
      parent: r.type === stackType ? '' : urn(stackType, stackName),
      inputs: { metadata: { name: r.name } },
      outputs: { metadata: { name: r.name } },
      provider: custom ? provider : '',
      ...extra,
    });
    const before = ['update', 'replace', 'delete', 'same', 'delete-replaced'].includes(op);
    const after = ['create', 'update', 'replace', 'same', 'create-replacement'].includes(op);
    const logical = op !== 'create-replacement' && op !== 'delete-replaced';
    const md: StepEventMetadata = {
      op,
      urn: urn(r.type, r.name),
      type: r.type,
      provider: custom ? provider : '',
      ...(before ? { old: state(op === 'delete-replaced' ? { delete: true } : {}) } : {}),
      ...(after ? { new: state(op === 'create' || op === 'create-replacement' ? { id: '' } : {}) } : {}),
      // The CLI omits `logical: false`.
      ...(logical ? { logical: true } : {}),
    };
    if (op === 'replace' || op === 'create-replacement' || op === 'delete-replaced') {
      md.keys = r.replaceOn ?? [];
      md.diffs = r.replaceOn ?? [];
      md.detailedDiff = Object.fromEntries((r.replaceOn ?? []).map((k) => [k, { diffKind: 'update-replace', inputDiff: true }])) as StepEventMetadata['detailedDiff'];
    } else if (op === 'update') {
      md.diffs = ['spec'];
      md.detailedDiff = { spec: { diffKind: 'update', inputDiff: true } } as unknown as StepEventMetadata['detailedDiff'];
    }
    return md;
  };

  const stackResource: DemoResource = { type: stackType, name: stackName, version: 1 };
  const providerResource: DemoResource = { type: 'pulumi:providers:kubernetes', name: shape.providerVersion, version: 1 };
  const opening: EngineEvent[] = [
    event({ preludeEvent: { config: { 'kubernetes:context': `do-${shape.stack}` } } }),
    event({ resourcePreEvent: { metadata: metadata('same', stackResource, false), ...planning } }),
    event({ resourcePreEvent: { metadata: metadata('same', providerResource), ...planning } }),
    event({ resOutputsEvent: { metadata: metadata('same', providerResource), ...planning } }),
  ];
  const stepEvents = (op: OpType, r: DemoResource) => [
    event({ resourcePreEvent: { metadata: metadata(op, r), ...planning } }),
    event({ resOutputsEvent: { metadata: metadata(op, r), ...planning } }),
  ];
  const script: EventScript['steps'] = [];
  for (const step of steps) {
    if (step.op === 'replace') {
      script.push({ events: [...stepEvents('create-replacement', step.resource), ...stepEvents('replace', step.resource)], busy: true });
    } else {
      script.push({ events: stepEvents(step.op, step.resource), busy: step.op !== 'same' });
    }
  }
  for (const step of steps) if (step.op === 'replace') script.push({ events: stepEvents('delete-replaced', step.resource), busy: true });
  const diagnostics = warnings.map((message) => event({ diagnosticEvent: { message: `${message}\n`, color: 'never', severity: 'warning' } }));
  if (script.length > 0) script[script.length - 1]!.events.push(...diagnostics);

  const summary: OpMap = {};
  for (const step of steps) summary[step.op] = (summary[step.op] ?? 0) + 1;
  const closing = [
    // The stack component reports its outputs when the program finishes.
    event({ resOutputsEvent: { metadata: metadata('same', stackResource, false), ...planning } }),
    event({ summaryEvent: { maybeCorrupt: false, durationSeconds: 1, resourceChanges: summary, policyPacks: {} } }),
    event({ cancelEvent: {} }),
  ];
  return { opening, steps: script, closing, summary };
}
