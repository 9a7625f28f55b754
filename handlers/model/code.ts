/** The infra repository on its code host: comparisons, pull requests, reviews, statuses, and the events its webhooks tell. */

/** One commit a promotion carries. */
export interface CommitSummary {
  sha: string;
  /** The whole commit message; its first line is the subject. */
  message: string;
  /** The GitHub login when the commit maps to an account, else the git author name. */
  author: string;
}

/** How a file differs between two branches, in GitHub's words. */
export type ChangedFileStatus = 'added' | 'removed' | 'modified' | 'renamed' | 'copied' | 'changed' | 'unchanged';

export interface ChangedFile {
  filename: string;
  status: ChangedFileStatus;
}

/** What `head` carries that `base` lacks (a three-dot compare: from their merge base to head). */
export interface BranchComparison {
  /** `behind` or `identical`: head is an ancestor of base (or the same commit), so it brings nothing new. */
  status: 'ahead' | 'behind' | 'identical' | 'diverged';
  /** Commits on head and not on base: the true count, even when `commits` is cut short. */
  aheadBy: number;
  /** Oldest first; the code host may cut the list short (GitHub stops at 250). */
  commits: CommitSummary[];
  /** The code host may cut the list short (GitHub stops at 300). */
  files: ChangedFile[];
  /** Where a person reads the comparison. */
  htmlUrl: string;
}

/** A pull request as the domain refers to it. */
export interface PullRequestRef {
  number: number;
  htmlUrl: string;
  title: string;
  /** The commit at the tip of the PR's head branch: what a preview runs and a status is set on. */
  headSha: string;
}

/** A pull request read whole: what deciding to preview it needs. */
export interface PullRequestDetails extends PullRequestRef {
  state: 'open' | 'closed';
  merged: boolean;
  draft: boolean;
  /** The branch it merges into. */
  base: string;
  head: string;
  /** GitHub login of its author. */
  author: string;
  /** The head lives in another repository. */
  fromFork: boolean;
}

/** One review of a pull request, as GitHub keeps it. */
export interface PullRequestReview {
  /** GitHub login. */
  reviewer: string;
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'DISMISSED' | 'PENDING';
  /** The head the review was given on: an approval of an older commit does not approve newer code. */
  commitSha: string;
  submittedAt: Date;
}

export type CommitState = 'pending' | 'success' | 'failure' | 'error';

/** A status on a commit, shown as a check on every PR whose head it is. */
export interface CommitStatus {
  state: CommitState;
  /** The check's name, e.g. `cockpit/preview`; a later status with the same context replaces the earlier one. */
  context: string;
  /** One short line; GitHub keeps 140 characters of it. */
  description: string;
  /** Where the check's details link points. */
  targetUrl?: string;
}

/** The comment `upsertComment` wrote, and whether it was new. */
export interface CommentRef {
  id: number;
  htmlUrl: string;
  created: boolean;
}

/** A pull request was opened, reopened, retargeted, got new commits, or left or entered draft. */
export interface PullRequestChanged {
  kind: 'pull_request.changed';
  /** `retargeted`: its base branch changed, so it now merges into (and deploys) another stack. */
  action: 'opened' | 'synchronize' | 'reopened' | 'retargeted' | 'ready_for_review' | 'converted_to_draft';
  /** `owner/name` of the repository the PR targets. */
  repository: string;
  number: number;
  /** The branch the PR merges into. */
  base: string;
  /** The branch the PR merges from. */
  head: string;
  headSha: string;
  /** Login of the person who opened the PR. */
  author: string;
  htmlUrl: string;
  /** The head lives in another repository: its code is not ours to run with our credentials. */
  fromFork: boolean;
  /** A draft PR: its author says it is not ready to be reviewed (or previewed) yet. */
  draft: boolean;
}

/** A pull request was merged: its base branch has new code to deploy. */
export interface PullRequestMerged {
  kind: 'pull_request.merged';
  /** `owner/name` of the repository the PR targets. */
  repository: string;
  number: number;
  /** The branch that received the merge. */
  base: string;
  /** The commit the merge made on `base` (merge, squash or rebase). */
  mergeSha: string;
  /** The PR's head when it merged: what its reviews approved and its drill status is on. */
  headSha: string;
  /** Login of the person who merged. */
  mergedBy: string;
  /** Login of the person who opened the PR. */
  author: string;
  htmlUrl: string;
}

/** Someone commented `cockpit preview` on a pull request (Atlantis-style): preview it on their say-so. */
export interface PullRequestPreviewRequested {
  kind: 'pull_request.preview_requested';
  /** `owner/name` of the repository the PR targets. */
  repository: string;
  number: number;
  /** Login of the person who wrote the comment. */
  commenter: string;
  commentId: number;
  /** The pull request's page. */
  htmlUrl: string;
}

/** A branch moved: a push, a force-push or a revert, with or without a pull request behind it. */
export interface BranchPushed {
  kind: 'branch.pushed';
  /** `owner/name` of the repository pushed to. */
  repository: string;
  /** The branch name, without `refs/heads/`. */
  branch: string;
  /** The branch tip before the push; all zeros when the push created the branch. */
  before: string;
  /** The branch tip after the push. */
  after: string;
  /** Login of the GitHub account that pushed. */
  pusher: string;
  /** A force-push: `before` is no longer in the branch's history. */
  forced: boolean;
  /** The new tip's commit message, cut to a few hundred characters; absent when the push carried no commit. */
  headCommitMessage?: string;
}

/** What the code host tells the domain through its webhooks. */
export type CodeHostEvent = PullRequestChanged | PullRequestMerged | PullRequestPreviewRequested | BranchPushed;
