import { describeAvailability, formatInZone, nextTransition, scheduledState } from './availability';
import { ConflictError, InputError, NotAllowedError, NotFoundError, type CockpitError } from './errors';
import type { AuditLog, Clock, DeployPlans, IncidentBoard } from './ports';
import type { AuditOutcome } from './model/audit';
import type { CommitState, PullRequestReview } from './model/code';
import type { DeployPlan, StackMerge } from './model/deploys';
import type { Actor, IdentitySource } from './model/identity';
import type { IncidentSeverity, IncidentSummary } from './model/incidents';
import type { StackLock, StackTarget } from './model/stacks';
import { displayName, personByGitHubLogin, personById, type Person, type StackSettings, type Team } from './team';

/**
 * The one policy every path that changes a stack goes through: Slack commands and buttons, the console, the CLI,
 * the GitHub merge webhook and the scheduler. It alone decides who may preview, deploy, approve, override a
 * freeze, cancel, break a lock, bring a stack up or tear it down, promote and run a restore drill; it holds the
 * two-person rule, the freeze, the drill requirement of merges, whether a plan still describes its stack, and how
 * far an identity is trusted. The capabilities (Deployer, EnvironmentKeeper, Promoter, MergeDeployer, Drills)
 * only orchestrate.
 *
 * Trust: a Slack user id is verified (Slack signed the request), and so is a GitHub login that maps to a person
 * of the team file (GitHub signed the delivery). A terminal (console, CLI) acts for a member on its own word, so
 * it may do what the member may except what a second pair of eyes exists for: approving, overriding a freeze and
 * breaking a lock. "Slack is down" still allows a deploy of a non-prod stack, never a self-approval.
 */

/** What a person (or the scheduler) may ask to do to a stack. */
export type StackAct =
  | 'preview' // see what a deploy would do (deploy, --preview, a PR preview asked for)
  | 'deploy' // start a previewed plan: Deploy pressed, or a merge
  | 'approve' // the second person of a stack with approvers
  | 'override_freeze'
  | 'cancel_plan' // drop a plan that has not started
  | 'cancel_run' // stop the update running on a stack
  | 'break_lock'
  | 'up'
  | 'down'
  | 'extend'
  | 'promote'
  | 'drill'; // restore a backup into scratch namespaces, check the data, measure RTO/RPO

/**
 * What a person (or the scheduler) may ask of the pager and the schedule. Judged on facts the caller gathers
 * (is the person on call, were they paged, does the alert's stack page), never on the caller's own reading.
 */
export type OnCallAct =
  | 'page' // raise a page by hand
  | 'acknowledge' // own a page or an alert group: stops its escalation
  | 'escalate' // ask the next step now
  | 'resolve' // close a page
  | 'silence' // silence an alert group in Alertmanager
  | 'override' // hand a level to someone for a while
  | 'swap' // offer a shift in trade
  | 'accept_swap'; // answer a swap offered to you

export const ONCALL_ACTS: readonly OnCallAct[] = ['page', 'acknowledge', 'escalate', 'resolve', 'silence', 'override', 'swap', 'accept_swap'];

/** What a person may ask to do to an incident (runbooks/incident-management.md, "Roles"). */
export type IncidentAct =
  | 'incident_declare'
  | 'incident_update' // a state change, a customer update, or an internal note
  | 'incident_assign'
  | 'incident_severity'
  | 'incident_publish' // make an internal incident public
  | 'incident_resolve'
  | 'incident_close';

/** What a person may ask to do to a support ticket (runbooks/support-tickets.md). */
export type TicketAct =
  | 'ticket_take'
  | 'ticket_status' // move it (waiting, in-progress, resolved, back to the queue)
  | 'ticket_escalate' // L1 → L2 → L3, paging that level
  | 'ticket_reply' // write to the customer from Slack
  | 'ticket_link'; // tell the customer it is a known incident

export type Act = StackAct | OnCallAct | IncidentAct | TicketAct;

export const STACK_ACTS: readonly StackAct[] = ['preview', 'deploy', 'approve', 'override_freeze', 'cancel_plan', 'cancel_run', 'break_lock', 'up', 'down', 'extend', 'promote', 'drill'];
export const INCIDENT_ACTS: readonly IncidentAct[] = ['incident_declare', 'incident_update', 'incident_assign', 'incident_severity', 'incident_publish', 'incident_resolve', 'incident_close'];
export const TICKET_ACTS: readonly TicketAct[] = ['ticket_take', 'ticket_status', 'ticket_escalate', 'ticket_reply', 'ticket_link'];
export const ACTS: readonly Act[] = [...STACK_ACTS, ...ONCALL_ACTS, ...INCIDENT_ACTS, ...TICKET_ACTS];

export function isOnCallAct(act: Act): act is OnCallAct {
  return (ONCALL_ACTS as readonly string[]).includes(act);
}

export type Trust = 'verified' | 'claimed' | 'system';

export function trustOf(source: IdentitySource): Trust {
  switch (source) {
    case 'slack':
    case 'github':
    case 'demo':
      return 'verified';
    case 'console':
    case 'cli':
      return 'claimed';
    case 'scheduler':
      return 'system';
  }
}

/** Acts a second pair of eyes exists for: a claimed identity never does them. */
const NEEDS_VERIFIED: ReadonlySet<Act> = new Set(['approve', 'override_freeze', 'break_lock']);

/**
 * On-call acts that take someone's word for who they are only when Slack vouches for it. Acknowledging and
 * resolving stop an escalation, which exists precisely for the on-call person who is not there: a terminal that
 * says "I am Alice" must not stop Alice's page. Overrides and swaps change who gets woken, so they would let a
 * claimed identity take someone off the rotation. Silencing a paging stack's alert hides it from everyone.
 * Raising and escalating only add people, so a terminal may do them (the CLI is how you page when Slack is down).
 */
const ONCALL_NEEDS_VERIFIED: ReadonlySet<OnCallAct> = new Set(['acknowledge', 'resolve', 'override', 'swap', 'accept_swap']);

