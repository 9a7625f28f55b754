import { existsSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import type { DrillClusters } from '../../../handlers/ports';
import type { StackTarget } from '../../../handlers/model/stacks';
import type { KubeconfigSource, Team } from '../../../handlers/team';
import { KubernetesDrillCluster } from './cluster';

/**
 * The Kubernetes adapter: the clusters restore drills run on, reached through @kubernetes/client-node with the
 * kubeconfig source each stack names in cockpit.yml (`drills.stacks.<stack>.kubeconfig`):
 * - `stack-output[:<name>]`: the Pulumi stack's secret output (`kubeconfig`, which infra exports), read for
 *   every drill, since a managed cluster's token lasts hours;
 * - `in-cluster`: Cockpit's own service account, on the cluster it runs in (infra grants what a drill needs);
 * - `file:<path>`: a kubeconfig file, e.g. a Secret mounted into Cockpit's pod.
 * Nothing is cached: a drill reads its kubeconfig when it starts.
 */

export interface KubernetesDeps {
  /** Reads a Pulumi stack output, secrets decrypted; absent when Cockpit has no Pulumi engine here. */
  stackOutput?(target: StackTarget, name: string): Promise<unknown>;
  fetch?: typeof fetch;
  sleep?(ms: number): Promise<void>;
  /** A directory the pod's service account path is under (tests); default the root, the pod's own. */
  serviceAccountRoot?: string;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export function fromConfig(team: Team, deps: KubernetesDeps = {}): DrillClusters {
  const clusterDeps = { fetch: deps.fetch ?? fetch, sleep: deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms))) };
  return {
    async forStack(stack) {
      const drills = team.drills;
      const settings = drills?.stacks[stack];
      const stackSettings = team.stacks[stack];
      if (!drills || !settings || !stackSettings) {
        return { unavailable: `no cluster is configured for drills of ${stack}`, needs: `Add drills.stacks.${stack} to cockpit.yml: its kubeconfig source (stack-output, in-cluster or file:<path>), namespaces and targets.` };
      }
      const target = { stack, pulumiStack: stackSettings.pulumiStack, branch: stackSettings.branch };
      const loaded = await loadKubeconfig(settings.kubeconfig, target, deps);
      if ('unavailable' in loaded) return loaded;
      return { cluster: new KubernetesDrillCluster(loaded.config, `${stack}'s cluster (${describeSource(settings.kubeconfig)})`, drills.veleroNamespace, clusterDeps) };
    },
  };
}

export function describeSource(source: KubeconfigSource): string {
  switch (source.kind) {
    case 'stack-output':
      return `kubeconfig from the Pulumi output "${source.output}"`;
    case 'in-cluster':
      return "Cockpit's service account";
    case 'file':
      return `kubeconfig file ${source.path}`;
  }
}

async function loadKubeconfig(source: KubeconfigSource, target: StackTarget, deps: KubernetesDeps): Promise<{ config: KubeConfig } | { unavailable: string; needs: string }> {
  const config = new KubeConfig();
  const bad = (why: string, needs: string) => ({ unavailable: `${target.stack}'s kubeconfig ${why}`, needs });
  switch (source.kind) {
    case 'stack-output': {
      if (!deps.stackOutput) return bad('comes from a Pulumi stack output, and Pulumi is not available here', 'Install the Pulumi CLI and log in to the backend, or set drills.stacks.<stack>.kubeconfig to in-cluster or file:<path>.');
      let value: unknown;
      try {
        value = await deps.stackOutput(target, source.output);
      } catch (err) {
        return bad(`could not be read from the Pulumi stack ${target.pulumiStack}: ${err instanceof Error ? err.message : String(err)}`, `Check \`pulumi stack output ${source.output} --stack ${target.pulumiStack}\` works where Cockpit runs; is the stack up?`);
      }
      if (value === undefined || value === null || value === '') {
        return bad(`is not there: the Pulumi stack ${target.pulumiStack} has no output "${source.output}"`, `Bring ${target.stack} up first (/cockpit up ${target.stack}); its program exports "${source.output}".`);
      }
      return parse(config, typeof value === 'string' ? value : JSON.stringify(value), `the Pulumi output "${source.output}"`, bad);
    }
    case 'file':
      if (!existsSync(source.path)) return bad(`file ${source.path} does not exist`, 'Mount it (a Secret) at that path, or point drills.stacks.<stack>.kubeconfig elsewhere.');
      try {
        config.loadFromFile(source.path);
      } catch (err) {
        return bad(`file ${source.path} cannot be read: ${err instanceof Error ? err.message : String(err)}`, 'It must be a kubeconfig (YAML) Cockpit may read.');
      }
      return checked(config, `the file ${source.path}`, bad);
    case 'in-cluster': {
      const root = deps.serviceAccountRoot ?? '';
      if (!process.env.KUBERNETES_SERVICE_HOST || !existsSync(`${root}${SERVICE_ACCOUNT_DIR}/token`)) {
        return bad('is the service account of the pod, and Cockpit is not running in a pod of that cluster', 'Run it there, or use stack-output or file:<path> for this stack.');
      }
      config.loadFromCluster(root || undefined);
      return checked(config, 'the service account', bad);
    }
  }
}

function parse(config: KubeConfig, text: string, from: string, bad: (why: string, needs: string) => { unavailable: string; needs: string }) {
  try {
    config.loadFromString(text);
  } catch {
    // Never the parser's message: it may quote the document, whose tokens are secrets.
    return bad(`from ${from} is not a kubeconfig`, 'It must be the YAML `pulumi stack output --show-secrets` prints for it.');
  }
  return checked(config, from, bad);
}

function checked(config: KubeConfig, from: string, bad: (why: string, needs: string) => { unavailable: string; needs: string }) {
  if (!config.getCurrentCluster()) return bad(`from ${from} names no current cluster`, 'Its current-context must name a cluster.');
  return { config };
}
