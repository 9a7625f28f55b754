import type { Clock, DrillHistory, Environments, HealthProbe, InfraEngine, StackLocks, StoreProbe } from './ports';
import type { Environment } from './model/environments';
import type { ServiceHealth, StoreHealth } from './model/health';
import type { EngineAvailability } from './model/infra';
import type { StackLock } from './model/stacks';
import type { Team } from './team';

/** The state of Cockpit at a glance: what `/cockpit status` answers. */
export interface StatusReport {
  version: string;
  stacks: Array<{
    name: string;
    branch: string;
    ephemeral: boolean;
    lock?: StackLock & { ageMs: number };
    /** Up or down, and until when, for stacks Cockpit brings up and tears down (ephemeral, scheduled). */
    environment?: Environment;
    /** When a restore drill last proved the stack's data comes back; null: never. Absent: drills not read. */
    lastVerifiedRestore?: Date | null;
  }>;
  store: StoreHealth;
  /** Whether deploys can run here (the Pulumi CLI); shown, never fatal. */
  engine: EngineAvailability;
  /** The services Cockpit talks to (Slack, GitHub), each up or down with what was seen. */
  services: Array<{ name: string; health: ServiceHealth }>;
  generatedAt: Date;
}

export interface StatusDeps {
  team: Team;
  locks: StackLocks;
  store: StoreProbe;
  engine: InfraEngine;
  environments: Environments;
  clock: Clock;
  version: string;
  /** Probes of the services Cockpit talks to, by the name a person knows them by; each bounds its own wait. */
  services?: Record<string, HealthProbe>;
  /** Restore drills: each stack shows the time since its last verified restore. */
  drills?: DrillHistory;
}

export async function getStatus(deps: StatusDeps): Promise<StatusReport> {
  const now = deps.clock.now();
  const probes = Object.entries(deps.services ?? {});
  const [store, engine, locks, environments, services] = await Promise.all([
    deps.store.health(),
    deps.engine.availability(),
    // A store that is down must not hide the rest of the report: its health already says why.
    deps.locks.list().catch(() => [] as StackLock[]),
    deps.environments.list().catch(() => [] as Environment[]),
    Promise.all(probes.map(async ([name, probe]) => ({ name, health: await probe.check() }))),
  ]);
  const drills = deps.drills;
  const verified = drills ? await Promise.all(Object.keys(deps.team.stacks).map((name) => drills.latestPassed(name).then((d) => d?.finishedAt ?? null, () => undefined))) : [];
  const byStack = new Map(locks.map((l) => [l.stack, l]));
  const envByStack = new Map(environments.map((e) => [e.stack, e]));
  return {
    version: deps.version,
    stacks: Object.entries(deps.team.stacks).map(([name, s], i) => {
      const lock = byStack.get(name);
      const restore = verified[i];
      return {
        name,
        branch: s.branch,
        ephemeral: s.ephemeral,
        lock: lock && { ...lock, ageMs: now.getTime() - lock.acquiredAt.getTime() },
        environment: envByStack.get(name),
        ...(restore !== undefined ? { lastVerifiedRestore: restore } : {}),
      };
    }),
    store,
    engine,
    services,
    generatedAt: now,
  };
}
