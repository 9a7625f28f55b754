import { parse as parseYaml } from 'yaml';
import { InputError } from './errors';
import { DRILL_CONTEXT, recordAct, type Policy, type RequestMeta } from './policy';
import type { AuditLog, Clock, CodeHost, DrillHistory } from './ports';
import type { BranchComparison, CommitState, PullRequestRef } from './model/code';
import type { DrillRecord } from './model/drills';
import type { PreviewCode } from './model/infra';
import type { Measurement } from './risk';
import { displayName, type StackSettings, type Team } from './team';

/**
 * Promotion: the code of one stack's branch moves to the next by pull request (dev → integration → staging →
 * master). Cockpit opens or refreshes the PR with what a reviewer needs: the commits, the stack config keys that
 * change, and what the target stack's preview says. The merge, reviewed on GitHub, is what deploys.
 */


export interface PromoteDeps {
  team: Team;
  policy: Policy;
  codeHost: CodeHost;
  /** Previews `stack` with other code, apart from its checkout, and measures the risk (Deployer.measure). */
  measure(stack: string, code: PreviewCode): Promise<Measurement>;
  drills: DrillHistory;
  audit: AuditLog;
  clock: Clock;
  /** The Pulumi program's directory in the infra repo, where `Pulumi.<stack>.yaml` lives. */
  programDir: string;
}

export interface ConfigChange {
  key: string;
  change: 'added' | 'removed' | 'changed';
  /** Shown values; secrets are never shown, only that they changed. */
  before?: string;
  after?: string;
  secret: boolean;
}

export type PromotionResult =
  | { kind: 'nothing'; source: string; target: string; comparison: BranchComparison }
  | {
      kind: 'opened' | 'updated';
      source: string;
      target: string;
      pullRequest: PullRequestRef;
      comparison: BranchComparison;
      configChanges: ConfigChange[];
      measurement: Measurement;
      /** Where the target requires a drill: the source stack to drill, and its status on the PR head (none yet: undefined). */
      drill?: { stack: string; state?: CommitState };
    };

export class Promoter {
  constructor(private readonly deps: PromoteDeps) {}

  async promote(stack: string, meta: RequestMeta): Promise<PromotionResult> {
    const target = this.deps.policy.stack(stack);
    if (!target.promotesFrom) {
      const first = Object.keys(this.deps.team.stacks).filter((s) => this.deps.team.stacks[s]?.promotesFrom);
      throw new InputError(`${stack} is where changes start: nothing promotes into it.`, `Promote into ${first.join(', ')}.`);
    }
    await this.deps.policy.mayPromote(stack, meta);
    const sourceName = target.promotesFrom;
    const source = this.deps.team.stacks[sourceName]!;
    const comparison = await this.deps.codeHost.compare(target.branch, source.branch);
    if (comparison.aheadBy === 0) {
      await this.audit(meta, stack, 'succeeded', { result: 'nothing to promote', source: sourceName });
      return { kind: 'nothing', source: sourceName, target: stack, comparison };
    }

    const configFile = `${this.deps.programDir}/Pulumi.${target.pulumiStack}.yaml`;
    const [before, after, measurement, sourceDrill] = await Promise.all([
      this.deps.codeHost.readFile(configFile, target.branch),
      this.deps.codeHost.readFile(configFile, source.branch),
      this.deps.measure(stack, { kind: 'branch', branch: source.branch }),
      this.deps.drills.latest(sourceName),
    ]);
    const configChanges = diffStackConfig(before, after);
    const body = promotionBody({
      sourceName,
      source,
      targetName: stack,
      target,
      comparison,
      configFile,
      configChanges,
      measurement,
      sourceDrill,
      now: this.deps.clock.now(),
      requestedBy: `${displayName(this.deps.team, meta.actor.id)} (${meta.actor.id})`,
      requestId: meta.requestId,
    });
    const title = `Promote ${sourceName} → ${stack}: ${comparison.aheadBy} commit${comparison.aheadBy === 1 ? '' : 's'}`;

    const open = await this.deps.codeHost.findOpenPullRequest(target.branch, source.branch);
    const pullRequest = open
      ? await this.deps.codeHost.updatePullRequest(open.number, { title, body })
      : await this.deps.codeHost.openPullRequest({ base: target.branch, head: source.branch, title, body });
    const kind = open ? 'updated' : 'opened';
    // Who asked for the PR is its author as far as the two-person rule goes: GitHub only sees Cockpit's login.
    await this.audit(meta, stack, 'succeeded', { result: kind, source: sourceName, pullRequest: pullRequest.htmlUrl, pullRequestNumber: pullRequest.number, requestedBy: meta.actor.id, commits: comparison.aheadBy });
    const drill = target.promotionRequiresDrill
      ? { stack: sourceName, state: await this.deps.codeHost.commitStatus(pullRequest.headSha, DRILL_CONTEXT).catch(() => undefined) }
      : undefined;
    return { kind, source: sourceName, target: stack, pullRequest, comparison, configChanges, measurement, ...(drill ? { drill } : {}) };
  }