/** What the caller of an on-call act found out, for the policy to judge. */
export interface OnCallFacts {
  /** The actor is on call at some level now. */
  onCall?: boolean;
  /** The actor was paged for this page (or is its target). */
  paged?: boolean;
  /** The page reached its `everyone` step: the whole team was asked. */
  everyone?: boolean;
  raisedBy?: string;
  acknowledgedBy?: string;
  /** override, swap: the actor holds the level for the whole time given away. */
  holdsShift?: boolean;
  /** override, swap: who would be on call instead. */
  takerId?: string;
  /** accept_swap: the person the swap was offered to, and who offered it (who may withdraw it). */
  counterpart?: string;
  proposedBy?: string;
  /** silence: the alert's stack is one whose alerts page (prod). */
  pagingStack?: boolean;
}

/**
 * The scheduler brings stacks up and tears them down on their TTL or schedule, and runs the drills nobody asks
 * for: the weekly one and the promotion PR's gate (trigger `schedule` or `gate`, see Policy.mayDrill).
 */
const SCHEDULER_ACTS: ReadonlySet<Act> = new Set(['up', 'down', 'drill']);

/** Roles with authority over any incident (the runbook's "whole team" escalation decides with them). */
const INCIDENT_AUTHORITY = ['approver'];
/** L2 (the `sre` role) becomes the commander of every SEV1, so may take command of an incident. */
const MAY_TAKE_COMMAND = ['approver', 'sre'];

/** How an actor is written in the audit log: who was there, and whom they acted for. */
export function describeActor(actor: Actor): string {
  switch (actor.via) {
    case 'slack':
    case 'scheduler':
      return actor.id;
    case 'demo':
      return `demo:${actor.id}`;
    case 'github':
      return `github:${actor.as ?? '?'} for ${actor.id}`;
    case 'console':
    case 'cli':
      return `${actor.via}:${actor.as ?? '?'} for ${actor.id}`;
  }
}

/** Writes one act to the audit log, the actor in its audit form: every capability records through here. */
export async function recordAct(audit: AuditLog, meta: RequestMeta, act: { action: string; target: string; outcome: AuditOutcome; detail?: Record<string, unknown> }): Promise<void> {
  await audit.record({ requestId: meta.requestId, actor: describeActor(meta.actor), action: act.action, target: act.target, outcome: act.outcome, detail: act.detail ?? {} });
}

export type StackKind = 'ephemeral' | 'scheduled' | 'permanent';

export function kindOf(settings: StackSettings): StackKind {
  return settings.ephemeral ? 'ephemeral' : settings.availability ? 'scheduled' : 'permanent';
}

/** A stack's own approver roles, or the team-wide `approver` role on stacks that name none. */
export function approverRoles(settings: StackSettings): string[] {
  return settings.approvers.length > 0 ? settings.approvers : ['approver'];
}

/** The names of the people who may approve on a stack, for messages. */
export function approversOf(team: Team, settings: StackSettings): string[] {
  const roles = approverRoles(settings);
  return team.people.filter((p) => p.roles.some((r) => roles.includes(r))).map((p) => p.name);
}

export type Refusal = { allowed: false; code: 'NOT_ALLOWED' | 'INPUT'; reason: string; hint?: string };
export type Verdict = { allowed: true } | Refusal;

const ALLOWED: Verdict = { allowed: true };
const refuse = (reason: string, hint?: string): Refusal => ({ allowed: false, code: 'NOT_ALLOWED', reason, hint });

const ACT_WORDS: Record<StackAct | OnCallAct, string> = {
  preview: 'preview',
  deploy: 'deploy',
  approve: 'approve deploys of',
  override_freeze: 'override a freeze on',
  cancel_plan: 'cancel deploys of',
  cancel_run: 'cancel the update of',
  break_lock: 'break a lock on',
  up: 'bring up',
  down: 'tear down',
  extend: 'extend',
  promote: 'promote into',
  page: 'page',
  acknowledge: 'acknowledge',
  escalate: 'escalate',
  resolve: 'resolve',
  silence: 'silence',
  override: 'override',
  swap: 'swap',
  accept_swap: 'accept',
  drill: 'run a restore drill on',
};

/**
 * Who may do an on-call act, on the facts the caller gathered:
 * - page: any member of the team file;
 * - acknowledge: whoever was paged, anyone on call at any level (unless `escalation.whoMayAcknowledge: paged`),
 *   and, once the whole team was asked, any member: the runbook's "anyone who sees it acts as L1";
 * - escalate, resolve: those who may acknowledge, the raiser and the acknowledger;
 * - silence: anyone on call, or a member with a role of `alerts.silencers`; on a paging stack only with Slack;
 * - override: the person who holds the level for the whole time, the taker taking it on, or an on-call manager;
 * - swap: the person who holds the shift; accept_swap: the person it was offered to (or its proposer, to withdraw).
 */
