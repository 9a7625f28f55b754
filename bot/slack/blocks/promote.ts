import type { PromotionResult } from '../../../handlers/promote';
import type { Measurement } from '../../../handlers/risk';
import type { KnownBlock } from '@slack/types';
import { ACTIONS } from '../ids';
import { drillButtonValue } from './drill';
import { actions, button, context, escapeMrkdwn, section, type Reply } from './reply';

/** A one-line account of a preview, or why there is none. */
function measurementLine(measurement: Measurement): string {
  if ('unavailable' in measurement) return `no preview (${escapeMrkdwn(measurement.unavailable)})`;
  const c = measurement.preview.counts;
  return `preview: ${measurement.risk.level} risk, ${c.create} create · ${c.update} update · ${c.replace} replace · ${c.delete} delete`;
}

/** `/cockpit preview <pr>`: what merging the PR would deploy; the full report is the PR comment. */
export function pullRequestPreviewReply(p: { number: number; htmlUrl: string; stack: string; measurement: Measurement }): Reply {
  return {
    text: `Preview of PR #${p.number} on ${p.stack}`,
    visibility: 'in_channel',
    blocks: [
      section(`:mag: <${p.htmlUrl}|PR #${p.number}> previewed on *${p.stack}*: ${measurementLine(p.measurement)}.`),
      context('the whole report is the PR comment', `merging it deploys ${p.stack}`),
    ],
  };
}

export function promotionReply(result: PromotionResult, requestId: string): Reply {
  if (result.kind === 'nothing') {
    return {
      text: `Nothing to promote from ${result.source} into ${result.target}`,
      visibility: 'ephemeral',
      blocks: [section(`:zzz: Nothing to promote: *${result.target}* already has everything on *${result.source}*.`)],
    };
  }
  const config = result.configChanges.length === 0 ? 'no stack config changes' : `${result.configChanges.length} stack config key(s) change`;
  const preview = measurementLine(result.measurement);
  const verb = result.kind === 'opened' ? 'opened' : 'refreshed';
  const blocks: KnownBlock[] = [
    section(`:arrow_up: Promotion *${result.source} → ${result.target}* ${verb}: <${result.pullRequest.htmlUrl}|#${result.pullRequest.number} ${escapeMrkdwn(result.pullRequest.title)}>`),
    context(`${result.comparison.aheadBy} commit(s)`, config, preview, 'merging it deploys the stack', `ref \`${requestId}\``),
  ];
  if (result.drill) {
    const said = { success: ':white_check_mark: passed', failure: ':x: failed', error: ':no_entry_sign: could not run', pending: ':hourglass_flowing_sand: running' } as const;
    blocks.push(
      section(`Restore drill of *${result.drill.stack}* on this PR: ${result.drill.state ? said[result.drill.state] : '*none yet*'}. It must pass before the merge deploys ${result.target}.`),
      actions(`promote-drill:${result.pullRequest.number}`, button(`Run a drill of ${result.drill.stack}`, ACTIONS.drillRun, drillButtonValue({ stack: result.drill.stack }), result.drill.state === 'success' ? undefined : 'primary')),
    );
  }
  return { text: `Promotion PR ${verb}: ${result.pullRequest.htmlUrl}`, visibility: 'in_channel', blocks };
}
