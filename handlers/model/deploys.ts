import type { DrillRecord } from './drills';
import type { IncidentSummary } from './incidents';
import type { PreviewResult, ResourceChange, UpdateResult } from './infra';

/** Deploy plans, their risk reports, and the merges that deploy stacks. */

/** Where a deploy plan is in its life; each arrow is one `transition`, so a double press cannot start two runs. */
export type DeployPlanStatus =
  | 'awaiting_confirmation' // previewed; Deploy / Cancel shown
  | 'awaiting_approval' // confirmed on a stack that needs a second person
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'cancelled' // by a person, before or during the run
  | 'expired'; // left unconfirmed past its time; the preview no longer describes the stack

/** Where a plan came from when no person previewed it: a merged pull request. */
export interface MergeSource {
  kind: 'merge';
  pullRequest: number;
  /** The commit the merge made on the stack's branch: what the plan previews and runs. */
  mergeSha: string;
  /** GitHub logins. */
  mergedBy: string;
  author?: string;
  htmlUrl: string;
  /** Earlier merges this deploy carries too, when they were queued behind a busy lock. */
  carries?: number[];
}

/** What the risk report measured when the plan was made; kept with the plan so the record shows what people saw. */
export interface RiskAssessment {
  /** Replaced or deleted resources whose loss loses data or an environment (PVC, StatefulSet, Namespace, …). */
  stateful: ResourceChange[];
  lastDrill?: DrillRecord;
  /** The last drill that passed, which may be older than the last drill. */
  lastPassedDrill?: DrillRecord;
  openIncidents: IncidentSummary[];
  /** Open SEV1/SEV2 incidents on the stack freeze its deploys. */
  frozen: boolean;
  /** `low` | `elevated` | `high`, with the reasons a person reads before pressing Deploy. */
  level: 'low' | 'elevated' | 'high';
  reasons: string[];
}

/** A previewed deploy waiting for (or past) its confirmation; its id is the preview's request id. */
export interface DeployPlan {
  id: string;
  stack: string;
  requestedBy: string;
  createdAt: Date;
  updatedAt: Date;
  status: DeployPlanStatus;
  preview: PreviewResult;
  risk: RiskAssessment;
  /** Who pressed Deploy (may differ from the requester). */
  confirmedBy?: string;
  /** When Deploy was pressed: the approval window runs from here. */
  confirmedAt?: Date;
  approvedBy?: string;
  /** Set for the plan of a merge; absent for a person's `/cockpit deploy`. */
  source?: MergeSource;
  /** An approver's reason for deploying through a freeze. */
  freezeOverride?: { by: string; reason: string };
  /** The Slack (or console) message that shows the plan, edited in place as it moves on. */
  message?: { channel: string; ts: string };
  result?: UpdateResult;
}

/** A pull request merged into a stack's branch, as the merge rules see it. */
export interface StackMerge {
  stack: string;
  pullRequest: number;
  /** The commit the merge made on the stack's branch. */
  mergeSha: string;
  /** The PR's head when merged: what reviews approve and the drill status is set on. */
  headSha: string;
  /** GitHub logins. */
  mergedBy: string;
  author?: string;
  /** Members who asked Cockpit to open or refresh the PR (a promotion): authors too, as far as approving goes. */
  askedBy?: string[];
}

/** A merge accepted by the policy and waiting for its stack's lock. */
export interface QueuedMerge extends StackMerge {
  htmlUrl: string;
  /** Slack id of the approver whose GitHub review counted as the second person. */
  approvedBy?: string;
  /** Why it waits for an approver in Slack; absent when it may deploy at once. */
  needsApproval?: string;
  queuedAt: Date;
  /** The request that accepted it: its audit rows and messages carry it. */
  requestId: string;
}
