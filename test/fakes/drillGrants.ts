import type { Grants } from './kubernetes';

/**
 * What a restore drill needs beyond the read-only `view` ClusterRole, as the fake cluster enforces it: the drill
 * suites run with exactly these grants, and test/infra/drillRbac.test.ts checks that infra grants Cockpit's
 * service account exactly these, so a new call in the adapter cannot pass here and fail on a real cluster.
 */
export const DRILL_CLUSTER_RULES = [
  // Scratch namespaces (drill-<id>-<ns>); infra's admission policy narrows both to those.
  { apiGroups: [''], resources: ['namespaces'], verbs: ['create', 'delete'] },
  // The marker Jobs, in the product's namespaces and the scratch ones (the admission policy again).
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create'] },
];

export const DRILL_VELERO_RULES = [
  { apiGroups: ['velero.io'], resources: ['backups', 'restores'], verbs: ['get', 'list', 'watch', 'create'] },
  { apiGroups: ['velero.io'], resources: ['schedules', 'backupstoragelocations', 'podvolumerestores'], verbs: ['get', 'list', 'watch'] },
  // `velero restore logs`: Velero answers a DownloadRequest with a pre-signed URL.
  { apiGroups: ['velero.io'], resources: ['downloadrequests'], verbs: ['get', 'create'] },
];

export function drillGrants(veleroNamespace = 'velero'): Grants {
  return { cluster: DRILL_CLUSTER_RULES, namespaced: { [veleroNamespace]: DRILL_VELERO_RULES } };
}
