/**
 * Every Slack identifier Cockpit answers to, in one place: the slash command, action_ids and callback_ids.
 * Block builders and listeners both import from here, so a renamed button cannot silently stop working.
 */
export const SLASH_COMMAND = '/cockpit';

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
} as const;
