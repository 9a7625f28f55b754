import type { KnownBlock } from '@slack/types';
import { describeAvailability, type Availability } from '../../../handlers/availability';
import { InputError } from '../../../handlers/errors';
import { formatInZone } from '../../../handlers/availability';
import { formatMinutes, SCHEDULER_ACTOR, type EnvironmentEvent } from '../../../handlers/environments';
import type { Environment } from '../../../handlers/model/environments';
import type { EngineProgress, PreviewResult, UpdateResult } from '../../../handlers/model/infra';
import { isStateful } from '../../../handlers/risk';
import { ACTIONS } from '../ids';
import { actions, button, context, escapeMrkdwn, fields, formatDuration, header, mention, section, truncate, type Reply } from './reply';

/**
 * Messages of stacks that come and go: bringing one up, tearing one down (asked for, expired, or by
 * schedule), the warning with its Keep button, a staging reminder. Each operation is one message in the
 * channel, edited from "bringing up…" to its outcome.
 */

/** What a Keep button carries: the stack and the tear-down it was shown, so two presses extend once. */
export function keepButtonValue(stack: string, expiresAt: Date): string {
  return JSON.stringify({ stack, expiresAt: expiresAt.toISOString() });
}

export function parseKeepButtonValue(value: string): { stack: string; expiresAt: Date } {
  try {
    const parsed = JSON.parse(value) as { stack?: unknown; expiresAt?: unknown };
    const expiresAt = typeof parsed.expiresAt === 'string' ? new Date(parsed.expiresAt) : undefined;
    if (typeof parsed.stack === 'string' && expiresAt && !Number.isNaN(expiresAt.getTime())) return { stack: parsed.stack, expiresAt };
  } catch {
    // answered below
  }
  throw new InputError('That button is from an older Cockpit; use /cockpit up <stack> --ttl to extend.');
}

/** "16:30 UTC (in 30m)", "Thu 21 May 16:30 UTC (in 2d 4h)", or in a schedule's zone "Mon 20:00 Europe/Paris (in 30m)". */
export function whenText(at: Date, now: Date, timezone?: string): string {
  const ahead = at.getTime() - now.getTime();
  const relative = ahead > 0 ? ` (in ${formatDuration(ahead)})` : '';
  if (timezone) return `${formatInZone(at, timezone)}${relative}`;
  const time = at.toISOString().slice(11, 16);
  if (Math.abs(ahead) < 20 * 3_600_000) return `${time} UTC${relative}`;
  const day = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', weekday: 'short', day: 'numeric', month: 'short' }).format(at).replace(',', '');
  return `${day} ${time} UTC${relative}`;
}

const by = (actorId: string) => (actorId === SCHEDULER_ACTOR || actorId === 'schedule' ? 'its schedule' : mention(actorId));

// --- up -----------------------------------------------------------------------------------------------------

export function bringingUpReply(stack: string, actorId: string, ttlMinutes: number): Reply {
  return inChannel(`Bringing up ${stack}…`, [section(`:hourglass_flowing_sand: Bringing up *${stack}* for ${formatMinutes(ttlMinutes)}, for ${mention(actorId)}…`)]);
}

export function progressReply(verb: 'Bringing up' | 'Tearing down', stack: string, progress: EngineProgress, elapsedMs: number): Reply {
  const pct = progress.total > 0 ? Math.min(100, Math.round((progress.done / progress.total) * 100)) : 0;
  const bar = `${'▰'.repeat(Math.round(pct / 10))}${'▱'.repeat(10 - Math.round(pct / 10))}`;
  const current = progress.current ? `\n${escapeMrkdwn(progress.current)}` : '';
  const icon = verb === 'Bringing up' ? ':building_construction:' : ':wastebasket:';
  return inChannel(`${verb} ${stack}: ${progress.done}/${progress.total}`, [
    section(`${icon} *${verb} ${stack}* ${bar} ${progress.done}/${progress.total} steps · ${formatDuration(elapsedMs)}${current}`),
  ]);
}

