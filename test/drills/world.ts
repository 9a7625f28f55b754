import { Drills, type DrillDeps } from '../../handlers/drill';
import { Policy } from '../../handlers/policy';
import type { DrillClusters } from '../../handlers/ports';
import type { Actor } from '../../handlers/model/identity';
import type { KubeconfigSource, Team } from '../../handlers/team';
import { fromConfig as kubernetesFromConfig } from '../../bot/integrations/kubernetes';
import { openStore, type Store } from '../../bot/store/connect';
import { drillGrants } from '../fakes/drillGrants';
import { DEFAULT_SCENARIO, FakeKubernetes, writeKubeconfig, type Grants, type ProductSeed, type Scenario } from '../fakes/kubernetes';
import { exampleTeam, manualClock } from '../helpers';

/** The product as the fake cluster holds it: a database StatefulSet with its volume, two Deployments, an Ingress. */
export const SHOP: ProductSeed = {
  namespace: 'shop',
  deployments: [
    { name: 'api', replicas: 2 },
    { name: 'storefront', replicas: 2 },
  ],
  statefulSets: [{ name: 'postgres', replicas: 1 }],
  ingresses: ['storefront'],
  datastore: { counts: { orders: 1204, customers: 311 }, checksums: { catalog: 'c0ffee42' } },
};

/** Coarser than production's 5 s: the fake's phases last tens of seconds, and every poll is a request. */
export const POLL_MS = 20_000;

export const ALICE: Actor = { id: 'U0ALICE001', name: 'Alice', via: 'slack' };
export const meta = (requestId: string, actor: Actor = ALICE) => ({ requestId, actor });

/** The example team with every drill stack's kubeconfig pointed at `source`. */
export function drillTeam(source: KubeconfigSource, base: Team = exampleTeam()): Team {
  const drills = base.drills!;
  return { ...base, drills: { ...drills, stacks: Object.fromEntries(Object.entries(drills.stacks).map(([k, v]) => [k, { ...v, kubeconfig: source }])) } };
}

export interface DrillWorld {
  clock: ReturnType<typeof manualClock>;
  kube: FakeKubernetes;
  store: Store;
  team: Team;
  policy: Policy;
  clusters: DrillClusters;
  drills: Drills;
  scenario(patch: Partial<Scenario>): void;
  close(): Promise<void>;
}

/**
 * A drill against the fake cluster through the real adapter and a kubeconfig file, on an in-memory store. The
 * drill's waits move the test's clock, which drives the fake's controllers: a drill of hours takes milliseconds.
 */
export async function drillWorld(options: { grants?: Grants | false; deps?: Partial<DrillDeps>; team?: (team: Team) => Team } = {}): Promise<DrillWorld> {
  const clock = manualClock('2026-11-25T12:00:00Z');
  const kube = await FakeKubernetes.start({ now: clock.now, products: [SHOP], ...(options.grants === false ? {} : { grants: options.grants ?? drillGrants() }) });
  const file = writeKubeconfig(kube.kubeconfig());
  const team = (options.team ?? ((t) => t))(drillTeam({ kind: 'file', path: file.path }));
  const store = await openStore({ kind: 'sqlite', file: ':memory:' }, { clock });
  const policy = new Policy({ team, plans: store.plans, incidents: store.incidents, audit: store.audit, clock });
  const sleep = async (ms: number) => clock.advance(ms);
  const clusters = kubernetesFromConfig(team, { sleep });
  const drills = new Drills({ team, policy, clusters, history: store.drills, locks: store.locks, audit: store.audit, clock, sleep, owner: 'replica-test', timing: { pollMs: POLL_MS }, ...options.deps });
  return {
    clock,
    kube,
    store,
    team,
    policy,
    clusters,
    drills,
    scenario: (patch) => (kube.scenario = { ...DEFAULT_SCENARIO, ...patch }),
    async close() {
      await store.close();
      await kube.close();
      file.remove();
    },
  };
}
