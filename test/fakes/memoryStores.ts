import type {
  DeployPlan,
  DeployPlanStatus,
  DeployPlans,
  DrillHistory,
  DrillRecord,
  IncidentBoard,
  IncidentSummary,
} from '../../handlers/ports';

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
  readonly drills: DrillRecord[] = [];
  async latest(stack: string) {
    return this.newest(stack, () => true);
  }
  async latestPassed(stack: string) {
    return this.newest(stack, (d) => d.outcome === 'passed');
  }
  async record(drill: DrillRecord) {
    this.drills.push(structuredClone(drill));
  }
  private newest(stack: string, keep: (d: DrillRecord) => boolean) {
    return this.drills.filter((d) => d.stack === stack && keep(d)).sort((a, b) => b.finishedAt.getTime() - a.finishedAt.getTime())[0];
  }
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