/** The outcome of `/cockpit up`, in place of "bringing up…". */
export function broughtUpReply(environment: Environment, result: UpdateResult, now: Date, requestId: string): Reply {
  const stack = environment.stack;
  const until = environment.expiresAt ? whenText(environment.expiresAt, now) : 'its next tear-down';
  if (result.outcome !== 'succeeded') {
    const verb = result.outcome === 'cancelled' ? 'was cancelled while coming up' : 'did not come up';
    const blocks: KnownBlock[] = [
      section(`:x: *${stack}* ${verb} (${formatDuration(result.durationMs)}). Whatever it created is torn down at ${until}, or now with \`/cockpit down ${stack}\`.`),
      ...whyBlocks(result),
      context(`brought up by ${by(environment.upBy)}`, `ref \`${requestId}\``),
    ];
    return inChannel(`${stack} ${verb}`, blocks);
  }
  return inChannel(`${stack} is up until ${until}`, [
    section(`:white_check_mark: *${stack}* is up until ${until}.`),
    fields([
      ['Brought up by', by(environment.upBy)],
      ['Took', formatDuration(result.durationMs)],
      ['Changes', changesText(result)],
      ['Revision', result.revision ? `\`${result.revision.slice(0, 12)}\`` : 'working tree'],
    ]),
    ...outputBlocks(result),
    context(`Torn down when its time runs out, after a warning here. \`/cockpit up ${stack} --ttl 8h\` gives it longer.`, `ref \`${requestId}\``),
  ]);
}

/** The channel learns the bring-up did not start; the asker gets the reason (ephemeral, with its hint). */
export function upNotStartedReply(stack: string, requestId: string): Reply {
  return inChannel(`${stack} was not brought up`, [section(`:x: *${stack}* was not brought up, ref \`${requestId}\`.`)]);
}

/** `/cockpit up` on a stack that is up: nothing ran; the team hears of a longer TTL, only the asker of the rest. */
export function alreadyUpReply(environment: Environment, extended: boolean, now: Date): Reply {
  const until = environment.expiresAt ? whenText(environment.expiresAt, now) : 'its next tear-down';
  if (extended) {
    return inChannel(`${environment.stack} now stays up until ${until}`, [section(`:hourglass: *${environment.stack}* was up already; it now stays up until ${until}.`)]);
  }
  return {
    text: `${environment.stack} is up already, until ${until}`,
    visibility: 'ephemeral',
    blocks: [section(`:information_source: *${environment.stack}* is up already, until ${until} (brought up by ${by(environment.upBy)}). Deploy changes to it with \`/cockpit deploy ${environment.stack}\`.`)],
  };
}

// --- down ---------------------------------------------------------------------------------------------------

/** What the tear-down buttons carry: the stack, who asked, and until when the confirmation may be pressed. */
export interface DownConfirmation {
  stack: string;
  askedBy: string;
  expiresAt: Date;
}

export function downButtonValue(confirmation: DownConfirmation): string {
  return JSON.stringify({ stack: confirmation.stack, askedBy: confirmation.askedBy, expiresAt: confirmation.expiresAt.toISOString() });
}

export function parseDownButtonValue(value: string): DownConfirmation {
  try {
    const parsed = JSON.parse(value) as { stack?: unknown; askedBy?: unknown; expiresAt?: unknown };
    const expiresAt = typeof parsed.expiresAt === 'string' ? new Date(parsed.expiresAt) : undefined;
    if (typeof parsed.stack === 'string' && typeof parsed.askedBy === 'string' && expiresAt && !Number.isNaN(expiresAt.getTime())) {
      return { stack: parsed.stack, askedBy: parsed.askedBy, expiresAt };
    }
  } catch {
    // answered below
  }
  throw new InputError('That button is from an older Cockpit; ask again with /cockpit down <stack>.');
}

