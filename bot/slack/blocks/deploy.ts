import type { KnownBlock } from '@slack/types';
import type { DeployPlan } from '../../../handlers/model/deploys';
import type { DrillRecord } from '../../../handlers/model/drills';
import type { EngineProgress, ResourceChange, UpdateResult } from '../../../handlers/model/infra';
import type { StackLock } from '../../../handlers/model/stacks';
import { ACTIONS } from '../ids';
import { actions, button, context, escapeMrkdwn, fields, formatDuration, header, mention, section, truncate, type Reply } from './reply';

/**
 * The deploy's messages, one per state of the plan: previewing, the risk report with Deploy/Cancel, waiting
 * for an approver, progress, the result. They replace each other in one message, so the channel keeps one
 * line of history per deploy.
 */

const LEVEL = { low: ':large_green_circle: Low risk', elevated: ':large_yellow_circle: Elevated risk', high: ':red_circle: High risk' } as const;
const MAX_CHANGE_LINES = 15;

export function previewingReply(stack: string, actorId: string): Reply {
  return inChannel(`Previewing ${stack}…`, [section(`:hourglass_flowing_sand: Previewing *${stack}* for ${mention(actorId)}…`)]);
}

/** The channel learns the preview failed; the asker gets the reason (ephemeral, with its hint). */
export function previewFailedReply(stack: string, requestId: string): Reply {
  return inChannel(`Preview of ${stack} failed`, [section(`:x: Preview of *${stack}* failed, ref \`${requestId}\`.`)]);
}

/** The risk report: what the preview found and what Cockpit measured, with the buttons that act on it. */
export function riskReportReply(plan: DeployPlan, now: Date, options: { previewOnly?: boolean } = {}): Reply {
  const blocks = reportBlocks(plan, now, options.previewOnly ? 'Preview' : 'Deploy');
  const blocked = plan.risk.frozen && !plan.freezeOverride;
  if (options.previewOnly) {
    blocks.push(context(`Preview only. Deploy with \`/cockpit deploy ${plan.stack}\`.`));
  } else if (blocked) {
    blocks.push(section(`:no_entry: *${plan.stack} is frozen* by an open SEV1/SEV2 incident. An approver can deploy through it:\n\`/cockpit deploy ${plan.stack} --override-freeze "<reason>"\``));
    blocks.push(actions(`deploy:${plan.id}`, button('Cancel', ACTIONS.deployCancel, plan.id)));
  } else {
    const style = plan.risk.level === 'high' ? 'danger' : 'primary';
    blocks.push(actions(`deploy:${plan.id}`, button(`Deploy ${plan.stack}`, ACTIONS.deployConfirm, plan.id, style), button('Cancel', ACTIONS.deployCancel, plan.id)));
  }
  return inChannel(`${options.previewOnly ? 'Preview' : 'Deploy'} ${plan.stack}: ${summaryLine(plan)} (${plan.risk.level} risk)`, blocks);
}

/** `why`: what the approval is missing, for a merge whose GitHub reviews did not count. */
export function awaitingApprovalReply(plan: DeployPlan, approvers: string[], now: Date, why?: string): Reply {
  const blocks = reportBlocks(plan, now, 'Deploy');
  const wants = plan.source ? `${mention(plan.confirmedBy ?? plan.requestedBy)} merged <${plan.source.htmlUrl}|PR #${plan.source.pullRequest}>` : `${mention(plan.confirmedBy ?? plan.requestedBy)} wants to deploy`;
  blocks.push(
    section(`:raised_hand: ${wants}. *A second person must approve:* ${approvers.join(', ') || 'no approver is configured'}.${why ? `\n${escapeMrkdwn(why)}.` : ''}`),
    actions(`deploy:${plan.id}`, button('Approve and deploy', ACTIONS.deployApprove, plan.id, 'primary'), button('Cancel', ACTIONS.deployCancel, plan.id)),
  );
  return inChannel(`Deploy ${plan.stack} is waiting for an approver`, blocks);
}

