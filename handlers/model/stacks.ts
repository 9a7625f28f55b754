/** A stack as the engine knows it, and the lock one operation at a time holds on it. */

/** A stack as the infra engine sees it: Cockpit's name, the Pulumi stack, and the infra branch it runs. */
export interface StackTarget {
  /** Cockpit's name for the stack (the key in cockpit.yml). */
  stack: string;
  /** The Pulumi stack name. */
  pulumiStack: string;
  /** The infra repo branch whose code the stack runs. */
  branch: string;
}

export interface StackLock {
  stack: string;
  /** The member (Slack id) the operation runs for, or `scheduler`. */
  holder: string;
  /** What the lock is for, shown to whoever is refused: "deploy", "drill", "destroy". */
  purpose: string;
  requestId: string;
  /** The process (replica) running the operation; used to tell a live lock from one a crash left behind. */
  owner: string;
  acquiredAt: Date;
  /** Renewed by the owner while it works; a lock whose heartbeat is old is stale. */
  heartbeatAt: Date;
}

export type LockAttempt = { acquired: true; lock: StackLock } | { acquired: false; heldBy: StackLock };
