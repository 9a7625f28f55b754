import type { PromotionResult } from '../../../handlers/promote';
import { context, escapeMrkdwn, section, type Reply } from './reply';

export function promotionReply(result: PromotionResult, requestId: string): Reply {
  if (result.kind === 'nothing') {
    return {
      text: `Nothing to promote from ${result.source} into ${result.target}`,
      visibility: 'ephemeral',
      blocks: [section(`:zzz: Nothing to promote: *${result.target}* already has everything on *${result.source}*.`)],
    };
  }
  const config = result.configChanges.length === 0 ? 'no stack config changes' : `${result.configChanges.length} stack config key(s) change`;
  const preview =
    'unavailable' in result.measurement
      ? `no preview (${escapeMrkdwn(result.measurement.unavailable)})`
      : `preview: ${result.measurement.risk.level} risk, ${result.measurement.preview.counts.create} create · ${result.measurement.preview.counts.update} update · ${result.measurement.preview.counts.replace} replace · ${result.measurement.preview.counts.delete} delete`;
  const verb = result.kind === 'opened' ? 'opened' : 'refreshed';
  return {
    text: `Promotion PR ${verb}: ${result.pullRequest.htmlUrl}`,
    visibility: 'in_channel',
    blocks: [
      section(`:arrow_up: Promotion *${result.source} → ${result.target}* ${verb}: <${result.pullRequest.htmlUrl}|#${result.pullRequest.number} ${escapeMrkdwn(result.pullRequest.title)}>`),
      context(`${result.comparison.aheadBy} commit(s)`, config, preview, 'merging it deploys the stack', `ref \`${requestId}\``),
    ],
  };
}