export function progressReply(plan: DeployPlan, progress: EngineProgress, elapsedMs: number): Reply {
  const pct = progress.total > 0 ? Math.min(100, Math.round((progress.done / progress.total) * 100)) : 0;
  const bar = `${'▰'.repeat(Math.round(pct / 10))}${'▱'.repeat(10 - Math.round(pct / 10))}`;
  const current = progress.current ? `\n${escapeMrkdwn(progress.current)}` : '';
  return inChannel(`Deploying ${plan.stack}: ${progress.done}/${progress.total}`, [
    section(`:rocket: *Deploying ${plan.stack}* ${bar} ${progress.done}/${progress.total} steps · ${formatDuration(elapsedMs)}${current}`),
    context(...people(plan), `ref \`${plan.id}\``),
  ]);
}

export function resultReply(plan: DeployPlan, result: UpdateResult): Reply {
  const icon = result.outcome === 'succeeded' ? ':white_check_mark:' : result.outcome === 'cancelled' ? ':octagonal_sign:' : ':x:';
  const verb = result.outcome === 'succeeded' ? 'deployed' : result.outcome === 'cancelled' ? 'deploy cancelled' : 'deploy failed';
  const c = result.counts;
  const blocks: KnownBlock[] = [
    section(`${icon} *${plan.stack} ${verb}* in ${formatDuration(result.durationMs)}`),
    fields([
      ['Changes', `${c.create} created · ${c.update} updated · ${c.replace} replaced · ${c.delete} deleted`],
      ['Revision', result.revision ? `\`${result.revision.slice(0, 12)}\`` : 'working tree'],
    ]),
  ];
  if (result.error) blocks.push(section(`*Why*\n\`\`\`${truncate(result.error, 1500)}\`\`\``));
  const outputs = Object.entries(result.outputs);
  if (outputs.length > 0) {
    const lines = outputs.slice(0, 10).map(([k, o]) => `\`${k}\`: ${o.secret ? '_[secret]_' : escapeMrkdwn(truncate(JSON.stringify(o.value), 200))}`);
    blocks.push(section(`*Outputs*\n${lines.join('\n')}${outputs.length > 10 ? `\n… and ${outputs.length - 10} more` : ''}`));
  }
  if (result.outcome !== 'succeeded' && result.logTail.length > 0) {
    blocks.push(section(`*Last log lines*\n\`\`\`${truncate(result.logTail.slice(-12).join('\n'), 2800)}\`\`\``));
  }
  blocks.push(context(...people(plan), `ref \`${plan.id}\` (every log line and audit entry of this deploy carries it)`));
  return inChannel(`${plan.stack} ${verb}`, blocks);
}

export interface MergeShown {
  number: number;
  htmlUrl: string;
  mergedBy: string;
  mergeSha: string;
  /** Earlier merges this deploy carries (they waited behind a busy stack). */
  carries?: number[];
}

function mergeLink(merge: MergeShown): string {
  const carried = merge.carries && merge.carries.length > 0 ? ` (with ${merge.carries.map((n) => `#${n}`).join(', ')})` : '';
  return `<${merge.htmlUrl}|PR #${merge.number}>${carried}`;
}

/** A merged PR is deploying its stack: the deploys channel sees who merged what. */
export function mergeDeployReply(stack: string, merge: MergeShown): Reply {
  return inChannel(`PR #${merge.number} merged: deploying ${stack}`, [
    section(`:twisted_rightwards_arrows: ${mergeLink(merge)} merged by ${escapeMrkdwn(merge.mergedBy)}: deploying *${stack}* at \`${merge.mergeSha.slice(0, 7)}\`…`),
  ]);
}

/** The stack was busy: the merge waits in the store and deploys (once, with any later merges) when it frees. */
export function mergeQueuedReply(stack: string, merge: MergeShown, busy: string): Reply {
  return inChannel(`PR #${merge.number} merged: ${stack} queued`, [
    section(`:hourglass_flowing_sand: ${mergeLink(merge)} merged by ${escapeMrkdwn(merge.mergedBy)}. *${stack}* is busy (${escapeMrkdwn(busy)}): it deploys \`${merge.mergeSha.slice(0, 7)}\` as soon as that ends.`),
  ]);
}