export function judgeOnCall(team: Team, actor: Actor, act: OnCallAct, facts: OnCallFacts): Verdict {
  if (actor.via === 'scheduler') return refuse(`The scheduler may not ${ACT_WORDS[act]} on anyone's behalf.`);
  const person = personById(team, actor.id);
  if (!person) return refuse(`${actor.id} is not in the team file, so may not ${ACT_WORDS[act]}.`, 'People and their roles are in cockpit.yml.');
  const claimed = trustOf(actor.via) !== 'verified';
  if (claimed && (ONCALL_NEEDS_VERIFIED.has(act) || (act === 'silence' && facts.pagingStack))) {
    const what = act === 'silence' ? 'silencing an alert that pages' : `to ${ACT_WORDS[act]}`;
    return refuse(`From the ${actor.via}, you act for ${person.name} on your word alone: ${what} needs Slack.`, 'Press it in Slack, where Slack vouches for who you are.');
  }
  const has = (roles: readonly string[]) => person.roles.some((r) => roles.includes(r));
  const mayAcknowledge = facts.paged === true || facts.everyone === true || (facts.onCall === true && (team.escalation?.whoMayAcknowledge ?? 'on_call') === 'on_call');
  switch (act) {
    case 'page':
      return ALLOWED;
    case 'acknowledge':
      return mayAcknowledge ? ALLOWED : refuse('Only the people paged or on call may acknowledge this page.', 'To help, ask in the thread; to take it on, run an override first.');
    case 'escalate':
    case 'resolve':
      return mayAcknowledge || facts.raisedBy === actor.id || facts.acknowledgedBy === actor.id
        ? ALLOWED
        : refuse(`Only the people paged, on call, or who raised it may ${ACT_WORDS[act]} this page.`);
    case 'silence': {
      const silencers = team.alerts?.silencers ?? ['sre'];
      return facts.onCall === true || has(silencers) ? ALLOWED : refuse(`Only someone on call, or with the role ${silencers.join(' or ')}, may silence alerts.`);
    }
    case 'override': {
      const managers = team.oncall?.managers ?? ['approver'];
      if (facts.holdsShift === true || facts.takerId === actor.id || has(managers)) return ALLOWED;
      return refuse(`You are not on call for all of that time: only its holder, the taker, or a person with the role ${managers.join(' or ')} may override it.`, 'Ask the person on call to run the override, or take it yourself: /cockpit oncall override <@you> <duration> <level>');
    }
    case 'swap':
      return facts.holdsShift === true ? ALLOWED : refuse('You can only offer a shift you hold.');
    case 'accept_swap':
      return facts.counterpart === actor.id || (facts.proposedBy !== undefined && facts.proposedBy === actor.id)
        ? ALLOWED
        : refuse('This swap was offered to someone else.');
  }
}

/**
 * Who may do `act` on `stack` by identity and role alone, reading nothing but the team file: the part of the
 * policy a table can state (test/handlers/policy.test.ts states it). `requestedBy` is the plan's asker, who may
 * always cancel their own plan.
 */
export function judgeByRole(team: Team, actor: Actor, act: StackAct | OnCallAct, stack: string, opts: { requestedBy?: string; oncall?: OnCallFacts } = {}): Verdict {
  if (isOnCallAct(act)) return judgeOnCall(team, actor, act, opts.oncall ?? {});
  const settings = team.stacks[stack];
  if (!settings) return { allowed: false, code: 'INPUT', reason: `No stack "${stack}".`, hint: `Known: ${Object.keys(team.stacks).join(', ')}` };
  if (actor.via === 'scheduler') {
    if (!SCHEDULER_ACTS.has(act)) return refuse(`The scheduler may only bring stacks up, tear them down and run drills, not ${act.replace('_', ' ')}.`);
    if (act !== 'drill' && kindOf(settings) === 'permanent') return refuse(`${stack} is permanent: the scheduler never brings it up or tears it down.`);
    return ALLOWED;
  }
  const person = personById(team, actor.id);
  if (!person) return refuse(`${actor.id} is not in the team file, so may not ${ACT_WORDS[act]} ${stack}.`, 'People and their roles are in cockpit.yml.');
  if (NEEDS_VERIFIED.has(act) && trustOf(actor.via) !== 'verified') {
    return refuse(
      `From the ${actor.via}, you act for ${person.name} on your word alone: approving, overriding a freeze and breaking a lock need Slack.`,
      `Press it in Slack, where Slack vouches for who you are.`,
    );
  }
  const has = (roles: readonly string[]) => person.roles.some((r) => roles.includes(r));
  switch (act) {
    case 'approve':
    case 'override_freeze':
    case 'break_lock':
      return has(approverRoles(settings))
        ? ALLOWED
        : refuse(`Only an approver of ${stack} may ${ACT_WORDS[act].replace(/ (of|on)$/, '')}.`, `Approvers: ${approversOf(team, settings).join(', ') || 'none configured'}`);
    case 'cancel_plan':
      return opts.requestedBy === actor.id || has([...settings.deployers, ...approverRoles(settings)])
        ? ALLOWED
        : refuse(`Only ${opts.requestedBy ? displayName(team, opts.requestedBy) : 'its asker'}, a deployer or an approver of ${stack} can cancel this deploy.`);
    case 'up':
    case 'down':
    case 'extend':
      if (kindOf(settings) === 'permanent') {
        const why = act === 'up' ? `${stack} is permanent: it is always up. Deploy it with /cockpit deploy ${stack}.` : `${stack} is permanent: Cockpit never tears it down.`;
        const ephemeral = Object.entries(team.stacks).filter(([, s]) => kindOf(s) === 'ephemeral').map(([n]) => n);
        return { allowed: false, code: 'INPUT', reason: act === 'extend' ? `${stack} is not ephemeral: it has no TTL to extend.` : why, hint: `Stacks that come and go: ${ephemeral.join(', ') || 'none configured'}.` };
      }
      if (act === 'extend' && kindOf(settings) !== 'ephemeral') return { allowed: false, code: 'INPUT', reason: `${stack} is not ephemeral: it has no TTL to extend.` };
      return has(settings.deployers) ? ALLOWED : refuse(`You may not bring ${stack} up or down: it needs the role ${settings.deployers.join(' or ')}.`, 'Roles are set in cockpit.yml.');
    case 'promote':
      return has(settings.deployers) ? ALLOWED : refuse(`You may not promote into ${stack}: it needs the role ${settings.deployers.join(' or ')}.`, 'Roles are set in cockpit.yml.');
    case 'drill':
      // A drill holds the stack's lock and writes a marker into its datastore: the stack's deployers' call. A
      // claimed identity may run one: nobody vouches for its result but Cockpit's own measurement.
      return has(settings.deployers) ? ALLOWED : refuse(`You may not run a restore drill on ${stack}: it needs the role ${settings.deployers.join(' or ')}.`, 'Roles are set in cockpit.yml.');
    case 'preview':
    case 'deploy':
    case 'cancel_run':
      return has(settings.deployers) ? ALLOWED : refuse(`You may not deploy ${stack}: it needs the role ${settings.deployers.join(' or ')}.`, 'Roles are set in cockpit.yml.');
  }
}

