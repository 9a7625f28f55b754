import type { AlertSettings } from './alerts';
import type { Availability } from './availability';
import type { OnCallSettings } from './oncall';
import type { EscalationSettings } from './page';
import type { TicketSettings } from './ticketModel';

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
  /** Their username on the support forum: a ticket they take is assigned to it there (discourse-assign). */
  discourse?: string;
}

/** How incidents reach customers; absent, incidents stay in Slack. */
export interface IncidentSettings {
  /** The status forum's category id; without it nothing is posted to customers. */
  statusCategory?: number;
  /** The product's components customers recognise, offered when declaring. */
  components: string[];
}

/** How Cockpit reaches a stack's cluster for drills. */
export type KubeconfigSource =
  /** The Pulumi stack's secret output (infra exports `kubeconfig`), read afresh for each drill: its token is short-lived. */
  | { kind: 'stack-output'; output: string }
  /** Cockpit's own service account, on the cluster it runs in (infra grants what a drill needs). */
  | { kind: 'in-cluster' }
  /** A kubeconfig file on Cockpit's host, e.g. a mounted Secret. */
  | { kind: 'file'; path: string };

/** One stack's drills. */
export interface StackDrillSettings {
  kubeconfig: KubeconfigSource;
  /** The product namespaces a drill backs up and restores (never Cockpit's own: a restored Cockpit would act). */
  namespaces: string[];
  /** `fresh`: plant a marker and back up now (tests the code the stack runs); `latest`: the schedule's newest backup. */
  backup: 'fresh' | 'latest';
  /** Pass criteria: the measured RTO and RPO must not exceed these (runbooks/disaster-recovery.md#targets). */
  targets: { rtoMinutes: number; rpoMinutes: number };
}

/** The Jobs that write and check the marker record: the product's own tool, so the engine knows no database. */
export interface DrillMarkerSettings {
  image: string;
  /** Plants the marker in the live datastore; runs in the first of the stack's drill namespaces. */
  plant: string[];
  /** Looks for it in the restored datastore; runs in the scratch namespace. */
  verify: string[];
  /** Secrets (in the live namespace, and restored with it) that hold the datastore's credentials, as environment. */
  envFromSecrets: string[];
}

export interface DrillTimeouts {
  backupMinutes: number;
  restoreMinutes: number;
  /** For the restored workloads to become ready. */
  readyMinutes: number;
  /** For each marker Job. */
  jobMinutes: number;
  /** For the scratch namespaces to be gone. */
  cleanupMinutes: number;
}

/** The restore drill's settings (`drills:` in cockpit.yml). */
export interface DrillSettings {
  veleroNamespace: string;
  /** The Velero Schedule whose settings a fresh backup copies and whose backups "latest" means. */
  schedule: string;
  /** Hours a drill's own backup is kept. */
  backupTtlHours: number;
  /** Kinds never restored into scratch namespaces (an Ingress would take the live host's traffic). */
  excludeResources: string[];
  marker: DrillMarkerSettings;
  timeouts: DrillTimeouts;
  stacks: Record<string, StackDrillSettings>;
  /** The weekly drill: `source`'s latest backup restored on `cluster`'s cluster, read from `storageLocation` there. */
  weekly?: { source: string; cluster: string; storageLocation: string; cron: string; timezone: string };
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
  /** Absent: no drills are configured, and `/cockpit drill` says what to add. */
  drills?: DrillSettings;
  /** Customer support tickets on the forum; absent: no tickets. */
  tickets?: TicketSettings;
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
