import { DRILL_CLUSTER_RULES, DRILL_VELERO_RULES } from '../../infra/components/cockpitBot';
import type { Grants } from './kubernetes';

/**
 * What infra grants Cockpit's service account for drills beyond `view`, as the fake cluster enforces it: the drill
 * suites run with exactly these rules (and test/infra/drillRbac.test.ts checks the program deploys them), so a
 * new call in the adapter cannot pass here and be forbidden on a real cluster.
 */
export function drillGrants(veleroNamespace = 'velero'): Grants {
  return { cluster: DRILL_CLUSTER_RULES, namespaced: { [veleroNamespace]: DRILL_VELERO_RULES } };
}