/** What judging an incident act needs to know of the incident and of what the act would do. */
export interface IncidentFacts {
  /** `INC-12`, for messages. */
  ref: string;
  commander: string;
  communications?: string;
  severity: IncidentSeverity;
  /** The act tells customers something: a post on the status forum. */
  customerFacing?: boolean;
  /** The act moves the incident to another state. */
  changesState?: boolean;
  /** The act lifts a deploy freeze: resolving a SEV1/SEV2, or lowering one below SEV2. */
  liftsFreeze?: boolean;
  /** For `incident_assign`: the role given, and to whom. */
  role?: 'commander' | 'communications';
  assignee?: string;
}

/**
 * Who may do what to an incident, by identity and role, per the runbook's roles: anyone in the team file may
 * declare one and add internal notes (nobody is ever blamed for declaring too early); the commander sets the
 * state, severity and roles, resolves and closes; the commander and the communications role write to
 * customers; an approver has authority over every incident; an SRE (L2) may take command.
 *
 * Trust: a post on the status forum goes by email to every customer watching it and cannot be taken back, and a
 * freeze lifted lets deploys through; both are refused to a claimed identity (console, CLI), which may still run
 * the incident inside Slack's record (declare, notes, internal updates, roles, close).
 */
export function judgeIncident(team: Team, actor: Actor, act: IncidentAct, facts?: IncidentFacts): Verdict {
  if (actor.via === 'scheduler') return refuse('The scheduler reminds people about incidents; it never changes one.');
  const person = personById(team, actor.id);
  if (!person) return refuse(`${actor.id} is not in the team file, so may not run incidents.`, 'People and their roles are in cockpit.yml.');
  const claimed = trustOf(actor.via) !== 'verified';
  if (claimed && facts?.customerFacing) {
    return refuse(
      `From the ${actor.via}, you act for ${person.name} on your word alone: posts to customers on the status forum need Slack.`,
      'Post it from Slack, or add --internal to keep it in Slack.',
    );
  }
  if (claimed && facts?.liftsFreeze) {
    return refuse(`From the ${actor.via}, you act for ${person.name} on your word alone: lifting ${facts.ref}'s deploy freeze needs Slack.`, 'Do it from Slack, where Slack vouches for who you are.');
  }
  if (act === 'incident_declare' || !facts) return ALLOWED;
  const has = (roles: readonly string[]) => person.roles.some((r) => roles.includes(r));
  const isCommander = actor.id === facts.commander;
  const authority = isCommander || has(INCIDENT_AUTHORITY);
  const commanderName = displayName(team, facts.commander);
  const onlyCommander = (what: string) => refuse(`Only ${facts.ref}'s commander (${commanderName}) or an approver may ${what}.`, `The commander hands over with /cockpit incident assign ${facts.ref} commander @person.`);
  switch (act) {
    case 'incident_update':
      if (facts.changesState && !authority) return onlyCommander(`change its state`);
      if (facts.customerFacing && !authority && actor.id !== facts.communications) {
        return refuse(`Only ${facts.ref}'s commander (${commanderName}), its communications lead or an approver may post customer updates.`, 'Add --internal to note it in the channel only.');
      }
      return ALLOWED;
    case 'incident_publish':
      return authority || actor.id === facts.communications ? ALLOWED : refuse(`Only ${facts.ref}'s commander (${commanderName}), its communications lead or an approver may tell customers about it.`);
    case 'incident_assign':
      if (facts.role === 'commander' && facts.assignee === actor.id && !isCommander) {
        return has(MAY_TAKE_COMMAND) ? ALLOWED : refuse(`Only an SRE or an approver may take command of ${facts.ref}; ${commanderName} can hand it to you.`);
      }
      return authority ? ALLOWED : onlyCommander('assign its roles');
    case 'incident_severity':
      return authority ? ALLOWED : onlyCommander('change its severity');
    case 'incident_resolve':
      return authority ? ALLOWED : onlyCommander('resolve it');
    case 'incident_close':
      return authority ? ALLOWED : onlyCommander('close it');
  }
}

/** What judging a ticket act needs to know of the ticket and of the person. */
export interface TicketFacts {
  /** `#123`, for messages. */
  ref: string;
  /** Who owns it; absent while it is in the queue. */
  assignee?: string;
  /** The actor is on call at some level now. */
  onCall?: boolean;
}

/** What each ticket act is, in a refusal's words. */
const TICKET_ACT_WORDS: Record<TicketAct, string> = {
  ticket_take: 'take',
  ticket_status: 'change the status of',
  ticket_escalate: 'escalate',
  ticket_reply: 'reply on',
  ticket_link: 'link',
};

/**
 * Who may do what to a support ticket, as the runbook says: anyone in the team file takes a ticket (whoever takes
 * it owns it, a handover is the new owner taking it); its taker sets its status, writes to the customer and links
 * it to an incident; the taker, anyone on call or an approver escalates it (escalating adds people, and the L1
 * on call escalates straight from the queue); an approver has authority over every ticket.
 *
 * Trust: every ticket act posts on the customer's topic, which the forum emails to the customer and which cannot
 * be taken back, so a claimed identity (console, CLI) does none of them. The intake, the sweep and the page of a
 * ticket not taken in time are Cockpit's own and go through none of this: they speak for nobody.
 */