export function mergeDeployRefusedReply(stack: string, merge: { number: number; htmlUrl: string }, why: string): Reply {
  return inChannel(`PR #${merge.number} merged; ${stack} not deployed`, [section(`:x: <${merge.htmlUrl}|PR #${merge.number}> merged; *${stack}* not deployed.\n${escapeMrkdwn(why)}`)]);
}

/** A stack branch moved without a merged PR (a direct push, a revert): the stack no longer runs its branch. */
export function branchLagsReply(stack: string, push: { branch: string; before: string; after: string; pusher: string; forced: boolean; headCommitMessage?: string }, runs?: string): Reply {
  const what = push.headCommitMessage ? ` (“${escapeMrkdwn(truncate(push.headCommitMessage.split('\n', 1)[0] ?? '', 120))}”)` : '';
  return inChannel(`${stack} lags its branch`, [
    section(
      `:warning: \`${push.branch}\` moved to \`${push.after.slice(0, 7)}\`${what} by ${escapeMrkdwn(push.pusher)}${push.forced ? ', *force-pushed*' : ''}, without a merged pull request. *${stack}* still runs ${runs ? `\`${runs.slice(0, 7)}\`` : 'what it last deployed'}: nothing was deployed.`,
    ),
    actions(`lag:${stack}`, button(`Preview ${stack}`, ACTIONS.deployPreviewAgain, stack)),
  ]);
}

/** A plan that no longer describes its stack (too old, or the stack changed since): preview again. */
export function expiredReply(plan: DeployPlan): Reply {
  return inChannel(`Deploy ${plan.stack}: the preview expired`, [
    section(`:hourglass: This preview of *${plan.stack}* no longer describes the stack (it is too old, or the stack changed since). Nothing was deployed.`),
    actions(`deploy:${plan.id}`, button(`Preview ${plan.stack} again`, ACTIONS.deployPreviewAgain, plan.stack)),
    context(...people(plan), `ref \`${plan.id}\``),
  ]);
}

export function cancelledReply(plan: DeployPlan, byId: string): Reply {
  return inChannel(`Deploy ${plan.stack} cancelled`, [section(`:octagonal_sign: Deploy of *${plan.stack}* cancelled by ${mention(byId)} before it started.`), context(`ref \`${plan.id}\``)]);
}

export function cancelRequestedReply(stack: string, lock: StackLock, byId: string): Reply {
  return inChannel(`Cancelling ${stack}`, [
    section(`:octagonal_sign: ${mention(byId)} asked to cancel the ${lock.purpose} running on *${stack}* (started by ${mention(lock.holder)}, ref \`${lock.requestId}\`). Steps in flight finish; the result follows in its message.`),
  ]);
}

export function lockBrokenReply(stack: string, lock: StackLock, byId: string, reason: string): Reply {
  return inChannel(`Lock on ${stack} broken`, [
    section(`:unlock: ${mention(byId)} broke the lock on *${stack}* held by ${mention(lock.holder)} for ${lock.purpose} (ref \`${lock.requestId}\`, replica \`${lock.owner}\`).\n*Reason:* ${escapeMrkdwn(reason)}`),
  ]);
}

