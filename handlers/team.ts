import type { AlertSettings } from './alerts';
import type { Availability } from './availability';
import type { OnCallSettings } from './oncall';
import type { EscalationSettings } from './page';

/**
 * The team as the domain sees it: stacks, channels and people. bot/teamConfig.ts validates the YAML file into
 * this shape; the domain never reads files.
 */

export interface StackSettings {
  branch: string;
  pulumiStack: string;
  ephemeral: boolean;
  promotesFrom?: string;
  /** Roles allowed to deploy this stack. */
  deployers: string[];
  /** Roles of which a second person must approve; empty means no approval step. */
  approvers: string[];
  /** A restore drill must pass on every promotion PR into this stack (integration → staging). */
  promotionRequiresDrill?: boolean;
  /** When the stack must be up (staging): Cockpit brings it up and tears it down on this schedule. */
  availability?: Availability;
}

export interface Person {
  slack: string;
  name: string;
  roles: string[];
  /** The person's GitHub login: merges, reviews and PRs on GitHub are theirs only through it. */
  github?: string;
}

/** How incidents reach customers; absent, incidents stay in Slack. */
export interface IncidentSettings {
  /** The status forum's category id; without it nothing is posted to customers. */
  statusCategory?: number;
  /** The product's components customers recognise, offered when declaring. */
  components: string[];
}

export interface Team {
  stacks: Record<string, StackSettings>;
  channels: { deploys: string; alerts: string; incidents: string };
  people: Person[];
  /** Rotations and who may override them; absent: nobody is on call. */
  oncall?: OnCallSettings;
  /** How pages escalate; absent: the runbook's L1 → L2 → L3 → everyone. */
  escalation?: EscalationSettings;
  /** Where alerts go and which page; absent: derived from the stacks (prod's critical alerts page). */
  alerts?: AlertSettings;
  incidents?: IncidentSettings;
}

export function personById(team: Team, userId: string): Person | undefined {
  return team.people.find((p) => p.slack === userId);
}

/** GitHub logins are case-insensitive; a login the team file does not name is nobody Cockpit knows. */
export function personByGitHubLogin(team: Team, login: string): Person | undefined {
  const wanted = login.toLowerCase();
  return team.people.find((p) => p.github?.toLowerCase() === wanted);
}

export function hasAnyRole(team: Team, userId: string, roles: readonly string[]): boolean {
  const person = personById(team, userId);
  return person !== undefined && person.roles.some((r) => roles.includes(r));
}

/** How a person is named in messages: their name when the team file knows them, else their id. */
export function displayName(team: Team, userId: string): string {
  return personById(team, userId)?.name ?? userId;
}

/** The stack whose branch this is, if any. */
export function stackOfBranch(team: Team, branch: string): string | undefined {
  return Object.entries(team.stacks).find(([, s]) => s.branch === branch)?.[0];
}
