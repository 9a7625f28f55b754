/** Who asks, and what vouches for them: the identity every act carries (handlers/policy.ts judges how far to trust it). */

/**
 * What vouches for an identity, which decides how far it is trusted (handlers/policy.ts):
 * - `slack`: Slack signed the request that names the user;
 * - `github`: GitHub signed the delivery and the login is a person's of the team file;
 * - `console`, `cli`: someone at a terminal of the host says they act for a member: nothing proves it;
 * - `demo`: the demo console, on a throwaway store with simulated adapters: nothing real is at stake;
 * - `scheduler`: Cockpit's own schedule, acting for nobody.
 */
export type IdentitySource = 'slack' | 'github' | 'console' | 'cli' | 'demo' | 'scheduler';

/** Who asked, and how we know: travels with every act and into every record. */
export interface Actor {
  /** The team member's Slack user id (U…) the act is done for; `scheduler` for the scheduler. */
  id: string;
  /** Display name when known, for messages. */
  name?: string;
  via: IdentitySource;
  /** Who is really there when it is not Slack: the OS user at the console or CLI, the GitHub login. */
  as?: string;
}
