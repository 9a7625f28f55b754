import type { DrillRequest } from '../../handlers/drill';
import { isCockpitError } from '../../handlers/errors';
import { SCHEDULER_ACTOR } from '../../handlers/environments';
import { DRILL_CONTEXT, type RequestMeta } from '../../handlers/policy';
import type { CodeHost, Logger } from '../../handlers/ports';
import type { CommitState, PullRequestChanged } from '../../handlers/model/code';
import { stackOfBranch, type Team } from '../../handlers/team';
import { measuredLine } from '../slack/blocks/drill';
import type { ShownDrill } from './drill';

/**
 * The promotion gate: a pull request from a stack's branch into one whose promotions require a drill
 * (integration → staging) gets a restore drill of the source stack, reported as the `cockpit/restore-drill`
 * status on its head — pending, then success or failure with RTO, RPO and the marker, linking the drill's
 * message. No cluster is `error`, never success. GitHub's branch protection requires the status; the policy
 * refuses the merge deploy without it (Policy.judgeMerge). A person's `/cockpit drill <source>` updates the
 * status of the open promotion too, so a flaky failure is rerun from Slack.
 *
 * The drill tests the source stack as it runs, never the PR's code, so it runs whoever opened the PR.
 */

export interface DrillGateDeps {
  team: Team;
  codeHost: CodeHost;
  /** Runs a drill shown in the deploys channel (DrillFlow.runShown). */
  run(request: DrillRequest, meta: RequestMeta, log: Logger): Promise<ShownDrill>;
  /** Keeps the drill's work tracked (webhook work finishes after its answer; shutdown and tests wait for it). */
  track(work: Promise<void>): void;
  log: Logger;
}

export interface DrillGate {
  /** Called by the PR-changed handler: starts the drill when this PR is a gated promotion, and returns at once. */
  pullRequestChanged(event: PullRequestChanged, requestId: string, log: Logger): void;
  /** Called when any drill finished: a person's drill of a gated source updates its open promotion's status. */
  drillFinished(shown: ShownDrill, meta: RequestMeta): Promise<void>;
}

/** GitHub keeps 140 characters of a status description. */
const DESCRIPTION_LIMIT = 140;

export function drillGate(deps: DrillGateDeps): DrillGate {
  /** The source stack a PR from `head` into `base` must drill, if it is a gated promotion. */
  function gatedSource(base: string, head: string): string | undefined {
    const target = stackOfBranch(deps.team, base);
    const settings = target ? deps.team.stacks[target] : undefined;
    if (!settings?.promotionRequiresDrill || !settings.promotesFrom) return undefined;
    return deps.team.stacks[settings.promotesFrom]?.branch === head ? settings.promotesFrom : undefined;
  }

  const status = (sha: string, state: CommitState, description: string, targetUrl?: string) =>
    deps.codeHost.setCommitStatus(sha, { state, context: DRILL_CONTEXT, description: description.slice(0, DESCRIPTION_LIMIT), ...(targetUrl ? { targetUrl } : {}) });

  /** What the status says of a drill that ran (or could not). */
  function verdict(shown: ShownDrill): { state: CommitState; description: string } {
    const { outcome } = shown;
    if (outcome.kind === 'unavailable') return { state: 'error', description: `No drill: ${outcome.reason}` };
    const run = outcome.run;
    if (run.outcome === 'passed') return { state: 'success', description: `Passed: ${measuredLine(run, []).replace(' · ', ', ')}, marker found` };
    return { state: 'failure', description: `Failed: ${run.reason ?? 'see the deploys channel'}` };
  }

  async function gate(event: PullRequestChanged, source: string, requestId: string, log: Logger): Promise<void> {
    const meta: RequestMeta = { actor: { id: SCHEDULER_ACTOR, via: 'scheduler' }, requestId };
    try {
      await status(event.headSha, 'pending', `Restore drill of ${source} running, ref ${requestId}`);
      const shown = await deps.run({ stack: source, trigger: 'gate' }, meta, log);
      const { state, description } = verdict(shown);
      await status(event.headSha, state, description, shown.link);
      log.info({ pullRequest: event.number, stack: source, state }, 'drill gate reported');
    } catch (err) {
      // A busy stack, a refusal, or anything unexpected: never success, and the way to rerun it.
      const why = isCockpitError(err) ? err.message : `failed, ref ${requestId}`;
      if (!isCockpitError(err)) log.error({ err }, 'the drill gate failed');
      await status(event.headSha, 'error', `Drill did not run: ${why}. Rerun: /cockpit drill ${source}`).catch((e: unknown) => log.error({ err: e }, 'cannot set the drill status'));
    }
  }

  return {
    pullRequestChanged(event, requestId, log) {
      const source = gatedSource(event.base, event.head);
      if (!source) return;
      if (event.draft) return void log.info({}, 'draft promotion: drilled once it is ready for review');
      if (event.fromFork) return void log.info({}, 'a fork is no promotion: not drilled');
      deps.track(gate(event, source, requestId, log));
    },

    async drillFinished(shown, meta) {
      if (shown.request.trigger !== 'manual') return;
      for (const [name, settings] of Object.entries(deps.team.stacks)) {
        if (!settings.promotionRequiresDrill || settings.promotesFrom !== shown.request.stack) continue;
        const sourceBranch = deps.team.stacks[shown.request.stack]!.branch;
        const pr = await deps.codeHost.findOpenPullRequest(settings.branch, sourceBranch);
        if (!pr) continue;
        const { state, description } = verdict(shown);
        await status(pr.headSha, state, description, shown.link);
        deps.log.child({ requestId: meta.requestId }).info({ pullRequest: pr.number, stack: name, state }, 'drill status of the open promotion updated');
      }
    },
  };
}
