/**
 * Every Slack identifier Cockpit answers to, in one place: the slash command, action_ids and callback_ids.
 * Block builders and listeners both import from here, so a renamed button cannot silently stop working.
 */
export const SLASH_COMMAND = '/cockpit';
