import type { DeployPlans, DrillHistory, IncidentBoard } from '../../handlers/ports';
import type { DeployPlan, DeployPlanStatus } from '../../handlers/model/deploys';
import type { DrillMarker, DrillRecord, DrillRun } from '../../handlers/model/drills';
import type { IncidentSummary } from '../../handlers/model/incidents';

/** In-memory DeployPlans for handler tests; the SQL one is tested against the same behaviour in test/store. */
export class MemoryDeployPlans implements DeployPlans {
  readonly plans = new Map<string, DeployPlan>();
  constructor(private readonly now: () => Date = () => new Date()) {}

  async create(plan: Omit<DeployPlan, 'updatedAt'>): Promise<DeployPlan> {
    if (this.plans.has(plan.id)) throw new Error(`plan ${plan.id} exists`);
    const stored = structuredClone({ ...plan, updatedAt: plan.createdAt });
    this.plans.set(plan.id, stored);
    return structuredClone(stored);
  }
  async get(id: string) {
    const p = this.plans.get(id);
    return p && structuredClone(p);
  }
  async transition(id: string, from: readonly DeployPlanStatus[], to: DeployPlanStatus, patch: Partial<DeployPlan> = {}) {
    const p = this.plans.get(id);
    if (!p || !from.includes(p.status)) return undefined;
    Object.assign(p, structuredClone(patch), { status: to, updatedAt: this.now() });
    return structuredClone(p);
  }
  async setMessage(id: string, message: { channel: string; ts: string }) {
    const p = this.plans.get(id);
    if (p) p.message = { ...message };
  }
  async byStack(stack: string, statuses: readonly DeployPlanStatus[], limit = 100) {
    return [...this.plans.values()]
      .filter((p) => p.stack === stack && statuses.includes(p.status))
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
      .slice(0, limit)
      .map((p) => structuredClone(p));
  }
  async finishedSince(stack: string, since: Date) {
    return this.ofStack(stack).filter((p) => p.status !== 'running' && p.result !== undefined && p.updatedAt >= since);
  }
  async lastRun(stack: string) {
    return this.ofStack(stack).find((p) => p.status === 'running' || p.result !== undefined);
  }
  async purge(before: Date) {
    let purged = 0;
    for (const [id, p] of this.plans) {
      if (!['awaiting_confirmation', 'awaiting_approval', 'running'].includes(p.status) && p.updatedAt < before) {
        this.plans.delete(id);
        purged++;
      }
    }
    return purged;
  }
  /** Newest change first, as the SQL store orders them. */
  private ofStack(stack: string): DeployPlan[] {
    return [...this.plans.values()]
      .filter((p) => p.stack === stack)
      .sort((a, b) => b.updatedAt.getTime() - a.updatedAt.getTime())
      .map((p) => structuredClone(p));
  }
}

export class MemoryDrillHistory implements DrillHistory {
  readonly drills: Array<DrillRecord | DrillRun> = [];
  readonly markers: DrillMarker[] = [];
  async latest(stack: string) {
    return this.newest(stack, () => true);
  }
  async latestPassed(stack: string) {
    return this.newest(stack, (d) => d.outcome === 'passed');
  }
  async record(drill: DrillRecord | DrillRun) {
    this.drills.push(structuredClone(drill));
  }
  async recordMarker(marker: DrillMarker) {
    if (!this.markers.some((m) => m.requestId === marker.requestId)) this.markers.push(structuredClone(marker));
  }
  async list(query: { stack?: string; limit?: number } = {}) {
    return this.sorted()
      .filter((d) => query.stack === undefined || d.stack === query.stack)
      .slice(0, query.limit ?? 20)
      .map(asRun);
  }
  async get(requestId: string) {
    const drill = this.drills.find((d) => d.requestId === requestId);
    return drill && asRun(structuredClone(drill));
  }
  async markerBefore(stack: string, before: Date) {
    return this.markers.filter((m) => m.stack === stack && m.plantedAt < before).sort((a, b) => b.plantedAt.getTime() - a.plantedAt.getTime())[0];
  }
  private sorted() {
    return [...this.drills].sort((a, b) => b.finishedAt.getTime() - a.finishedAt.getTime());
  }
  private newest(stack: string, keep: (d: DrillRecord) => boolean): DrillRecord | undefined {
    const found = this.sorted().find((d) => d.stack === stack && keep(d));
    if (!found) return undefined;
    const { stack: s, requestId, startedAt, finishedAt, outcome, rtoSeconds, rpoSeconds, trigger, reason } = found;
    return JSON.parse(JSON.stringify({ stack: s, requestId, startedAt, finishedAt, outcome, rtoSeconds, rpoSeconds, trigger, reason }), (k, v) => (k === 'startedAt' || k === 'finishedAt' ? new Date(v) : v));
  }
}

function asRun(drill: DrillRecord | DrillRun): DrillRun {
  return 'steps' in drill ? drill : { ...drill, cluster: drill.stack, steps: [], warnings: [], logs: { jobs: [] }, leftBehind: [] };
}

export class MemoryIncidentBoard implements IncidentBoard {
  readonly incidents: IncidentSummary[] = [];
  add(incident: Omit<IncidentSummary, 'id' | 'openedAt' | 'status'> & Partial<IncidentSummary>): IncidentSummary {
    const full = { id: this.incidents.length + 1, status: 'investigating', openedAt: new Date(), ...incident };
    this.incidents.push(full);
    return full;
  }
  async open(stack?: string) {
    return this.incidents
      .filter((i) => !['resolved', 'closed'].includes(i.status) && (stack === undefined || i.stacks.includes(stack)))
      .sort((a, b) => b.openedAt.getTime() - a.openedAt.getTime());
  }
}
