import { createHash } from 'node:crypto';

/**
 * The demo's infra repository, in memory: the four stack branches with a few commits each, and the
 * `Pulumi.<stack>.yaml` files a promotion compares. The demo GitHub serves it and the demo engine "checks it
 * out", so the commit a preview ran at is one the code host knows.
 */

export interface DemoCommit {
  sha: string;
  message: string;
  /** GitHub login, as the example team file maps them. */
  author: string;
  /** Files changed by this commit (path → text). */
  files: Record<string, string>;
}

const stackFile = (stack: string, replicas: number, extra = '') =>
  `config:\n  cockpit:domain: ${stack}.demo.invalid\n  cockpit:webReplicas: ${replicas}\n${extra}`;

export class DemoRepository {
  /** Each branch's history, oldest first; a branch made from another shares its commits. */
  private readonly branches = new Map<string, DemoCommit[]>();

  constructor() {
    this.commit('master', 'Initial stacks', 'alice-gh', {
      'infra/Pulumi.prod.yaml': stackFile('prod', 3),
      'infra/Pulumi.staging.yaml': stackFile('staging', 2),
      'infra/Pulumi.integration.yaml': stackFile('integration', 1),
      'infra/Pulumi.dev.yaml': stackFile('dev', 1),
    });
    this.branch('staging', 'master');
    this.commit('staging', 'web: a PodDisruptionBudget so node upgrades keep two replicas', 'bob-gh', { 'infra/components/productEnvironment.ts': '// DEMO\n' });
    this.branch('integration', 'staging');
    this.commit('integration', 'Raise staging to 3 web replicas', 'alice-gh', { 'infra/Pulumi.staging.yaml': stackFile('staging', 3) });
    this.commit('integration', 'Postgres: move the data volume to the faster storage class', 'carol-gh', {
      'infra/Pulumi.staging.yaml': stackFile('staging', 3, '  cockpit:dbPassword:\n    secure: v1:DEMOciphertext==\n'),
    });
    this.branch('dev', 'integration');
    this.commit('dev', 'Try the search service', 'bob-gh', { 'infra/components/search.ts': '// DEMO\n' });
  }

  history(branch: string): DemoCommit[] | undefined {
    return this.branches.get(branch);
  }

  tip(branch: string): string | undefined {
    return this.branches.get(branch)?.at(-1)?.sha;
  }

  /** Commits on `head` that `base` lacks, oldest first. */
  ahead(base: string, head: string): DemoCommit[] {
    const known = new Set((this.branches.get(base) ?? []).map((c) => c.sha));
    return (this.branches.get(head) ?? []).filter((c) => !known.has(c.sha));
  }

  contains(branch: string, sha: string): boolean {
    return (this.branches.get(branch) ?? []).some((c) => c.sha === sha);
  }

  /** A file's text at a branch tip or a commit; undefined when absent there. */
  readFile(path: string, ref: string): string | undefined {
    const history = this.branches.get(ref) ?? this.historyUpTo(ref);
    let text: string | undefined;
    for (const c of history ?? []) if (path in c.files) text = c.files[path];
    return text;
  }

  private historyUpTo(sha: string): DemoCommit[] | undefined {
    for (const history of this.branches.values()) {
      const at = history.findIndex((c) => c.sha === sha);
      if (at >= 0) return history.slice(0, at + 1);
    }
    return undefined;
  }

  private branch(name: string, from: string): void {
    this.branches.set(name, [...(this.branches.get(from) ?? [])]);
  }

  private commit(branch: string, message: string, author: string, files: Record<string, string>): void {
    const history = this.branches.get(branch) ?? [];
    const parent = history.at(-1)?.sha ?? '';
    const sha = createHash('sha1').update(`${parent}\n${message}`).digest('hex');
    this.branches.set(branch, [...history, { sha, message, author, files }]);
  }
}
