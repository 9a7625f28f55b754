import type { KnownBlock } from '@slack/types';
import type { DrillOutcome, DrillProgress, DrillRequest } from '../../../handlers/drill';
import type { DrillRun, DrillStep, DrillStepName } from '../../../handlers/model/drills';
import { ACTIONS } from '../ids';
import { actions, button, context, escapeMrkdwn, fields, formatDuration, mention, section, truncate, type Reply } from './reply';

/**
 * A restore drill's messages: one message per drill, edited from "starting" through each step to the result
 * with its RTO, RPO and their trend, and the Retry and Show logs buttons. History and logs answer on their own.
 */

const STEP_WORDS: Record<DrillStepName, string> = {
  marker: 'Plant the marker',
  backup: 'Back up',
  restore: 'Restore into scratch namespaces',
  verify: 'Workloads ready, marker found',
  cleanup: 'Delete the scratch namespaces',
};
const STATE_ICON: Record<DrillStep['state'], string> = { running: ':hourglass_flowing_sand:', passed: ':white_check_mark:', failed: ':x:', skipped: ':heavy_minus_sign:' };
const SPARKS = '▁▂▃▄▅▆▇█';

function inChannel(text: string, blocks: KnownBlock[]): Reply {
  return { text, blocks, visibility: 'in_channel' };
}

function where(stack: string, cluster: string): string {
  return cluster === stack ? `*${stack}*` : `*${stack}* on ${cluster}'s cluster`;
}

export function drillStartingReply(request: DrillRequest, actorId: string): Reply {
  const by = actorId === 'scheduler' ? (request.trigger === 'gate' ? 'for the promotion PR' : 'on its weekly schedule') : `for ${mention(actorId)}`;
  return inChannel(`Restore drill of ${request.stack} starting`, [section(`:hourglass_flowing_sand: Restore drill of ${where(request.stack, request.on?.cluster ?? request.stack)} starting ${by}…`)]);
}

export function drillProgressReply(progress: DrillProgress, now: Date): Reply {
  const elapsed = formatDuration(now.getTime() - progress.startedAt.getTime());
  return inChannel(`Restore drill of ${progress.stack}: ${progress.steps.at(-1)?.name ?? 'starting'}`, [
    section(`:test_tube: *Restore drill of ${where(progress.stack, progress.cluster).replace(/\*/g, '')}* · ${elapsed}`),
    section(stepLines(progress.steps, now)),
    context(`ref \`${progress.requestId}\``),
  ]);
}

function stepLines(steps: DrillStep[], now: Date): string {
  return steps
    .map((s) => {
      const took = formatDuration((s.finishedAt ?? now).getTime() - s.startedAt.getTime());
      return `${STATE_ICON[s.state]} ${STEP_WORDS[s.name]} · ${took}${s.detail ? ` · ${escapeMrkdwn(truncate(s.detail, 300))}` : ''}`;
    })
    .join('\n');
}

/** RTO and RPO as a person reads them, with how they moved since the previous passed drill. */
export function measuredLine(run: DrillRun, recent: DrillRun[]): string {
  const previous = recent.find((r) => r.requestId !== run.requestId && r.outcome === 'passed' && r.rtoSeconds !== undefined);
  const delta = (now?: number, before?: number) => {
    if (now === undefined || before === undefined) return '';
    const diff = now - before;
    if (Math.abs(diff) < 1) return ' (same as last)';
    return ` (${diff > 0 ? '▲' : '▼'} ${formatDuration(Math.abs(diff) * 1000)} vs last)`;
  };
  const rto = run.rtoSeconds === undefined ? 'RTO not measured' : `RTO ${formatDuration(run.rtoSeconds * 1000)}${delta(run.rtoSeconds, previous?.rtoSeconds)}`;
  const rpo = run.rpoSeconds === undefined ? 'RPO not measured' : `RPO ${formatDuration(run.rpoSeconds * 1000)}${delta(run.rpoSeconds, previous?.rpoSeconds)}`;
  return `${rto} · ${rpo}`;
}