export function judgeTicket(team: Team, actor: Actor, act: TicketAct, facts: TicketFacts): Verdict {
  if (actor.via === 'scheduler') return refuse(`The scheduler may not ${TICKET_ACT_WORDS[act]} a ticket on anyone's behalf.`);
  const person = personById(team, actor.id);
  if (!person) return refuse(`${actor.id} is not in the team file, so may not ${TICKET_ACT_WORDS[act]} tickets.`, 'People and their roles are in cockpit.yml.');
  if (trustOf(actor.via) !== 'verified') {
    return refuse(
      `From the ${actor.via}, you act for ${person.name} on your word alone: ticket changes are emailed to the customer and need Slack.`,
      'Do it from Slack, where Slack vouches for who you are.',
    );
  }
  const authority = facts.assignee === actor.id || person.roles.some((r) => INCIDENT_AUTHORITY.includes(r));
  const owner = facts.assignee ? displayName(team, facts.assignee) : undefined;
  const takeFirst = `Take it first: /cockpit ticket take ${facts.ref.replace(/^#/, '')}`;
  switch (act) {
    case 'ticket_take':
      return ALLOWED;
    case 'ticket_escalate':
      return authority || facts.onCall === true
        ? ALLOWED
        : refuse(`Only ${facts.ref}'s taker${owner ? ` (${owner})` : ''}, someone on call or an approver may escalate it.`, facts.assignee ? undefined : takeFirst);
    case 'ticket_status':
    case 'ticket_reply':
    case 'ticket_link':
      if (authority) return ALLOWED;
      return refuse(owner ? `${facts.ref} is ${owner}'s: only its taker or an approver may ${TICKET_ACT_WORDS[act]} it.` : `Nobody has taken ${facts.ref} yet.`, owner ? `${owner} hands it over by name, and the new owner takes it.` : takeFirst);
  }
}

export interface PolicyTiming {
  /** A preview older than this no longer describes the stack; confirming it is refused. */
  planTtlMs: number;
  /** How long a confirmed plan waits for its approver, counted from the confirmation. */
  approvalTtlMs: number;
  /** A lock whose heartbeat is older than this was left by a crashed process and may be broken. */
  lockStaleAfterMs: number;
}

export const DEFAULT_POLICY_TIMING: PolicyTiming = { planTtlMs: 30 * 60_000, approvalTtlMs: 30 * 60_000, lockStaleAfterMs: 5 * 60_000 };

/** The status context the restore drill sets on a promotion PR's head (handlers/drill.ts produces it). */
export const DRILL_CONTEXT = 'cockpit/restore-drill';

/** What the merge webhook knows of a merged pull request, gathered from GitHub by the caller. */
export interface MergeFacts extends StackMerge {
  reviews: PullRequestReview[];
  /** The `cockpit/restore-drill` status on the head, for a stack whose promotions require a drill. */
  drill?: CommitState;
}

/** A merge Cockpit may deploy: at once (approved on GitHub, or no approval needed), or after an approver in Slack. */
export type MergeVerdict =
  | { kind: 'deploy'; merger: Actor; author?: Person; approvedBy?: Person }
  | { kind: 'needs_approval'; merger: Actor; author?: Person; reason: string };

export interface PolicyDeps {
  team: Team;
  plans: DeployPlans;
  incidents: IncidentBoard;
  audit: AuditLog;
  clock: Clock;
  timing?: Partial<PolicyTiming>;
}

export interface RequestMeta {
  actor: Actor;
  requestId: string;
}

/** Audit actions of operations that change a stack other than deploy plans: a preview taken before them is stale. */
const STACK_CHANGES = ['environment.up', 'environment.down', 'environment.expire'];
const FINISHED: readonly AuditOutcome[] = ['succeeded', 'failed', 'cancelled'];

export class Policy {
  readonly timing: PolicyTiming;

  constructor(private readonly deps: PolicyDeps) {
    this.timing = { ...DEFAULT_POLICY_TIMING, ...deps.timing };
  }

  /** The stack's settings; NotFoundError for a stack the team file does not name. */
  stack(stack: string): StackSettings {
    const settings = this.deps.team.stacks[stack];
    if (!settings) throw new NotFoundError(`No stack "${stack}".`, `Known: ${Object.keys(this.deps.team.stacks).join(', ')}`);
    return settings;
  }

  /** The stack as the engine knows it (its Pulumi stack and branch); NotFoundError for one the team file lacks. */
  target(stack: string): StackTarget {
    const settings = this.stack(stack);
    return { stack, pulumiStack: settings.pulumiStack, branch: settings.branch };
  }

  /** `/cockpit deploy <stack> [--override-freeze]` and a PR preview asked for by a person. */
  async mayPreview(stack: string, meta: RequestMeta, freezeOverrideReason?: string): Promise<void> {
    this.stack(stack);
    await this.enforce(judgeByRole(this.deps.team, meta.actor, 'preview', stack), 'preview', stack, meta);
    if (freezeOverrideReason !== undefined) {
      if (!freezeOverrideReason.trim()) throw new InputError('a freeze override needs a reason');
      await this.enforce(judgeByRole(this.deps.team, meta.actor, 'override_freeze', stack), 'override_freeze', stack, meta);
    }
  }

  /**
   * Deploy (or Approve) pressed on a plan: the role, the identity, the two-person rule, the freeze, and whether the
   * plan still describes its stack. A stale plan is marked expired before the refusal.
   */
  async mayStart(plan: DeployPlan, act: 'deploy' | 'approve', meta: RequestMeta): Promise<void> {
    const settings = this.stack(plan.stack);
    await this.enforce(judgeByRole(this.deps.team, meta.actor, act, plan.stack), act, plan.stack, meta, { planId: plan.id });
    if (act === 'approve' && (meta.actor.id === plan.requestedBy || meta.actor.id === plan.confirmedBy)) {
      const own = meta.actor.id === plan.requestedBy ? 'asked for' : 'confirmed';
      await this.enforce(
        refuse(`You ${own} this deploy, so you cannot approve it: a second person must.`, `Approvers of ${plan.stack}: ${approversOf(this.deps.team, settings).join(', ')}`),
        act,
        plan.stack,
        meta,
        { planId: plan.id },
      );
    }
    await this.mustBeCurrent(plan, act, meta);
    if (!plan.freezeOverride) await this.mustNotBeFrozen(plan.stack, meta, { planId: plan.id }, act);
  }

