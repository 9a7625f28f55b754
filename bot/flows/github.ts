import type { Deployer } from '../../handlers/deploy';
import { isCockpitError } from '../../handlers/errors';
import type { AuditLog, Clock, CodeHost, CodeHostEvent, DeployPlan, Logger, PullRequestChanged, PullRequestMerged } from '../../handlers/ports';
import { measurementMarkdown } from '../../handlers/promote';
import type { Team } from '../../handlers/team';
import type { Conversation } from '../commands';
import { newRequestId } from '../requestId';
import { mergeDeployRefusedReply, mergeDeployReply, progressReply, resultReply } from '../slack/blocks/deploy';
import { ThrottledEditor } from './throttledEditor';

/**
 * What Cockpit does with the infra repo's pull requests, as Atlantis does: a PR into a stack branch gets the
 * target stack's preview as a comment and a `cockpit/preview` status on each push; a merged PR deploys the
 * stack under its lock, reported in the deploys channel and on the PR. The merge is the approval.
 */

export const PREVIEW_CONTEXT = 'cockpit/preview';

export interface GitHubFlowDeps {
  team: Team;
  /** `owner/name` of the infra repo: deliveries for any other repository are ignored. */
  repository: string;
  codeHost: CodeHost;
  deployer: Deployer;
  audit: AuditLog;
  clock: Clock;
  log: Logger;
  /** The team's deploys channel, when Slack is there to post in. */
  deploysChannel?: Conversation;
  progressIntervalMs?: number;
}

export function githubEventHandler(deps: GitHubFlowDeps): (event: CodeHostEvent, deliveryId: string) => Promise<void> {
  const stackOf = (branch: string) => Object.entries(deps.team.stacks).find(([, s]) => s.branch === branch)?.[0];

  async function previewPullRequest(event: PullRequestChanged, requestId: string, log: Logger): Promise<void> {
    const stack = stackOf(event.base);
    if (!stack) return void log.info({ base: event.base }, 'PR into a branch that is no stack: nothing to preview');
    const status = (state: 'pending' | 'success' | 'failure' | 'error', description: string) =>
      deps.codeHost.setCommitStatus(event.headSha, { state, context: PREVIEW_CONTEXT, description: description.slice(0, 140) });
    if (event.fromFork) {
      // A fork's code would run with our cloud credentials: never.
      await status('error', 'Previews do not run on forks: push the branch to the infra repo.');
      return;
    }
    await status('pending', `Previewing ${stack}…`);
    const measurement = await deps.deployer.measure(stack, event.head);
    const marker = `cockpit-preview:${stack}`;
    const body = [
      `### Cockpit preview of **${stack}** at \`${event.headSha.slice(0, 7)}\``,
      '',
      ...measurementMarkdown(measurement, stack),
      '',
      `Merging this PR deploys **${stack}**. Updated on every push; ref \`${requestId}\`.`,
    ].join('\n');
    await deps.codeHost.upsertComment(event.number, marker, body);
    if ('unavailable' in measurement) {
      await status('error', `No preview: ${measurement.unavailable}`);
    } else {
      const c = measurement.preview.counts;
      await status('success', `${measurement.risk.level} risk: +${c.create} ~${c.update} ±${c.replace} -${c.delete}`);
    }
    await deps.audit.record({
      requestId,
      actor: `github:${event.author}`,
      action: 'pr.preview',
      target: stack,
      outcome: 'unavailable' in measurement ? 'failed' : 'succeeded',
      detail: { pullRequest: event.number, headSha: event.headSha, ...('unavailable' in measurement ? { reason: measurement.unavailable } : { risk: measurement.risk.level }) },
    });
  }

  async function deployMerge(event: PullRequestMerged, requestId: string, log: Logger): Promise<void> {
    const stack = stackOf(event.base);
    if (!stack) return void log.info({ base: event.base }, 'merge into a branch that is no stack: nothing to deploy');
    const channel = deps.deploysChannel;
    const message = channel && (await channel.post(mergeDeployReply(stack, event)).catch((err: unknown) => void log.warn({ err }, 'cannot post in the deploys channel')));
    const editor = channel && message ? new ThrottledEditor(channel, message, deps.progressIntervalMs ?? 3000, log, () => deps.clock.now().getTime()) : undefined;
    const startedAt = deps.clock.now().getTime();
    let plan: Promise<DeployPlan> | undefined;
    let commentBody: string;
    try {
      const done = await deps.deployer.deployMerged(
        stack,
        { sha: event.mergeSha, mergedBy: event.mergedBy, pullRequest: event.number },
        { actor: { id: `github:${event.mergedBy}` }, requestId },
        (p) => {
          // The plan exists once progress starts; read it once, not on every step.
          plan ??= deps.deployer.plan(requestId);
          plan.then((found) => editor?.push(progressReply(found, p, deps.clock.now().getTime() - startedAt))).catch(() => undefined);
        },
      );
      await editor?.stop();
      if (channel && message) await channel.update(message, resultReply(done.plan, done.result));
      const r = done.result;
      commentBody = `${r.outcome === 'succeeded' ? ':white_check_mark:' : ':x:'} **${stack}** ${r.outcome} in ${Math.round(r.durationMs / 1000)} s at \`${(r.revision ?? event.mergeSha).slice(0, 7)}\`${r.error ? `\n\n\`\`\`\n${r.error.slice(0, 2000)}\n\`\`\`` : ''}\n\nref \`${requestId}\``;
    } catch (err) {
      await editor?.stop();
      const text = isCockpitError(err) ? `${err.message}${err.hint ? `\n${err.hint}` : ''}` : `failed, ref ${requestId}`;
      if (!isCockpitError(err)) log.error({ err }, 'merge deploy failed');
      if (channel && message) await channel.update(message, mergeDeployRefusedReply(stack, event, text)).catch(() => undefined);
      commentBody = `:x: **${stack}** was not deployed: ${text}\n\nref \`${requestId}\``;
    }
    await deps.codeHost.upsertComment(event.number, `cockpit-deploy:${stack}`, commentBody).catch((err: unknown) => log.warn({ err }, 'cannot comment the deploy result on the PR'));
  }

  return async (event, deliveryId) => {
    const requestId = newRequestId();
    const log = deps.log.child({ requestId, deliveryId, event: event.kind, ...('number' in event ? { pullRequest: event.number } : { branch: event.branch }) });
    if (event.repository.toLowerCase() !== deps.repository.toLowerCase()) {
      log.warn({ repository: event.repository }, 'delivery for another repository ignored');
      return;
    }
    if (event.kind === 'pull_request.changed' && event.action !== 'converted_to_draft') {
      try {
        await previewPullRequest(event, requestId, log);
      } catch (err) {
        log.error({ err }, 'PR preview failed');
        await deps.codeHost
          .setCommitStatus(event.headSha, { state: 'error', context: PREVIEW_CONTEXT, description: `Preview failed, ref ${requestId}` })
          .catch(() => undefined);
        // Not done: the webhook forgets the delivery, so GitHub's Redeliver runs the preview again.
        throw err;
      }
    } else if (event.kind === 'pull_request.merged') {
      await deployMerge(event, requestId, log);
    } else {
      log.info({}, 'GitHub event not acted on yet');
    }
  };
}
