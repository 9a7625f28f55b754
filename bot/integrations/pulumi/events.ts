import type { DiagnosticEvent, EngineEvent, OpMap, StepEventMetadata } from '@pulumi/pulumi/automation';
import type { ChangeCounts, EngineProgress, ResourceChange, ResourceOp } from '../../../handlers/model/infra';

/**
 * Folds the Automation API's engine events (the same JSON the CLI writes with `--event-log`) into Cockpit's
 * domain results: counts, per-resource changes, progress, short error text and a log tail. Kept apart from the
 * CLI plumbing so the folding is tested against scripted event streams with the real shapes.
 */

const COUNTED_OPS = ['create', 'update', 'replace', 'delete', 'same'] as const;

/**
 * The steps a replacement is made of. The engine walks `create-replacement`, the logical `replace` marker and
 * `delete-replaced` (or the delete first, for delete-before-replace); its summary counts only `replace`, and so
 * does a person reading a risk report: one resource, replaced.
 */
const REPLACEMENT_OPS = new Set<string>([
  'replace',
  'create-replacement',
  'delete-replaced',
  'read-replacement',
  'import-replacement',
  'discard-replaced',
]);

/** Which op wins when one resource has several steps: the most destructive, as a reviewer would want to see it. */
const OP_WEIGHT: Record<string, number> = { replace: 4, delete: 3, create: 2, update: 1 };

const VERB: Record<string, string> = {
  create: 'creating',
  update: 'updating',
  replace: 'replacing',
  'create-replacement': 'creating a replacement for',
  'delete-replaced': 'deleting the replaced',
  delete: 'deleting',
  read: 'reading',
  'read-replacement': 'reading a replacement for',
  refresh: 'refreshing',
  import: 'importing',
  'import-replacement': 'importing a replacement for',
  discard: 'discarding',
  'discard-replaced': 'discarding the replaced',
};

/** Pulumi's own failure lines that say nothing the resource-level diagnostics do not. */
const GENERIC_FAILURE = /^(update|preview|destroy|refresh|import) failed\.?$/i;
const ERROR_COUNT_LINE = /^\d+ errors? occurred:?$/i;