  private audit(meta: RequestMeta, target: string, outcome: 'succeeded', detail: Record<string, unknown>): Promise<void> {
    return recordAct(this.deps.audit, meta, { action: 'promote', target, outcome, detail });
  }
}

/** Keys of `Pulumi.<stack>.yaml`'s `config:` that differ between two versions, nested values as dotted paths. */
export function diffStackConfig(beforeText: string | undefined, afterText: string | undefined): ConfigChange[] {
  const before = flattenConfig(beforeText);
  const after = flattenConfig(afterText);
  const keys = [...new Set([...before.keys(), ...after.keys()])].sort();
  const changes: ConfigChange[] = [];
  for (const key of keys) {
    const b = before.get(key);
    const a = after.get(key);
    if (b && a && b.value === a.value) continue;
    const secret = Boolean(b?.secret || a?.secret);
    changes.push({
      key,
      change: !b ? 'added' : !a ? 'removed' : 'changed',
      secret,
      ...(secret ? {} : { before: b?.value, after: a?.value }),
    });
  }
  return changes;
}

function flattenConfig(text: string | undefined): Map<string, { value: string; secret: boolean }> {
  const out = new Map<string, { value: string; secret: boolean }>();
  if (!text) return out;
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch {
    out.set('(file)', { value: 'not valid YAML', secret: false });
    return out;
  }
  const config = (doc as { config?: unknown } | null)?.config;
  const walk = (value: unknown, path: string) => {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const entries = Object.entries(value as Record<string, unknown>);
      // Pulumi writes an encrypted value as { secure: <ciphertext> }: a secret, never shown.
      if (entries.length === 1 && entries[0]![0] === 'secure') {
        out.set(path, { value: String(entries[0]![1]), secret: true });
        return;
      }
      for (const [k, v] of entries) walk(v, path ? `${path}.${k}` : k);
      return;
    }
    out.set(path, { value: JSON.stringify(value), secret: false });
  };
  if (config && typeof config === 'object') walk(config, '');
  return out;
}

interface BodyInputs {
  sourceName: string;
  source: StackSettings;
  targetName: string;
  target: StackSettings;
  comparison: BranchComparison;
  configFile: string;
  configChanges: ConfigChange[];
  measurement: Measurement;
  sourceDrill?: DrillRecord;
  now: Date;
  requestedBy: string;
  requestId: string;
}

const MAX_COMMITS_LISTED = 50;