  /**
   * Whether the plan still describes its stack: fresh enough, and no other deploy or tear-down finished since it
   * was previewed (rolling the stack back to an older preview is how "what runs is what was previewed" breaks).
   * The run calls it again under the stack's lock, where nothing else can finish in between.
   */
  async mustBeCurrent(plan: DeployPlan, act: 'deploy' | 'approve', meta: RequestMeta): Promise<void> {
    const now = this.deps.clock.now().getTime();
    const from = act === 'approve' ? (plan.confirmedAt ?? plan.createdAt) : plan.createdAt;
    const ttl = act === 'approve' ? this.timing.approvalTtlMs : this.timing.planTtlMs;
    const ageMs = now - from.getTime();
    if (ageMs > ttl) {
      await this.expire(plan, meta, act === 'approve' ? 'approval window passed' : 'preview too old');
      throw new ConflictError(
        act === 'approve'
          ? `This deploy waited ${Math.round(ageMs / 60_000)} minutes for an approver, longer than ${Math.round(ttl / 60_000)}: it no longer describes ${plan.stack}.`
          : `This preview is ${Math.round(ageMs / 60_000)} minutes old and no longer describes ${plan.stack}.`,
        `Preview again: /cockpit deploy ${plan.stack}`,
      );
    }
    const newer = await this.changeSince(plan);
    if (newer) {
      await this.expire(plan, meta, `superseded by ${newer.ref}`);
      throw new ConflictError(`${plan.stack} changed since this preview: ${newer.what}.`, `Preview again: /cockpit deploy ${plan.stack}`);
    }
  }

  /** The newest change to the stack that finished at or after the plan's preview, if any. */
  private async changeSince(plan: DeployPlan): Promise<{ what: string; ref: string } | undefined> {
    const [plans, changes] = await Promise.all([
      this.deps.plans.finishedSince(plan.stack, plan.createdAt),
      this.deps.audit.query({ target: plan.stack, actions: STACK_CHANGES, outcomes: FINISHED, since: plan.createdAt, limit: 5 }),
    ]);
    // Strictly after the preview: what finished in the very millisecond it was taken, it saw.
    const after = (at: Date) => at.getTime() > plan.createdAt.getTime();
    const other = plans.find((p) => p.id !== plan.id && after(p.updatedAt));
    if (other) {
      const who = displayName(this.deps.team, other.approvedBy ?? other.confirmedBy ?? other.requestedBy);
      return { what: `${who} deployed it (${other.status}) with ref ${other.id}${other.preview.revision ? ` at ${other.preview.revision.slice(0, 12)}` : ''}`, ref: other.id };
    }
    const change = changes.find((c) => after(c.at));
    if (change) return { what: `${change.action.replace('environment.', '')} ${change.outcome} at ${change.at.toISOString().slice(11, 16)} UTC, ref ${change.requestId}`, ref: change.requestId };
    return undefined;
  }

  private async expire(plan: DeployPlan, meta: RequestMeta, why: string): Promise<void> {
    await this.deps.plans.transition(plan.id, [plan.status], 'expired');
    await this.record(meta, plan.stack, 'deploy.expire', 'cancelled', { planId: plan.id, why });
  }

  /**
   * An incident may have opened since the preview (or since a merge was queued), so the freeze is checked at
   * every press and again when a queued merge runs.
   */
  async mustNotBeFrozen(stack: string, meta: RequestMeta, detail: Record<string, unknown> = {}, act: Act = 'deploy'): Promise<void> {
    const freezing = await this.freezing(stack);
    if (freezing.length === 0) return;
    await this.enforce(
      refuse(`${stack} is frozen: ${describeIncidents(freezing)} is open.`, `An approver can deploy through it: /cockpit deploy ${stack} --override-freeze "<reason>"`),
      act,
      stack,
      meta,
      { ...detail, incidents: freezing.map((i) => i.id) },
    );
  }

  /** Open SEV1/SEV2 incidents on the stack: they freeze its deploys and tear-downs. */
  async freezing(stack: string): Promise<IncidentSummary[]> {
    return (await this.deps.incidents.open(stack)).filter(isFreezing);
  }

  async mayCancelPlan(plan: DeployPlan, meta: RequestMeta): Promise<void> {
    await this.enforce(judgeByRole(this.deps.team, meta.actor, 'cancel_plan', plan.stack, { requestedBy: plan.requestedBy }), 'cancel_plan', plan.stack, meta, { planId: plan.id });
  }

  /** Cancel pressed on a tear-down's confirmation: its asker, a deployer or an approver of the stack. */
  async mayCancelTearDown(stack: string, askedBy: string, meta: RequestMeta): Promise<void> {
    this.stack(stack);
    const verdict = judgeByRole(this.deps.team, meta.actor, 'cancel_plan', stack, { requestedBy: askedBy });
    await this.enforce(verdict.allowed ? verdict : refuse(`Only ${displayName(this.deps.team, askedBy)}, a deployer or an approver of ${stack} can cancel this tear-down.`), 'cancel_plan', stack, meta, { tearDown: true });
  }

  async mayCancelRun(stack: string, meta: RequestMeta): Promise<void> {
    this.stack(stack);
    await this.enforce(judgeByRole(this.deps.team, meta.actor, 'cancel_run', stack), 'cancel_run', stack, meta);
  }

  /** Only an approver, on a verified identity, and only a lock whose holder stopped beating. */
  async mayBreakLock(stack: string, lock: StackLock, meta: RequestMeta): Promise<void> {
    await this.enforce(judgeByRole(this.deps.team, meta.actor, 'break_lock', stack), 'break_lock', stack, meta);
    const silentMs = this.deps.clock.now().getTime() - lock.heartbeatAt.getTime();
    if (silentMs < this.timing.lockStaleAfterMs) {
      throw new ConflictError(`The lock on ${stack} is alive: its ${lock.purpose} sent a heartbeat ${Math.round(silentMs / 1000)}s ago.`, `To stop it, use /cockpit cancel ${stack}.`);
    }
  }