export function previewingDownReply(stack: string, actorId: string): Reply {
  return inChannel(`Previewing the tear-down of ${stack}…`, [section(`:hourglass_flowing_sand: Previewing what tearing down *${stack}* deletes, for ${mention(actorId)}…`)]);
}

/** `/cockpit down`: what the destroy preview says goes, the stateful resources first, and the buttons, until they expire. */
export function confirmDownReply(confirmation: DownConfirmation, environment: Environment | undefined, preview: PreviewResult, now: Date): Reply {
  const { stack } = confirmation;
  const state =
    environment?.state === 'up'
      ? `It was brought up by ${by(environment.upBy)}${environment.expiresAt ? ` and is due to go at ${whenText(environment.expiresAt, now)}` : ''}.`
      : `Cockpit has no record of *${stack}* being up; this deletes whatever the stack holds.`;
  const deletes = preview.changes.filter((c) => c.op === 'delete');
  const stateful = deletes.filter((c) => isStateful(c));
  const lines = [...stateful, ...deletes.filter((c) => !stateful.includes(c))]
    .slice(0, 15)
    .map((c) => `${stateful.includes(c) ? ':warning: ' : ''}\`${escapeMrkdwn(c.type.split(':').pop() ?? c.type)}\` *${escapeMrkdwn(c.name)}*`);
  if (deletes.length > 15) lines.push(`… and ${deletes.length - 15} more`);
  const value = downButtonValue(confirmation);
  return inChannel(`Tear down ${stack}? ${deletes.length} resource(s) deleted`, [
    header(`Tear down ${stack}?`),
    section(`:warning: *${deletes.length} resource(s) of ${stack} are deleted*${stateful.length > 0 ? `, ${stateful.length} of them holding data` : ''}. ${state}`),
    ...(lines.length > 0 ? [section(lines.join('\n'))] : []),
    actions(`environment-down:${stack}`, button(`Tear down ${stack}`, ACTIONS.environmentDown, value, 'danger'), button('Cancel', ACTIONS.environmentDownCancel, value)),
    context(`asked by ${mention(confirmation.askedBy)}`, `this confirmation expires at ${whenText(confirmation.expiresAt, now)}`),
  ]);
}

export function downExpiredReply(confirmation: DownConfirmation): Reply {
  return inChannel(`Tear-down of ${confirmation.stack}: the confirmation expired`, [
    section(`:hourglass: This confirmation to tear down *${confirmation.stack}* expired: what it listed may no longer be what the stack holds. Ask again with \`/cockpit down ${confirmation.stack}\`.`),
    context(`asked by ${mention(confirmation.askedBy)}`),
  ]);
}

export function downNotStartedReply(stack: string, why: string): Reply {
  return inChannel(`Tear-down of ${stack} did not start`, [section(`:x: Tear-down of *${stack}* did not start: ${escapeMrkdwn(why)}\nAsk again with \`/cockpit down ${stack}\` once that is sorted.`)]);
}

export function downCancelledReply(stack: string, actorId: string): Reply {
  return inChannel(`Tear-down of ${stack} cancelled`, [section(`:octagonal_sign: Tear-down of *${stack}* cancelled by ${mention(actorId)}.`)]);
}

export function tearingDownReply(stack: string, actorId: string, why: 'asked' | 'expired' | 'schedule'): Reply {
  const reason = why === 'asked' ? `for ${mention(actorId)}` : why === 'expired' ? 'its time ran out' : 'per its schedule';
  return inChannel(`Tearing down ${stack}…`, [section(`:wastebasket: Tearing down *${stack}*, ${reason}…`)]);
}

