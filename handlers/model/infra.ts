/** What the infra engine (Pulumi) previews and applies: changes, counts, progress, results. */

/** Pulumi's step operations. In previews the halves of a replacement fold into one `replace`. */
export type ResourceOp =
  | 'create'
  | 'update'
  | 'replace'
  | 'delete'
  | 'same'
  | 'create-replacement'
  | 'delete-replaced'
  | 'read'
  | 'read-replacement'
  | 'refresh'
  | 'discard'
  | 'discard-replaced'
  | 'import'
  | 'import-replacement'
  | 'remove-pending-replace';

/** One resource a preview would touch. */
export interface ResourceChange {
  /** What happens to it; a replacement appears once, as `replace`. */
  op: ResourceOp;
  /** The Pulumi type token, e.g. `kubernetes:core/v1:PersistentVolumeClaim`. */
  type: string;
  /** The resource's logical name (the last part of its URN). */
  name: string;
  /** The full Pulumi URN. */
  urn: string;
}

/** How many resources each kind of change touches, as Pulumi's own summary counts them. */
export type ChangeCounts = Record<'create' | 'update' | 'replace' | 'delete' | 'same', number>;

export interface PreviewResult {
  /** Pulumi's summary counts; a replacement counts once, as `replace`. */
  counts: ChangeCounts;
  /** Every step that is not `same`, one entry per resource, in the engine's order. */
  changes: ResourceChange[];
  /** How many steps an update would walk (sames and both halves of replacements included); feeds progress. */
  steps: number;
  /** Wall time of the preview, checkout included. */
  durationMs: number;
  /** The infra repo commit the preview ran at (for a pull request, the merge of its head into the stack's branch); absent when the program is a local directory. */
  revision?: string;
  /** For a pull request: the tip of the stack's branch the head was merged into. */
  baseRevision?: string;
  /** For a pull request: its head commit, the one asked for. */
  headRevision?: string;
}

/**
 * Code to preview other than the tip of the stack's own branch: a branch (a promotion's source) or a pull request
 * (previewed as its merge into the stack's branch would deploy it). It runs in a workspace of its own, never in
 * the checkout the stack's deploys use.
 */
export type PreviewCode = { kind: 'branch'; branch: string } | { kind: 'pull_request'; number: number; headSha: string };

export interface PreviewOptions {
  onEvent?(progress: EngineProgress): void;
  signal?: AbortSignal;
  /** Absent: the tip of `StackTarget.branch`, which must be the stack's own branch. */
  code?: PreviewCode;
  /**
   * A commit of the stack's own branch to preview instead of its tip (a merge being deployed), so that what is
   * previewed is what runs; ConflictError when the branch no longer contains it.
   */
  revision?: string;
}

/** How far an update has got; sent on every step start and finish, unthrottled. */
export interface EngineProgress {
  /** Steps finished (succeeded or failed). */
  done: number;
  /** Steps expected: the preview's count when given, else the steps started so far. */
  total: number;
  /** The step in flight most recently started, e.g. `updating kubernetes:apps/v1:Deployment web`. */
  current?: string;
}

export interface UpdateResult {
  /** A failed or cancelled run is reported here; only conflicts and outages throw. */
  outcome: 'succeeded' | 'failed' | 'cancelled';
  /** Wall time of the run, checkout included. */
  durationMs: number;
  /** The changes made (from the engine's summary, or counted from finished steps when there is none). */
  counts: ChangeCounts;
  /** Stack outputs after the update; secret values are replaced by `[secret]`. */
  outputs: Record<string, { value: unknown; secret: boolean }>;
  /** A few short diagnostic lines saying why it failed; never secrets. */
  error?: string;
  /** The last engine diagnostics, oldest first, for a "show log" view. */
  logTail: string[];
  /** The infra repo commit the update ran at; absent when the program is a local directory. */
  revision?: string;
}

/** Whether the engine can run here, and if not what to install. */
export type EngineAvailability = { available: true; version: string } | { available: false; reason: string; install: string };

export interface UpdateOptions {
  /** Called on every step start and finish; throttling (e.g. of Slack edits) is the caller's job. */
  onEvent?(progress: EngineProgress): void;
  /** The preview's `steps`, so progress has a total from the first event. */
  expectedSteps?: number;
  /** The commit the preview ran at: the update runs that code, and fails if the branch no longer contains it. */
  revision?: string;
}
