import type { KnownBlock } from '@slack/types';
import { AlertIntake, alertSettings } from '../../handlers/alerts';
import { OnCallService } from '../../handlers/oncall';
import { PagerService, type PagerMetrics } from '../../handlers/page';
import type { Policy, RequestMeta } from '../../handlers/policy';
import type { AlertStore, AuditLog, Clock, Heartbeats, IncidentBoard, Logger, OnCallAnnouncements, OnCallOverrides, PageNotifier, PageStore, Silencer } from '../../handlers/ports';
import type { NotificationAddress, NotificationReceipt, Page, PageNotification } from '../../handlers/model/oncall';
import type { Team } from '../../handlers/team';
import type { ActionHandler, RequestContext, VerbHandlers } from '../commands';
import { alertmanagerHook, type WebhookTokens } from '../http/alertmanagerHook';
import { calendarRoutes, personalKey } from '../http/calendarFeed';
import type { RouteHandler } from '../http/server';
import { AlertmanagerSilencer } from '../integrations/alertmanager/silences';
import { SlackAlertBoard, SlackPageNotifier } from '../integrations/slack/alertBoard';
import type { SlackOutbound } from '../integrations/slack/outbound';
import type { Metrics } from '../metrics';
import type { Job } from '../scheduler';
import { alertDoneReply } from '../slack/blocks/alerts';
import {
  calendarReply,
  handoverReply,
  oncallHomeBlocks,
  oncallNowReply,
  overrideReply,
  scheduleReply,
  swapDecidedReply,
  swapOfferReply,
  swapProposedReply,
} from '../slack/blocks/oncall';
import { pageDoneReply, pageRaisedReply } from '../slack/blocks/page';
import type { Reply } from '../slack/blocks/reply';
import { ACTIONS } from '../slack/ids';

/**
 * On-call, paging and alerts as people see them: `/cockpit oncall …` and `/cockpit page …`, the page and alert
 * buttons, the handover and heartbeat jobs, the pager's timer loop, the Alertmanager webhook and the calendar
 * feeds. The rules are in handlers/oncall.ts, page.ts and alerts.ts; Slack is reached through the outbound queue.
 */

export interface OnCallFlowDeps {
  team: Team;
  policy: Policy;
  store: {
    overrides: OnCallOverrides;
    announcements: OnCallAnnouncements;
    pages: PageStore;
    alerts: AlertStore;
    heartbeats: Heartbeats;
    audit: AuditLog;
    incidents: IncidentBoard;
  };
  clock: Clock;
  log: Logger;
  /** This replica's id: on what it claims (notifications, posts). */
  owner: string;
  /** The Slack queue, asked for when something is sent (Slack is built after the core); none: logged only. */
  outbound: () => SlackOutbound | undefined;
  /** The Slack client for user groups, when Slack is configured. */
  userGroups?: () => { update(usergroup: string, users: string[]): Promise<void> } | undefined;
  metrics?: Metrics;
  silencer?: Silencer;
  tokens: WebhookTokens;
  calendar: { secret?: string; publicUrl?: string };
  /** How often the pager loop looks for due steps; a due page goes out within about this. */
  tickMs?: number;
  /** Told when a page is acknowledged (the incidents capability records it on the incident's timeline). */
  onPageAcknowledged?(page: Page, userId: string, at: Date): Promise<void>;
}

const meta = (ctx: RequestContext): RequestMeta => ({ actor: ctx.actor, requestId: ctx.requestId });

export interface OnCallWiring {
  oncall: OnCallService;
  pager: PagerService;
  intake: AlertIntake;
  board?: SlackAlertBoard;
  verbs: VerbHandlers;
  actions: Record<string, ActionHandler>;
  jobs: Job[];
  hooks: Record<string, RouteHandler>;
  routes: Record<string, RouteHandler>;
  /** App Home's on-call section for a person. */
  home(userId: string): Promise<KnownBlock[]>;
  /** Starts the pager's timer loop (the Slack-connected process). */
  start(): void;
  stop(): Promise<void>;
  /** Resolves when nothing is left to send (tests, the benchmark). */
  idle(): Promise<void>;
}

/** Logs what it would have sent: the console and a Cockpit without Slack still page, into the log. */
class LogNotifier implements PageNotifier {
  constructor(private readonly log: Logger) {}
  async send(page: Page, to: NotificationAddress, reason: PageNotification['reason']): Promise<NotificationReceipt | undefined> {
    this.log.warn({ pageId: page.id, to, reason, summary: page.summary }, 'page notification (Slack is not configured)');
    return undefined;
  }
  async update(): Promise<void> {}
}

