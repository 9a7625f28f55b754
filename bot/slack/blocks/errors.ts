import type { CockpitError } from '../../../handlers/errors';
import { escapeMrkdwn, section, type Reply } from './reply';

const ICON: Record<CockpitError['code'], string> = {
  INPUT: ':warning:',
  NOT_ALLOWED: ':no_entry:',
  NOT_FOUND: ':mag:',
  CONFLICT: ':lock:',
  UNAVAILABLE: ':electric_plug:',
  NOT_AVAILABLE_YET: ':construction:',
};

/** A known error: short, ephemeral, with its hint (usage, what to install) under it. */
export function errorReply(err: CockpitError): Reply {
  const blocks = [section(`${ICON[err.code]} ${escapeMrkdwn(err.message)}`)];
  if (err.hint) blocks.push(section(escapeMrkdwn(err.hint)));
  return { text: err.hint ? `${err.message}\n${err.hint}` : err.message, visibility: 'ephemeral', blocks };
}

/** Anything unexpected: no internals to the user, only the ref that finds the whole error in the logs. */
export function unexpectedErrorReply(requestId: string): Reply {
  return {
    text: `failed, ref ${requestId}`,
    visibility: 'ephemeral',
    blocks: [section(`:x: failed, ref \`${requestId}\``)],
  };
}
