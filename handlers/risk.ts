import type { RiskAssessment } from './model/deploys';
import type { DrillRecord } from './model/drills';
import type { IncidentSummary } from './model/incidents';
import type { PreviewResult, ResourceChange } from './model/infra';
import { isFreezing } from './policy';

/** What a stack would do with some code: a preview and its measured risk, or why there is none. */
export type Measurement = { preview: PreviewResult; risk: RiskAssessment } | { unavailable: string };

/**
 * The measurement shown before a deploy. Risk is fine; unmeasured risk is not: the report says what would be
 * destroyed, how long ago a restore was last proven, and what is already on fire.
 */

/** Resource types whose replacement or deletion loses data, an environment or a cluster. */
const STATEFUL_TYPE_PATTERNS: RegExp[] = [
  /:PersistentVolumeClaim$/,
  /:PersistentVolume$/,
  /:StatefulSet$/,
  /:Namespace$/,
  /kubernetes:helm\.sh\/v3:Release$/, // a chart may own databases (Elasticsearch, Prometheus storage)
  /Cluster$/i, // KubernetesCluster, managed clusters of any provider
  /NodePool$/i,
  /(Database|DatabaseCluster|DbInstance|Rds|CloudSql|Postgres|Mysql|Redis)/i,
  /(Bucket|SpacesBucket|Volume$|Snapshot$)/i,
  /velero/i, // backup locations and schedules: losing them loses the way back
];

export const DESTRUCTIVE_OPS: ReadonlySet<ResourceChange['op']> = new Set(['replace', 'delete', 'delete-replaced', 'create-replacement', 'discard-replaced']);

export function isStateful(change: ResourceChange): boolean {
  return DESTRUCTIVE_OPS.has(change.op) && STATEFUL_TYPE_PATTERNS.some((re) => re.test(change.type));
}

/** A restore proven within this many days is "recent"; older is a reason to be careful. */
export const DRILL_FRESH_DAYS = 7;
export const DRILL_STALE_DAYS = 30;

export interface RiskInputs {
  preview: PreviewResult;
  lastDrill?: DrillRecord;
  lastPassedDrill?: DrillRecord;
  openIncidents: IncidentSummary[];
  now: Date;
}

export function assessRisk(inputs: RiskInputs): RiskAssessment {
  const { preview, lastDrill, lastPassedDrill, openIncidents, now } = inputs;
  const stateful = preview.changes.filter(isStateful);
  const frozen = openIncidents.some(isFreezing);
  const reasons: string[] = [];
  let level: RiskAssessment['level'] = 'low';
  const raise = (to: RiskAssessment['level'], reason: string) => {
    reasons.push(reason);
    if (to === 'high' || (to === 'elevated' && level === 'low')) level = to;
  };

  if (stateful.length > 0) raise('high', `${stateful.length} stateful resource(s) would be replaced or deleted`);
  const deletes = preview.counts.delete;
  if (deletes > 0 && stateful.length === 0) raise('elevated', `${deletes} resource(s) would be deleted`);
  if (preview.counts.replace > 0 && stateful.length === 0) raise('elevated', `${preview.counts.replace} resource(s) would be replaced`);

  const daysSince = (d: DrillRecord) => (now.getTime() - d.finishedAt.getTime()) / 86_400_000;
  if (!lastPassedDrill) {
    raise(stateful.length > 0 ? 'high' : 'elevated', 'no restore drill has ever passed on this stack');
  } else if (daysSince(lastPassedDrill) > DRILL_STALE_DAYS) {
    raise(stateful.length > 0 ? 'high' : 'elevated', `last good restore ${Math.floor(daysSince(lastPassedDrill))} days ago`);
  } else if (daysSince(lastPassedDrill) > DRILL_FRESH_DAYS) {
    raise('elevated', `last good restore ${Math.floor(daysSince(lastPassedDrill))} days ago`);
  }
  if (lastDrill && lastDrill.outcome === 'failed') raise('elevated', 'the last restore drill failed');

  if (frozen) raise('high', 'a SEV1/SEV2 incident is open on this stack: deploys are frozen');
  else if (openIncidents.length > 0) raise('elevated', `${openIncidents.length} incident(s) open on this stack`);

  return { stateful, lastDrill, lastPassedDrill, openIncidents, frozen, level, reasons };
}