/** The trend of RTO over drills, oldest first: a block per passed drill, `×` for a failed one. */
export function sparkline(runs: DrillRun[]): string {
  const ordered = [...runs].reverse();
  const values = ordered.map((r) => (r.outcome === 'passed' ? r.rtoSeconds : undefined)).filter((v): v is number => v !== undefined);
  if (values.length === 0) return ordered.map(() => '×').join('');
  const min = Math.min(...values);
  const span = Math.max(...values) - min;
  return ordered
    .map((r) => {
      if (r.outcome !== 'passed' || r.rtoSeconds === undefined) return '×';
      return SPARKS[span === 0 ? 3 : Math.round(((r.rtoSeconds - min) / span) * (SPARKS.length - 1))];
    })
    .join('');
}

/** The value a Retry or Run button carries: the drill to run, asked for again by whoever presses it. */
export function drillButtonValue(request: Pick<DrillRequest, 'stack' | 'backup' | 'on'>): string {
  return JSON.stringify({ stack: request.stack, ...(request.backup ? { backup: request.backup } : {}), ...(request.on ? { on: request.on } : {}) });
}

export function drillResultReply(outcome: Extract<DrillOutcome, { kind: 'finished' }>, request: DrillRequest, now: Date): Reply {
  const { run, recent } = outcome;
  const passed = run.outcome === 'passed';
  const head = `${passed ? ':white_check_mark:' : ':x:'} *Restore drill of ${where(run.stack, run.cluster).replace(/\*/g, '')} ${passed ? 'passed' : 'failed'}* in ${formatDuration(run.finishedAt.getTime() - run.startedAt.getTime())}`;
  const blocks: KnownBlock[] = [section(`${head}\n${measuredLine(run, recent)}`)];
  if (!passed && run.reason) blocks.push(section(`*Why:* ${escapeMrkdwn(truncate(run.reason, 1500))}`));
  const marker = run.marker ? (run.marker.found ? 'found' : run.marker.found === false ? '*not found*' : 'not checked') : 'none';
  blocks.push(
    fields([
      ['Backup', run.backup ? `\`${run.backup.name}\` (${run.backup.fresh ? 'taken now' : 'latest scheduled'}, ${formatDuration(now.getTime() - run.backup.takenAt.getTime())} ago)` : 'none'],
      ['Marker', marker],
      ['Trend (RTO, oldest first)', `\`${sparkline(recent)}\` over ${recent.length} drill(s)`],
      ['Clean-up', run.leftBehind.length === 0 ? 'scratch namespaces deleted' : `:warning: *left behind:* ${run.leftBehind.map((n) => `\`${n}\``).join(', ')}`],
    ]),
  );
  blocks.push(section(stepLines(run.steps, run.finishedAt)));
  if (run.warnings.length > 0) blocks.push(section(`*Warnings*\n${run.warnings.slice(0, 10).map((w) => `• ${escapeMrkdwn(truncate(w, 300))}`).join('\n')}`));
  if (outcome.recordingFailed) blocks.push(section(`:warning: The result could not be recorded: ${escapeMrkdwn(outcome.recordingFailed)}. It does not count towards the risk report.`));
  blocks.push(actions(`drill:${run.requestId}`, button('Retry', ACTIONS.drillRun, drillButtonValue(request)), button('Show logs', ACTIONS.drillLogs, run.requestId)));
  blocks.push(context(`ref \`${run.requestId}\``, run.trigger ? `trigger: ${run.trigger}` : ''));
  const summary = passed ? `passed: ${measuredLine(run, recent)}` : `failed: ${truncate(run.reason ?? 'see the message', 200)}`;
  return inChannel(`Restore drill of ${run.stack} ${summary}`, blocks);
}