/** The PR body a reviewer reads before merging: what moves, what changes in the stack's config, what the preview says. */
export function promotionBody(i: BodyInputs): string {
  const lines: string[] = [];
  lines.push(`Promotes \`${i.source.branch}\` (${i.sourceName}) into \`${i.target.branch}\` (${i.targetName}). **Merging deploys ${i.targetName}.**`, '');

  lines.push(`### Commits (${i.comparison.aheadBy})`, '');
  for (const c of i.comparison.commits.slice(-MAX_COMMITS_LISTED)) {
    lines.push(`- ${c.sha.slice(0, 7)} ${escapeMd(c.message.split('\n', 1)[0] ?? '')} (${escapeMd(c.author)})`);
  }
  if (i.comparison.aheadBy > Math.min(i.comparison.commits.length, MAX_COMMITS_LISTED)) {
    lines.push(`- … and more: [the full comparison](${i.comparison.htmlUrl})`);
  }
  lines.push('');

  lines.push(`### Stack config: \`${i.configFile}\``, '');
  if (i.configChanges.length === 0) {
    lines.push('No key changes.');
  } else {
    lines.push('| key | change | before | after |', '|---|---|---|---|');
    for (const c of i.configChanges) {
      const show = (v?: string) => (c.secret ? '_secret_' : v === undefined ? '' : `\`${escapeMd(v.length > 80 ? `${v.slice(0, 77)}...` : v)}\``);
      lines.push(`| \`${c.key}\` | ${c.change} | ${show(c.before)} | ${show(c.after)} |`);
    }
  }
  lines.push('');

  lines.push(`### Preview of ${i.targetName} with this code`, '', ...measurementMarkdown(i.measurement, i.targetName), '');

  if (i.target.promotionRequiresDrill) {
    const drill = i.sourceDrill;
    lines.push('### Restore drill', '');
    lines.push('A restore drill must pass on this PR before it merges (runbooks/disaster-recovery.md).');
    lines.push(
      drill
        ? `Last drill on ${i.sourceName}: **${drill.outcome}** ${Math.round((i.now.getTime() - drill.finishedAt.getTime()) / 3_600_000)} h ago${drill.rtoSeconds !== undefined ? `, RTO ${Math.round(drill.rtoSeconds / 60)} min` : ''}${drill.rpoSeconds !== undefined ? `, RPO ${Math.round(drill.rpoSeconds / 60)} min` : ''}.`
        : `No drill has run on ${i.sourceName} yet: run \`/cockpit drill ${i.sourceName}\`.`,
    );
    lines.push('');
  }

  lines.push('---', `Requested by ${escapeMd(i.requestedBy)} with \`/cockpit promote ${i.targetName}\`, ref \`${i.requestId}\`. Cockpit refreshes this description each time it is asked again.`);
  return lines.join('\n');
}

/** A preview and its risk as Markdown lines, for PR bodies and PR comments. */
export function measurementMarkdown(measurement: Measurement, stack: string): string[] {
  if ('unavailable' in measurement) {
    return [`Not available: ${escapeMd(measurement.unavailable)}. Preview it before merging: \`/cockpit deploy ${stack} --preview\`.`];
  }
  const { preview, risk } = measurement;
  const c = preview.counts;
  const lines = [`**${risk.level} risk** · ${c.create} to create · ${c.update} to update · ${c.replace} to replace · ${c.delete} to delete · ${c.same} unchanged`];
  for (const r of risk.reasons) lines.push(`- ${escapeMd(r)}`);
  if (risk.stateful.length > 0) {
    lines.push('', 'Stateful resources replaced or deleted:');
    for (const s of risk.stateful) lines.push(`- \`${s.op}\` ${s.type} **${escapeMd(s.name)}**`);
  }
  const others = preview.changes.filter((ch) => !risk.stateful.some((s) => s.urn === ch.urn));
  if (others.length > 0) {
    lines.push('', '<details><summary>Other changes</summary>', '');
    for (const ch of others.slice(0, 50)) lines.push(`- \`${ch.op}\` ${ch.type} **${escapeMd(ch.name)}**`);
    if (others.length > 50) lines.push(`- … and ${others.length - 50} more`);
    lines.push('', '</details>');
  }
  return lines;
}

/** Keeps commit subjects and names from breaking the table or turning into mentions and links. */
function escapeMd(text: string): string {
  return text.replace(/[|`*_[\]<>]/g, (ch) => `\\${ch}`).replace(/@/g, '@\u200b');
}