  /**
   * `up`, `down` and Keep, by a person or the scheduler. A scheduled stack (staging) follows its schedule: nobody
   * brings it up by hand, and nobody takes it down inside its window, the guarantee the team file promises. An
   * open SEV1/SEV2 on the stack postpones tear-downs: the evidence is in that cluster.
   */
  async mayChangeEnvironment(act: 'up' | 'down' | 'extend', stack: string, meta: RequestMeta): Promise<void> {
    const settings = this.stack(stack);
    await this.enforce(judgeByRole(this.deps.team, meta.actor, act, stack), act, stack, meta);
    if (act !== 'extend' && settings.availability) {
      const availability = settings.availability;
      const now = this.deps.clock.now();
      const state = scheduledState(availability, now);
      const next = nextTransition(availability, now, state.up ? 'down' : 'up');
      const until = next ? ` until ${formatInZone(next.at, availability.timezone)}` : '';
      const schedule = describeAvailability(availability);
      if (act === 'up' && (meta.actor.via !== 'scheduler' || !state.up)) {
        await this.enforce({ allowed: false, code: 'INPUT', reason: `${stack} follows its schedule (${schedule}): it is ${state.up ? 'up' : 'down'}${until}.`, hint: 'Change the schedule in cockpit.yml.' }, act, stack, meta);
      }
      if (act === 'down' && state.up) {
        await this.enforce(refuse(`${stack} is in its scheduled window${until}: nobody takes it down then.`, `Its schedule (${schedule}) is in cockpit.yml.`), act, stack, meta);
      }
    }
    if (act === 'down') {
      const freezing = await this.freezing(stack);
      if (freezing.length > 0) {
        await this.enforce(refuse(`${stack} is frozen by ${describeIncidents(freezing)}: it is not torn down while the incident is open.`, 'Resolve the incident first (its evidence is in that cluster).'), act, stack, meta, { incidents: freezing.map((i) => i.id) });
      }
    }
  }

  /** An act on an incident (or a declaration, without facts); refusals are audited against the incident. */
  async mayIncident(act: IncidentAct, meta: RequestMeta, facts?: IncidentFacts): Promise<void> {
    await this.enforce(judgeIncident(this.deps.team, meta.actor, act, facts), act, facts?.ref ?? 'incident', meta, facts ? { role: facts.role, assignee: facts.assignee } : {});
  }

  /**
   * A restore drill, asked for by a person (`manual`), run by the promotion PR's gate or by the weekly schedule.
   * Only the scheduler runs the gate's and the schedule's, and a person's is theirs alone. An open SEV1/SEV2
   * refuses it: the drill would hold the lock an emergency deploy needs and load the cluster under incident.
   */
  async mayDrill(stack: string, trigger: 'manual' | 'gate' | 'schedule', meta: RequestMeta): Promise<void> {
    this.stack(stack);
    await this.enforce(judgeByRole(this.deps.team, meta.actor, 'drill', stack), 'drill', stack, meta, { trigger });
    const system = meta.actor.via === 'scheduler';
    if (system !== (trigger !== 'manual')) {
      await this.enforce(refuse(system ? 'The scheduler runs only scheduled and gate drills.' : `A person's drill is manual, not ${trigger}.`), 'drill', stack, meta, { trigger });
    }
    const freezing = await this.freezing(stack);
    if (freezing.length > 0) {
      await this.enforce(
        refuse(`${stack} is frozen by ${describeIncidents(freezing)}: no drill while it is open.`, 'Resolve the incident first; the lock stays free for its fixes.'),
        'drill',
        stack,
        meta,
        { trigger, incidents: freezing.map((i) => i.id) },
      );
    }
  }

  /** An act on a support ticket; refusals are audited against the ticket (`#123`). */
  async mayTicket(act: TicketAct, meta: RequestMeta, facts: TicketFacts): Promise<void> {
    await this.enforce(judgeTicket(this.deps.team, meta.actor, act, facts), act, facts.ref, meta, facts.assignee ? { assignee: facts.assignee } : {});
  }

  async mayPromote(stack: string, meta: RequestMeta): Promise<void> {
    this.stack(stack);
    await this.enforce(judgeByRole(this.deps.team, meta.actor, 'promote', stack), 'promote', stack, meta);
  }

  /**
   * Whether a PR is previewed without anyone asking: only when its author is a person of the team file who may
   * preview the stack. Anyone else's code waits for a team member's `/cockpit preview <pr>` or `cockpit preview`
   * comment, because a preview runs the PR's program with the stack's credentials.
   */
  autoPreview(stack: string, authorLogin: string): Verdict {
    const person = personByGitHubLogin(this.deps.team, authorLogin);
    if (!person) return refuse(`@${authorLogin} is not in cockpit.yml (people[].github), so the PR is not previewed on its own.`, 'A team member can ask for it: comment `cockpit preview` on the PR, or /cockpit preview <number> in Slack.');
    return judgeByRole(this.deps.team, { id: person.slack, name: person.name, via: 'github', as: authorLogin }, 'preview', stack);
  }

  /** The team member a GitHub login belongs to, as an actor GitHub vouched for; undefined when nobody's. */
  githubActor(login: string): Actor | undefined {
    const person = personByGitHubLogin(this.deps.team, login);
    return person && { id: person.slack, name: person.name, via: 'github', as: login };
  }