/** The outcome of a tear-down, whoever started it. */
export function tornDownReply(
  environment: Environment,
  result: UpdateResult,
  now: Date,
  requestId: string,
  options: { why: 'asked' | 'expired' | 'schedule'; actorId?: string; nextUp?: Date; timezone?: string; retryAt?: Date },
): Reply {
  const stack = environment.stack;
  const who = options.why === 'asked' ? `by ${mention(options.actorId ?? '')}` : options.why === 'expired' ? 'its time ran out' : 'per its schedule';
  if (result.outcome !== 'succeeded') {
    const retry = options.retryAt ? `Cockpit tries again at ${whenText(options.retryAt, now)}, or now with \`/cockpit down ${stack}\`.` : `Retry with \`/cockpit down ${stack}\`.`;
    return inChannel(`Tear-down of ${stack} failed`, [
      section(`:x: Tear-down of *${stack}* ${result.outcome === 'cancelled' ? 'was cancelled' : 'failed'} (${who}): some of it may still run, and cost. ${retry}`),
      ...whyBlocks(result),
      context(`ref \`${requestId}\``),
    ]);
  }
  const back = options.nextUp ? ` Back up at ${whenText(options.nextUp, now, options.timezone)}.` : options.why === 'schedule' ? '' : ` Bring it back with \`/cockpit up ${stack}\`.`;
  return inChannel(`${stack} torn down`, [
    section(`:white_check_mark: *${stack}* torn down, ${who}, in ${formatDuration(result.durationMs)}: ${result.counts.delete} resources deleted.${back}`),
    context(`brought up by ${by(environment.upBy)}`, `ref \`${requestId}\``),
  ]);
}

/** The engine refused to start the tear-down (busy backend, unreachable): nothing was deleted. */
export function tearDownErrorReply(stack: string, error: string, now: Date, requestId: string, retryAt?: Date): Reply {
  const retry = retryAt ? `Cockpit tries again at ${whenText(retryAt, now)}, or now with \`/cockpit down ${stack}\`.` : `Retry with \`/cockpit down ${stack}\`.`;
  return inChannel(`Tear-down of ${stack} did not start`, [section(`:x: Tear-down of *${stack}* did not start: ${escapeMrkdwn(truncate(error, 500))}\n${retry}`), context(`ref \`${requestId}\``)]);
}

// --- the scheduler's messages -------------------------------------------------------------------------------

/** Before a tear-down: the Keep button for an ephemeral stack; a reminder of the schedule for staging. */
export function warningReply(event: Extract<EnvironmentEvent, { kind: 'warning' }>, now: Date, keepMinutes: number, availability?: Availability): Reply {
  const { environment, tearDownAt } = event;
  const stack = environment.stack;
  if (event.stackKind === 'scheduled') {
    const zone = availability?.timezone;
    const back = event.nextUp ? ` Back up at ${whenText(event.nextUp, now, zone)}.` : '';
    return inChannel(`${stack} goes down at ${whenText(tearDownAt, now, zone)}`, [
      section(`:alarm_clock: *${stack}* goes down at ${whenText(tearDownAt, now, zone)}, per its schedule.${back}`),
      context(availability ? `Schedule: ${describeAvailability(availability)}, in cockpit.yml.` : 'The schedule is in cockpit.yml.'),
    ]);
  }
  return inChannel(`${stack} is torn down at ${whenText(tearDownAt, now)}`, [
    section(`:hourglass: *${stack}* is torn down at ${whenText(tearDownAt, now)}: its time runs out. Brought up by ${by(environment.upBy)}.`),
    actions(`environment-keep:${stack}`, button(`Keep ${formatMinutes(keepMinutes)} more`, ACTIONS.environmentKeep, keepButtonValue(stack, environment.expiresAt ?? tearDownAt), 'primary')),
    context(`Done with it? \`/cockpit down ${stack}\` tears it down now.`),
  ]);
}

export function keptReply(environment: Environment, actorId: string, now: Date): Reply {
  const until = environment.expiresAt ? whenText(environment.expiresAt, now) : 'later';
  return inChannel(`${environment.stack} kept until ${until}`, [section(`:white_check_mark: ${mention(actorId)} kept *${environment.stack}* up until ${until}.`)]);
}

export function alreadyKeptReply(environment: Environment, now: Date): Reply {
  const until = environment.expiresAt ? whenText(environment.expiresAt, now) : 'later';
  return { text: `${environment.stack} was kept already`, visibility: 'ephemeral', blocks: [section(`:information_source: *${environment.stack}* was kept already: it stays up until ${until}.`)] };
}