// Pulumi marks colours with `<{%fg 1%}>` directives when it does not render them, and ANSI codes when it does.
const COLOR_DIRECTIVE = /<\{%[^%]*%\}>/g;
// eslint-disable-next-line no-control-regex -- ANSI escapes start with the ESC control character by definition
const ANSI_ESCAPE = /\u001b\[[0-9;?]*[A-Za-z]/g;

const MAX_ERROR_LINES = 5;
const MAX_LINE_LENGTH = 300;

export function emptyCounts(): ChangeCounts {
  return { create: 0, update: 0, replace: 0, delete: 0, same: 0 };
}

/** The logical name at the end of a URN (`urn:pulumi:<stack>::<project>::<type>::<name>`); names may hold `::`. */
export function nameOfUrn(urn: string): string {
  const parts = urn.split('::');
  return parts.length >= 4 ? parts.slice(3).join('::') : urn;
}

/**
 * Steps the engine itself leaves out of its summary: default providers (implicit, one per package) and the
 * bookkeeping `remove-pending-replace`. Counting them would make our numbers disagree with `pulumi preview`.
 */
function isInternalStep(md: StepEventMetadata): boolean {
  if (md.op === 'remove-pending-replace') return true;
  return md.type.startsWith('pulumi:providers:') && nameOfUrn(md.urn).startsWith('default');
}

export function cleanEngineText(text: string): string {
  return text.replace(COLOR_DIRECTIVE, '').replace(ANSI_ESCAPE, '');
}

function clip(line: string): string {
  return line.length > MAX_LINE_LENGTH ? `${line.slice(0, MAX_LINE_LENGTH - 1)}…` : line;
}

type Step = { key: string; op: string; type: string; urn: string; internal: boolean };
type Failure = { where: string; lines: string[] };

export interface FoldOptions {
  /** A preview's counts are the planned steps; an update's, the steps that got done. */
  mode: 'preview' | 'update';
  /** The preview's step count, so progress has its total before the steps start. */
  expectedSteps?: number;
  /** Called after every step start and finish. */
  onProgress?(progress: EngineProgress): void;
  /** How many log lines to keep. */
  logTailSize?: number;
}

export class EngineEventFold {
  private readonly started = new Map<string, Step>();
  private readonly succeeded = new Set<string>();
  private readonly failed = new Set<string>();
  /** Started and not yet finished, in start order, so the newest is last. */
  private readonly inFlight = new Map<string, Step>();
  private readonly failures: Failure[] = [];
  private readonly tail: string[] = [];
  private summary?: OpMap;
  private corrupt = false;

  constructor(private readonly options: FoldOptions) {}

  accept(event: EngineEvent): void {
    if (event.resourcePreEvent) {
      this.stepStarted(event.resourcePreEvent.metadata);
    } else if (event.resOutputsEvent) {
      this.stepFinished(event.resOutputsEvent.metadata, true);
    } else if (event.resOpFailedEvent) {
      this.stepFinished(event.resOpFailedEvent.metadata, false);
    } else if (event.diagnosticEvent) {
      this.diagnostic(event.diagnosticEvent);
    } else if (event.policyEvent) {
      const p = event.policyEvent;
      const where = p.resourceUrn ? this.describeUrn(p.resourceUrn) : '';
      const lines = this.addLog(`policy ${p.enforcementLevel}`, where, `${p.policyPackName}/${p.policyName}: ${p.message}`);
      if (p.enforcementLevel === 'mandatory') this.failures.push({ where, lines });
    } else if (event.stdoutEvent) {
      this.addLog('', '', event.stdoutEvent.message);
    } else if (event.summaryEvent) {
      this.summary = event.summaryEvent.resourceChanges;
      this.corrupt = event.summaryEvent.maybeCorrupt;
    }
  }

  /** Pulumi's summary when the engine sent one (it is authoritative), else counted from the steps seen. */
  counts(fallbackSummary?: OpMap): ChangeCounts {
    const summary = this.summary ?? (fallbackSummary && Object.keys(fallbackSummary).length > 0 ? fallbackSummary : undefined);
    const counts = emptyCounts();
    if (summary) {
      for (const op of COUNTED_OPS) counts[op] = summary[op] ?? 0;
      return counts;
    }
    for (const step of this.started.values()) {
      if (step.internal) continue;
      if (this.options.mode === 'update' && !this.succeeded.has(step.key)) continue;
      if ((COUNTED_OPS as readonly string[]).includes(step.op)) counts[step.op as keyof ChangeCounts] += 1;
    }
    return counts;
  }

  /** Every non-same step, one entry per resource, a replacement once as `replace`. */
  changes(): ResourceChange[] {
    const byUrn = new Map<string, ResourceChange>();
    for (const step of this.started.values()) {
      if (step.internal || step.op === 'same') continue;
      // An op a newer CLI invents still reaches the report as itself rather than vanishing.
      const op = (REPLACEMENT_OPS.has(step.op) ? 'replace' : step.op) as ResourceOp;
      const seen = byUrn.get(step.urn);
      if (!seen) {
        byUrn.set(step.urn, { op, type: step.type, name: nameOfUrn(step.urn), urn: step.urn });
      } else if ((OP_WEIGHT[op] ?? 0) > (OP_WEIGHT[seen.op] ?? 0)) {
        seen.op = op;
      }
    }
    return [...byUrn.values()];
  }

  /** Steps walked, sames and both halves of replacements included: what an update's progress counts. */
  steps(): number {
    let n = 0;
    for (const step of this.started.values()) if (!step.internal) n += 1;
    return n;
  }

  progress(): EngineProgress {
    let total = 0;
    let done = 0;
    for (const step of this.started.values()) {
      if (step.internal) continue;
      total += 1;
      if (this.succeeded.has(step.key) || this.failed.has(step.key)) done += 1;
    }
    let current: string | undefined;
    for (const step of this.inFlight.values()) {
      if (step.op !== 'same' && !step.internal) current = `${VERB[step.op] ?? step.op} ${step.type} ${nameOfUrn(step.urn)}`;
    }
    return { done, total: Math.max(total, this.options.expectedSteps ?? 0), ...(current ? { current } : {}) };
  }

  /** A few short lines saying why the run failed; undefined when the engine reported no error. */
  errorSummary(): string | undefined {
    const lines: string[] = [];
    const specific = this.failures.filter((f) => !f.lines.every((l) => GENERIC_FAILURE.test(l)));
    for (const failure of specific.length > 0 ? specific : this.failures) {
      const meaningful = failure.lines.filter((l) => !ERROR_COUNT_LINE.test(l));
      for (const line of meaningful.slice(0, 2)) {
        const text = clip(failure.where ? `${failure.where}: ${line}` : line);
        if (!lines.includes(text)) lines.push(text);
      }
    }
    if (this.corrupt) lines.unshift('Pulumi reports the stack state may be inconsistent (a resource operation was interrupted).');
    return lines.length > 0 ? lines.slice(0, MAX_ERROR_LINES).join('\n') : undefined;
  }

  logTail(): string[] {
    return [...this.tail];
  }

  private stepStarted(md: StepEventMetadata): void {
    const key = `${md.op}\u0000${md.urn}`;
    if (!this.started.has(key)) {
      const step = { key, op: md.op, type: md.type, urn: md.urn, internal: isInternalStep(md) };
      this.started.set(key, step);
      this.inFlight.set(key, step);
    }
    if (!isInternalStep(md)) this.emitProgress();
  }

  private stepFinished(md: StepEventMetadata, ok: boolean): void {
    const key = `${md.op}\u0000${md.urn}`;
    // Components report outputs again when the program registers them; only the first finish counts.
    if (!this.started.has(key) || this.succeeded.has(key) || this.failed.has(key)) return;
    (ok ? this.succeeded : this.failed).add(key);
    this.inFlight.delete(key);
    if (!isInternalStep(md)) this.emitProgress();
  }

  private diagnostic(d: DiagnosticEvent): void {
    // Ephemeral diagnostics are status chatter the CLI overwrites in place (e.g. "waiting for rollout").
    if (d.ephemeral) return;
    const where = d.urn ? this.describeUrn(d.urn) : '';
    const label = d.severity === 'error' || d.severity === 'warning' ? d.severity : '';
    const lines = this.addLog(label, where, d.message);
    if (d.severity === 'error' && lines.length > 0) this.failures.push({ where, lines });
  }

  private describeUrn(urn: string): string {
    const type = urn.split('::')[2]?.split('$').pop();
    return type ? `${type} ${nameOfUrn(urn)}` : urn;
  }

  /** Appends a message's lines to the tail and returns them cleaned (without the label). */
  private addLog(label: string, where: string, message: string): string[] {
    const lines = cleanEngineText(message)
      .split('\n')
      // Multi-errors list causes as `\t* cause`; some messages repeat the severity the label already gives.
      .map((l) => l.replace(/^\s*\*\s+/, '').replace(/^(error|warning):\s+/i, '').trim())
      .filter((l) => l.length > 0);
    const prefix = [label, where].filter(Boolean).map((part) => `${part}: `).join('');
    for (const line of lines) this.tail.push(clip(`${prefix}${line}`));
    const keep = this.options.logTailSize ?? 40;
    if (this.tail.length > keep) this.tail.splice(0, this.tail.length - keep);
    return lines;
  }

  private emitProgress(): void {
    this.options.onProgress?.(this.progress());
  }
}