function reportBlocks(plan: DeployPlan, now: Date, title: string): KnownBlock[] {
  const { risk, preview } = plan;
  const c = preview.counts;
  const blocks: KnownBlock[] = [
    header(`${title} ${plan.stack}?`),
    section(`*${LEVEL[risk.level]}*${risk.reasons.length > 0 ? `\n${risk.reasons.map((r) => `• ${escapeMrkdwn(r)}`).join('\n')}` : ''}`),
    fields([
      ['Changes', `${c.create} to create · ${c.update} to update · ${c.replace} to replace · ${c.delete} to delete · ${c.same} unchanged`],
      ['Last restore drill', drillText(risk.lastDrill, now)],
      ['Last good restore', risk.lastPassedDrill ? `${formatDuration(now.getTime() - risk.lastPassedDrill.finishedAt.getTime())} ago` : '*never*'],
      ['Open incidents', risk.openIncidents.length === 0 ? 'none' : risk.openIncidents.map((i) => `INC-${i.id} ${i.severity} ${escapeMrkdwn(i.title)}`).join('\n')],
      ['Freeze', risk.frozen ? (plan.freezeOverride ? `overridden by ${mention(plan.freezeOverride.by)}: ${escapeMrkdwn(plan.freezeOverride.reason)}` : '*on*') : 'off'],
      ['Revision', preview.revision ? `\`${preview.revision.slice(0, 12)}\`` : 'working tree'],
    ]),
  ];
  if (risk.stateful.length > 0) blocks.push(section(`:warning: *Stateful resources that would be replaced or deleted*\n${changeLines(risk.stateful)}`));
  const others = preview.changes.filter((ch) => !risk.stateful.includes(ch) && !risk.stateful.some((s) => s.urn === ch.urn));
  if (others.length > 0) blocks.push(section(`*Other changes*\n${changeLines(others)}`));
  if (plan.source) {
    const carried = plan.source.carries && plan.source.carries.length > 0 ? `, carrying ${plan.source.carries.map((n) => `#${n}`).join(', ')}` : '';
    blocks.push(context(`From <${plan.source.htmlUrl}|PR #${plan.source.pullRequest}>${carried}, merged by ${escapeMrkdwn(plan.source.mergedBy)} at \`${plan.source.mergeSha.slice(0, 7)}\``));
  }
  blocks.push(context(...people(plan), `previewed in ${formatDuration(preview.durationMs)}`, `ref \`${plan.id}\``));
  return blocks;
}

function changeLines(changes: ResourceChange[]): string {
  const lines = changes.slice(0, MAX_CHANGE_LINES).map((ch) => `\`${ch.op}\` ${escapeMrkdwn(shortType(ch.type))} *${escapeMrkdwn(ch.name)}*`);
  if (changes.length > MAX_CHANGE_LINES) lines.push(`… and ${changes.length - MAX_CHANGE_LINES} more`);
  return lines.join('\n');
}

/** `kubernetes:core/v1:PersistentVolumeClaim` → `PersistentVolumeClaim (kubernetes)`: the kind first, as people scan. */
function shortType(type: string): string {
  const parts = type.split(':');
  return parts.length >= 3 ? `${parts[parts.length - 1]} (${parts[0]})` : type;
}

function drillText(drill: DrillRecord | undefined, now: Date): string {
  if (!drill) return '*none recorded*';
  const ago = formatDuration(now.getTime() - drill.finishedAt.getTime());
  const measured = [drill.rtoSeconds !== undefined ? `RTO ${formatDuration(drill.rtoSeconds * 1000)}` : '', drill.rpoSeconds !== undefined ? `RPO ${formatDuration(drill.rpoSeconds * 1000)}` : '']
    .filter(Boolean)
    .join(', ');
  return `${drill.outcome === 'passed' ? 'passed' : '*failed*'} ${ago} ago${measured ? ` (${measured})` : ''}`;
}

function summaryLine(plan: DeployPlan): string {
  const c = plan.preview.counts;
  return `+${c.create} ~${c.update} ±${c.replace} -${c.delete}`;
}

function people(plan: DeployPlan): string[] {
  const who = [`asked by ${mention(plan.requestedBy)}`];
  if (plan.confirmedBy && plan.confirmedBy !== plan.requestedBy) who.push(`confirmed by ${mention(plan.confirmedBy)}`);
  if (plan.approvedBy && plan.approvedBy !== plan.confirmedBy) who.push(`approved by ${mention(plan.approvedBy)}`);
  return who;
}

function inChannel(text: string, blocks: KnownBlock[]): Reply {
  return { text, blocks, visibility: 'in_channel' };
}