export function wireOnCall(deps: OnCallFlowDeps): OnCallWiring {
  const { team, clock, store } = deps;
  const log = deps.log.child({ component: 'oncall' });
  const oncall = new OnCallService({ team, overrides: store.overrides, policy: deps.policy, audit: store.audit, clock });
  const zone = oncall.settings.timezone;
  const settings = alertSettings(team);
  const channelOf = (stack: string) => settings.channels[stack] ?? team.channels.alerts;

  let board: SlackAlertBoard | undefined;
  const boardWork = new Set<Promise<void>>();
  const boardFor = (): SlackAlertBoard | undefined => {
    const outbound = deps.outbound();
    if (!outbound) return undefined;
    board ??= new SlackAlertBoard({ outbound, alerts: store.alerts, page: (id) => store.pages.get(id), clock, log, owner: deps.owner, stormGroupsPerMinute: settings.stormGroupsPerMinute, channelOf });
    return board;
  };
  let notifier: PageNotifier | undefined;
  const logNotifier = new LogNotifier(log);
  const notifierFor = (): PageNotifier => {
    const outbound = deps.outbound();
    if (!outbound) return logNotifier;
    notifier ??= new SlackPageNotifier(outbound, clock, { changedGroup: (id) => boardFor()!.changed(id) });
    return notifier;
  };
  // The notifier is looked up per call: Slack may be built after this wiring.
  const lazyNotifier: PageNotifier = {
    send: (page, to, reason) => notifierFor().send(page, to, reason),
    update: (page, receipt) => notifierFor().update(page, receipt),
    changed: async (page) => notifierFor().changed?.(page),
  };
  const pagerMetrics: PagerMetrics | undefined = deps.metrics && {
    acknowledged: (level, seconds) => deps.metrics!.pageAck.observe({ level }, seconds),
    outcome: (level, outcome) => deps.metrics!.pages.inc({ level, outcome }),
  };
  const pager = new PagerService({
    team,
    pages: store.pages,
    notifier: lazyNotifier,
    directory: oncall,
    policy: deps.policy,
    audit: store.audit,
    clock,
    log,
    metrics: pagerMetrics,
    owner: deps.owner,
    channelFor: async (source) => (source.kind === 'alert' ? (await store.alerts.get(source.ref))?.channel : undefined),
    ...(deps.onPageAcknowledged ? { onAcknowledged: deps.onPageAcknowledged } : {}),
  });
  const lazyBoard = {
    // Slack is told after the webhook answers: the alert is stored (and paged) by then, which is what must not be lost.
    changed: async (groupId: string) => {
      const b = boardFor();
      if (!b) return;
      const work = b.changed(groupId).catch((err: unknown) => log.error({ err, groupId }, 'showing an alert group failed'));
      boardWork.add(work);
      void work.finally(() => boardWork.delete(work));
    },
    notice: async (stack: string, text: string) => (boardFor() ? boardFor()!.notice(stack, text) : log.warn({ stack, text }, 'alert notice (Slack is not configured)')),
  };
  const intake = new AlertIntake({
    team,
    store: store.alerts,
    heartbeats: store.heartbeats,
    board: lazyBoard,
    pager,
    directory: oncall,
    silencer: deps.silencer ?? new AlertmanagerSilencer(),
    policy: deps.policy,
    audit: store.audit,
    clock,
    log,
    countReceived: (status, n) => {
      if (n > 0) deps.metrics?.alertsReceived.inc({ status }, n);
    },
  });

  /** A change from a button goes out now rather than at the next tick. */
  const deliverSoon = () => void pager.deliver().catch((err: unknown) => log.warn({ err }, 'delivering page notifications failed'));
  const dm = (userId: string, reply: Reply) =>
    deps.outbound()?.post(userId, reply, 'page').catch((err: unknown) => log.warn({ err, userId }, 'a direct message failed'));

  const verbs: VerbHandlers = {
    oncall: async (req, ctx) => {
      switch (req.action) {
        case 'who':
          return oncallNowReply(await oncall.now(), zone);
        case 'schedule':
          return scheduleReply(await oncall.schedule(req.days), req.days, zone);
        case 'override': {
          const result = await oncall.override({ takerId: req.userId, minutes: req.minutes, ...(req.level ? { level: req.level } : {}) }, meta(ctx));
          const o = result.override;
          for (const userId of new Set([o.userId, o.replaces].filter((u): u is string => u !== undefined && u !== ctx.actor.id))) {
            void dm(userId, { ...overrideReply(result, zone), visibility: 'in_channel', text: `On-call change at ${o.level}` });
          }
          return overrideReply(result, zone);
        }
        case 'swap': {
          const swap = await oncall.proposeSwap({ counterpart: req.userId, shift: req.shift }, meta(ctx));
          void dm(swap.counterpart, swapOfferReply(swap, zone));
          return swapProposedReply(swap, zone);
        }
        case 'calendar': {
          const base = (deps.calendar.publicUrl ?? '').replace(/\/$/, '');
          const level = Object.fromEntries(oncall.levels().map((l) => [l, `${base}/oncall/${l}.ics`]));
          return calendarReply({ level, ...(deps.calendar.secret ? { personal: `${base}/oncall/person.ics?key=${personalKey(deps.calendar.secret, ctx.actor.id)}` } : {}) });
        }
      }
    },
    page: async (req, ctx) => {
      const { page, created } = await pager.pageByPerson({ target: req.target, summary: req.message, ...(ctx.channelId && ctx.front === 'slack' ? { channel: ctx.channelId } : {}) }, meta(ctx));
      deliverSoon();
      return pageRaisedReply(page, created);
    },
  };

  const actions: Record<string, ActionHandler> = {
    [ACTIONS.pageAcknowledge]: async (id, ctx) => {
      const { page, already } = await pager.acknowledge(id, meta(ctx));
      deliverSoon();
      return pageDoneReply(page, 'acknowledged', already, clock.now());
    },
    [ACTIONS.pageEscalate]: async (id, ctx) => {
      const page = await pager.escalate(id, meta(ctx));
      deliverSoon();
      return pageDoneReply(page, 'escalated', false, clock.now());
    },
    [ACTIONS.pageResolve]: async (id, ctx) => {
      const { page, already } = await pager.resolve(id, meta(ctx));
      deliverSoon();
      return pageDoneReply(page, 'resolved', already, clock.now());
    },
    [ACTIONS.alertAcknowledge]: async (id, ctx) => {
      const { group, already } = await intake.acknowledge(id, meta(ctx));
      deliverSoon();
      return alertDoneReply(group, 'acknowledged', already);
    },
    [ACTIONS.alertSilence]: async (id, ctx) => alertDoneReply(await intake.silence(id, meta(ctx)), 'silenced', false),
    [ACTIONS.oncallSwapAccept]: async (id, ctx) => {
      const { swap, shifts } = await oncall.acceptSwap(id, meta(ctx));
      void dm(swap.proposedBy, swapDecidedReply(swap, zone, shifts));
      return swapDecidedReply(swap, zone, shifts);
    },
    [ACTIONS.oncallSwapDecline]: async (id, ctx) => {
      const swap = await oncall.declineSwap(id, meta(ctx));
      if (ctx.actor.id !== swap.proposedBy) void dm(swap.proposedBy, swapDecidedReply(swap, zone));
      return swapDecidedReply(swap, zone);
    },
  };

  /** At each change of who is on call: the handover message, and the level's Slack user group kept in step. */
  async function handovers(requestId: string): Promise<void> {
    const now = clock.now();
    for (const level of oncall.levels()) {
      const current = await oncall.onCall(level, now);
      const last = await store.announcements.last(level);
      if (last && sameSet(last, current)) continue;
      if (!(await store.announcements.announce(level, last, current, now))) continue;
      const rotation = oncall.rotation(level);
      if (rotation.userGroup && current.length > 0) {
        await deps
          .userGroups?.()
          ?.update(rotation.userGroup, current)
          .catch((err: unknown) => log.warn({ err, level, usergroup: rotation.userGroup }, 'could not update the on-call user group'));
      }
      // The first announcement after a deploy is who is on call already, not a change.
      if (!last) continue;
      const [pages, incidents, shifts] = await Promise.all([pager.open(), store.incidents.open(), oncall.shifts(level, now, new Date(now.getTime() + 35 * 86_400_000))]);
      const reply = handoverReply({ level, from: last, to: current, until: shifts[0]?.to }, pages, incidents, zone);
      log.info({ level, from: last, to: current, requestId }, 'on-call handover');
      await deps.outbound()?.post(oncall.settings.channel, reply, 'page').catch((err: unknown) => log.warn({ err, level }, 'posting the handover failed'));
    }
  }

  const jobs: Job[] = [];
  if (oncall.levels().length > 0) jobs.push({ name: 'oncall.handover', schedule: '* * * * *', run: (run) => handovers(run.requestId) });
  jobs.push({ name: 'alerts.heartbeats', schedule: '* * * * *', run: async (run) => void (await intake.checkHeartbeats(run.requestId)) });

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  const tickMs = deps.tickMs ?? 500;
  const loop = () => {
    timer = setTimeout(() => {
      running = pager
        .tick()
        .catch((err: unknown) => log.error({ err }, 'pager tick failed'))
        .finally(() => {
          running = undefined;
          if (timer) loop();
        });
    }, tickMs);
    timer.unref();
  };

  return {
    oncall,
    pager,
    intake,
    get board() {
      return boardFor();
    },
    verbs,
    actions,
    jobs,
    hooks: { '/hooks/alertmanager': alertmanagerHook({ tokens: deps.tokens, stacks: Object.keys(team.stacks), intake, log }) },
    routes: calendarRoutes({ oncall, team, clock, secret: deps.calendar.secret }),
    async home(userId) {
      const now = clock.now();
      const [levels, mine, pages] = await Promise.all([oncall.now(1), oncall.shiftsOf(userId, now, new Date(now.getTime() + 30 * 86_400_000)), pager.open()]);
      return oncallHomeBlocks({ levels, mine, pages, zone, now });
    },
    start() {
      if (!timer) loop();
    },
    async stop() {
      const t = timer;
      timer = undefined;
      if (t) clearTimeout(t);
      await running;
    },
    async idle() {
      while (boardWork.size > 0) await Promise.all([...boardWork]);
      await pager.deliver();
      await boardFor()?.idle();
    },
  };
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
