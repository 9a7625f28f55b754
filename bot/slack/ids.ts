/**
 * Every Slack identifier Cockpit answers to, in one place: the slash command, action_ids and callback_ids.
 * Block builders and listeners both import from here, so a renamed button cannot silently stop working.
 */
export const SLASH_COMMAND = '/cockpit';

/** Events API event types Cockpit listens to; the app manifest subscribes to the same. */
export const EVENTS = {
  appHomeOpened: 'app_home_opened',
  memberJoinedChannel: 'member_joined_channel',
} as const;

/** Button action_ids. A button's value carries the id of what it acts on (a deploy plan's id). */
export const ACTIONS = {
  deployConfirm: 'deploy.confirm',
  deployApprove: 'deploy.approve',
  deployCancel: 'deploy.cancel',
  deployPreviewAgain: 'deploy.preview_again',
  environmentKeep: 'environment.keep',
  environmentDown: 'environment.down',
  environmentDownCancel: 'environment.down_cancel',
  /** Runs a restore drill (Retry on a drill's result, Run on a promotion); value: JSON {stack, backup?, on?}. */
  drillRun: 'drill.run',
  /** A drill's kept logs and Velero's restore log; value: the drill's request id. */
  drillLogs: 'drill.logs',
  /** On an alert group's message (the on-call capability posts it); the incidents capability handles it. Value: the group id. */
  alertDeclareIncident: 'alert.declare_incident',
  /** Alert group buttons; value: the group id. */
  alertAcknowledge: 'alert.acknowledge',
  alertSilence: 'alert.silence',
  /** Page buttons, in its channel message and its DMs; value: the page id. */
  pageAcknowledge: 'page.acknowledge',
  pageEscalate: 'page.escalate',
  pageResolve: 'page.resolve',
  /** On a swap offer, for the person it was offered to; value: the swap id. */
  oncallSwapAccept: 'oncall.swap_accept',
  oncallSwapDecline: 'oncall.swap_decline',
  /** "I am IC", under a handover of command. Value: the incident's number. */
  incidentAcceptCommand: 'incident.accept_command',
  /** On a ticket's message in the support channel; value: the topic's number. */
  ticketTake: 'ticket.take',
  ticketEscalate: 'ticket.escalate',
  /** The offer to link a ticket to an open public incident; value: `<topic>:<incident>`. */
  ticketLinkIncident: 'ticket.link_incident',
} as const;

/**
 * Modal callback_ids. A submission goes through the core's action table under its callback_id, with the form's
 * values as JSON, so the rule it reaches is the same one the command reaches.
 */
export const VIEWS = {
  declareIncident: 'incident.declare',
} as const;

/** Events Cockpit reacts to through the core's action table, like buttons; the value is the event's JSON. */
export const EVENT_ACTIONS = {
  memberJoinedChannel: 'event.member_joined_channel',
} as const;