  /**
   * A PR merged into a stack's branch follows the rules a Slack deploy does. Its merger must be a person of the
   * team file with the deployer role; a stack that requires a drill needs a passing `cockpit/restore-drill` on the
   * PR head; a freeze refuses it. Where the stack has approvers, an approving GitHub review of the merged head by
   * an approver who is neither the PR's author nor its merger stands for the second person; without one, the plan
   * waits for an approver in Slack. Refusals are audited and thrown (NotAllowedError).
   */
  async judgeMerge(merge: MergeFacts, meta: { requestId: string }): Promise<MergeVerdict> {
    const settings = this.stack(merge.stack);
    const stack = merge.stack;
    const ref = `PR #${merge.pullRequest}`;
    const merger = this.githubActor(merge.mergedBy);
    const detail = { pullRequest: merge.pullRequest, mergeSha: merge.mergeSha };
    if (!merger) {
      const actor: Actor = { id: `github:${merge.mergedBy}`, via: 'github', as: merge.mergedBy };
      throw await this.refused(
        refuse(`${ref} was merged by @${merge.mergedBy}, who is not in cockpit.yml (people[].github): ${stack} is not deployed.`, `A deployer of ${stack} can deploy it: /cockpit deploy ${stack}`),
        'deploy',
        stack,
        { requestId: meta.requestId, actor },
        detail,
      );
    }
    const mergerMeta = { requestId: meta.requestId, actor: merger };
    const role = judgeByRole(this.deps.team, merger, 'deploy', stack);
    if (!role.allowed) {
      throw await this.refused(refuse(`${ref} was merged by ${merger.name}, who may not deploy ${stack}: ${role.reason}`, `A deployer of ${stack} can deploy it: /cockpit deploy ${stack}`), 'deploy', stack, mergerMeta, detail);
    }
    if (settings.promotionRequiresDrill && merge.drill !== 'success') {
      const seen = merge.drill ? `it is ${merge.drill}` : 'there is none';
      throw await this.refused(
        refuse(`${stack} deploys a merge only after a restore drill passed on the PR: ${DRILL_CONTEXT} on ${merge.headSha.slice(0, 7)} is not success (${seen}).`, `Run the drill and deploy after it passes: /cockpit drill ${settings.promotesFrom ?? stack}, then /cockpit deploy ${stack}`),
        'deploy',
        stack,
        mergerMeta,
        { ...detail, drill: merge.drill ?? 'none' },
      );
    }
    const freezing = await this.freezing(stack);
    if (freezing.length > 0) {
      throw await this.refused(
        refuse(`${ref} merged into ${settings.branch}, but ${stack} is frozen by ${describeIncidents(freezing)}: not deployed.`, `An approver can deploy through the freeze: /cockpit deploy ${stack} --override-freeze "<reason>"`),
        'deploy',
        stack,
        mergerMeta,
        { ...detail, incidents: freezing.map((i) => i.id) },
      );
    }

    const askers = (merge.askedBy ?? []).map((id) => personById(this.deps.team, id)).filter((p): p is Person => p !== undefined);
    const author = askers[0] ?? (merge.author ? personByGitHubLogin(this.deps.team, merge.author) : undefined);
    const who = { merger, ...(author ? { author } : {}) };
    if (settings.approvers.length === 0) return { kind: 'deploy', ...who };
    const approval = this.approvingReview(merge, settings, merger, author ? [author, ...askers] : askers);
    if (approval.approvedBy) return { kind: 'deploy', ...who, approvedBy: approval.approvedBy };
    return { kind: 'needs_approval', ...who, reason: approval.why };
  }

  /** The approving review that counts as the second person, or why none does. */
  private approvingReview(merge: MergeFacts, settings: StackSettings, merger: Actor, authors: Person[]): { approvedBy?: Person; why: string } {
    // A reviewer's latest decisive review is their word; a comment changes nothing (GitHub reads reviews so too).
    const latest = new Map<string, PullRequestReview>();
    for (const review of [...merge.reviews].sort((a, b) => a.submittedAt.getTime() - b.submittedAt.getTime())) {
      if (review.state === 'COMMENTED' || review.state === 'PENDING') continue;
      latest.set(review.reviewer.toLowerCase(), review);
    }
    const roles = approverRoles(settings);
    const notes: string[] = [];
    for (const review of latest.values()) {
      if (review.state !== 'APPROVED') continue;
      const person = personByGitHubLogin(this.deps.team, review.reviewer);
      if (!person) notes.push(`@${review.reviewer} is not in cockpit.yml`);
      else if (!person.roles.some((r) => roles.includes(r))) notes.push(`${person.name} is not an approver of ${merge.stack}`);
      else if (person.slack === merger.id) notes.push(`${person.name} merged it`);
      else if (authors.some((a) => a.slack === person.slack)) notes.push(`${person.name} wrote or asked for it`);
      else if (review.commitSha !== merge.headSha) notes.push(`${person.name} approved an older commit (${review.commitSha.slice(0, 7)})`);
      else return { approvedBy: person, why: '' };
    }
    const why = notes.length > 0 ? `no approving review counts: ${notes.join('; ')}` : 'nobody approved it on GitHub';
    return { why: `${merge.stack} needs a second person and ${why}` };
  }

  /**
   * Any on-call act, judged on the facts the caller gathered. `target` names what it is done to in the audit log:
   * a page id, an alert group, a level.
   */
  async mayOnCall(act: OnCallAct, facts: OnCallFacts, meta: RequestMeta, target: string): Promise<void> {
    await this.enforce(judgeOnCall(this.deps.team, meta.actor, act, facts), act, target, meta);
  }

  /** Lets an allowed verdict through; records a refusal and throws it as the error its code names. */
  private async enforce(verdict: Verdict, act: Act, stack: string, meta: RequestMeta, detail: Record<string, unknown> = {}): Promise<void> {
    if (!verdict.allowed) throw await this.refused(verdict, act, stack, meta, detail);
  }

  /** Every refusal is in the audit log, with the identity it was refused to and why. */
  private async refused(verdict: Refusal, act: Act, stack: string, meta: RequestMeta, detail: Record<string, unknown> = {}): Promise<CockpitError> {
    await this.record(meta, stack, `policy.${act}`, 'refused', { ...detail, reason: verdict.reason, via: meta.actor.via });
    return errorOf(verdict);
  }

  private async record(meta: RequestMeta, stack: string, action: string, outcome: AuditOutcome, detail: Record<string, unknown>): Promise<void> {
    await recordAct(this.deps.audit, meta, { action, target: stack, outcome, detail });
  }
}

export function isFreezing(incident: IncidentSummary): boolean {
  return incident.severity === 'SEV1' || incident.severity === 'SEV2';
}

function describeIncidents(incidents: IncidentSummary[]): string {
  return incidents.map((i) => `INC-${i.id} ${i.severity} "${i.title}"`).join(', ');
}

function errorOf(verdict: Refusal): CockpitError {
  return verdict.code === 'INPUT' ? new InputError(verdict.reason, verdict.hint) : new NotAllowedError(verdict.reason, verdict.hint);
}