export function drillUnavailableReply(outcome: Extract<DrillOutcome, { kind: 'unavailable' }>, requestId: string): Reply {
  return inChannel(`No restore drill of ${outcome.stack}: ${outcome.reason}`, [
    section(`:no_entry_sign: *No restore drill of ${outcome.stack}:* ${escapeMrkdwn(outcome.reason)}.\n${escapeMrkdwn(outcome.needs)}`),
    context('Nothing was restored, and nothing is recorded as passed.', `ref \`${requestId}\``),
  ]);
}

export function drillNotRunReply(stack: string, why: string, requestId: string): Reply {
  return inChannel(`Restore drill of ${stack} did not run`, [section(`:x: Restore drill of *${stack}* did not run: ${escapeMrkdwn(why)}`), context(`ref \`${requestId}\``)]);
}

export function drillHistoryReply(runs: DrillRun[], stack: string | undefined, now: Date): Reply {
  const title = `Restore drills${stack ? ` of ${stack}` : ''}`;
  if (runs.length === 0) return { text: `${title}: none yet`, visibility: 'ephemeral', blocks: [section(`:test_tube: No restore drill${stack ? ` of *${stack}*` : ''} has run yet. Run one: \`/cockpit drill ${stack ?? '<stack>'}\``)] };
  const lines = runs.map((r) => {
    const measured = [r.rtoSeconds !== undefined ? `RTO ${formatDuration(r.rtoSeconds * 1000)}` : '', r.rpoSeconds !== undefined ? `RPO ${formatDuration(r.rpoSeconds * 1000)}` : ''].filter(Boolean).join(' · ');
    const why = r.outcome === 'failed' && r.reason ? ` — ${escapeMrkdwn(truncate(r.reason, 120))}` : '';
    return `${r.outcome === 'passed' ? ':white_check_mark:' : ':x:'} ${formatDuration(now.getTime() - r.finishedAt.getTime())} ago · ${stack ? '' : `*${r.stack}* · `}${measured || 'not measured'}${why} · \`${r.requestId}\``;
  });
  const stacks = [...new Set(runs.map((r) => r.stack))];
  const trends = stacks.map((s) => `${s} \`${sparkline(runs.filter((r) => r.stack === s))}\``);
  return {
    text: `${title}: ${runs.length}`,
    visibility: 'ephemeral',
    blocks: [section(`:test_tube: *${title}*, newest first`), section(truncate(lines.join('\n'))), context(`RTO trend, oldest first (× failed): ${trends.join(' · ')}`)],
  };
}

export function drillLogsReply(logs: { run: DrillRun; restoreLog?: string; restoreLogMissing?: string }): Reply {
  const { run } = logs;
  const blocks: KnownBlock[] = [section(`:page_facing_up: *Logs of the restore drill* \`${run.requestId}\` of *${run.stack}*`)];
  for (const job of run.logs.jobs.slice(0, 4)) {
    blocks.push(section(`*Job ${escapeMrkdwn(job.namespace)}/${escapeMrkdwn(job.name)}*\n\`\`\`${truncate(job.tail.slice(-20).join('\n') || '(no output)', 2700)}\`\`\``));
  }
  if (logs.restoreLog !== undefined) {
    // Warnings and errors first: the rest of Velero's log is its progress.
    const lines = logs.restoreLog.split('\n').filter(Boolean);
    const notable = lines.filter((l) => /level=(warning|error)/.test(l));
    const shown = (notable.length > 0 ? notable : lines).slice(-20).join('\n');
    blocks.push(section(`*Velero restore \`${run.logs.restore}\`* (${notable.length} warning or error line(s) of ${lines.length})\n\`\`\`${truncate(shown, 2700)}\`\`\``));
  } else if (run.logs.restore) {
    blocks.push(section(`Velero's log of \`${run.logs.restore}\` is not available: ${escapeMrkdwn(logs.restoreLogMissing ?? 'unknown')}. By hand: \`velero restore logs ${run.logs.restore}\``));
  }
  return { text: `Logs of drill ${run.requestId}`, visibility: 'ephemeral', blocks: blocks.slice(0, 50) };
}