export function scheduledUpReply(stack: string): Reply {
  return inChannel(`Bringing up ${stack}, per its schedule…`, [section(`:sunrise: Bringing up *${stack}*, per its schedule…`)]);
}

export function scheduledUpResultReply(environment: Environment, now: Date, requestId: string, availability: Availability | undefined, outcome: { result?: UpdateResult; error?: string }): Reply {
  const stack = environment.stack;
  const zone = availability?.timezone;
  const until = environment.expiresAt ? ` until ${whenText(environment.expiresAt, now, zone)}` : '';
  if (outcome.result?.outcome === 'succeeded') {
    return inChannel(`${stack} is up${until}`, [
      section(`:white_check_mark: *${stack}* is up${until}, per its schedule (${formatDuration(outcome.result.durationMs)}).`),
      context(`ref \`${requestId}\``),
    ]);
  }
  const why = outcome.error ? [section(`*Why*\n\`\`\`${truncate(outcome.error, 1500)}\`\`\``)] : outcome.result ? whyBlocks(outcome.result) : [];
  return inChannel(`${stack} did not come up`, [
    section(`:x: *${stack}* did not come up on schedule. Fix it with \`/cockpit deploy ${stack}\`; it still goes down at its next down time.`),
    ...why,
    context(`ref \`${requestId}\``),
  ]);
}

export function scheduleAdoptedReply(environment: Environment, availability: Availability, now: Date): Reply {
  const state =
    environment.state === 'up'
      ? `It counts as up${environment.expiresAt ? ` until ${whenText(environment.expiresAt, now, availability.timezone)}` : ''}.`
      : 'It counts as down until its next up time.';
  return inChannel(`${environment.stack} now follows its schedule`, [
    section(`:calendar: *${environment.stack}* now follows its schedule: ${describeAvailability(availability)}. ${state}`),
    context('Cockpit acts from the next transition on; nothing changes on the stack now.'),
  ]);
}

// --- pieces -------------------------------------------------------------------------------------------------

function changesText(result: UpdateResult): string {
  const c = result.counts;
  return `${c.create} created · ${c.update} updated · ${c.replace} replaced · ${c.delete} deleted`;
}

function whyBlocks(result: UpdateResult): KnownBlock[] {
  const blocks: KnownBlock[] = [];
  if (result.error) blocks.push(section(`*Why*\n\`\`\`${truncate(result.error, 1500)}\`\`\``));
  if (result.logTail.length > 0) blocks.push(section(`*Last log lines*\n\`\`\`${truncate(result.logTail.slice(-12).join('\n'), 2800)}\`\`\``));
  return blocks;
}

function outputBlocks(result: UpdateResult): KnownBlock[] {
  const outputs = Object.entries(result.outputs);
  if (outputs.length === 0) return [];
  const lines = outputs.slice(0, 10).map(([k, o]) => `\`${k}\`: ${o.secret ? '_[secret]_' : escapeMrkdwn(truncate(JSON.stringify(o.value), 200))}`);
  return [section(`*Outputs*\n${lines.join('\n')}${outputs.length > 10 ? `\n… and ${outputs.length - 10} more` : ''}`)];
}

function inChannel(text: string, blocks: KnownBlock[]): Reply {
  return { text, blocks, visibility: 'in_channel' };
}

/** The scheduler did not act because the policy refused (an incident freezes the stack, say): told once. */
export function postponedReply(stack: string, what: 'up' | 'destroy', reason: string, now: Date): Reply {
  const act = what === 'up' ? 'bring-up' : 'tear-down';
  return inChannel(`${stack}: scheduled ${act} postponed`, [
    section(`:pause_button: The scheduled ${act} of *${stack}* is postponed: ${escapeMrkdwn(reason)}`),
    context(`Cockpit tries again every minute · ${now.toISOString().slice(11, 16)} UTC`),
  ]);
}
