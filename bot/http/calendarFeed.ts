import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import ical from 'ical-generator';
import type { OnCallService } from '../../handlers/oncall';
import type { Clock } from '../../handlers/ports';
import type { OnCallLevel } from '../../handlers/model/oncall';
import { ONCALL_LEVELS, type Shift } from '../../handlers/rotation';
import { displayName, type Team } from '../../handlers/team';
import { sendJson, type RouteHandler } from './server';

/**
 * iCalendar feeds of the schedule, so people see their shifts beside their meetings: one per level
 * (`GET /oncall/L1.ics`) and one per person at a secret URL (`GET /oncall/person.ics?key=<id>.<mac>`), the key an
 * HMAC of the person's id under ONCALL_CALENDAR_SECRET: changing the secret revokes every personal URL at once.
 */

const PAST_MS = 14 * 86_400_000;
const AHEAD_MS = 90 * 86_400_000;

export interface CalendarDeps {
  oncall: OnCallService;
  team: Team;
  clock: Clock;
  /** Unset: personal feeds are off (404). */
  secret?: string;
}

export function personalKey(secret: string, userId: string): string {
  return `${userId}.${createHmac('sha256', secret).update(`oncall-calendar:${userId}`).digest('base64url').slice(0, 32)}`;
}

/** The person a key belongs to, when it is the key the secret gives them. */
export function personOfKey(secret: string, key: string): string | undefined {
  const userId = key.split('.', 1)[0] ?? '';
  if (!/^[UW][A-Z0-9]{2,}$/.test(userId)) return undefined;
  const expected = Buffer.from(personalKey(secret, userId));
  const given = Buffer.from(key);
  return expected.length === given.length && timingSafeEqual(expected, given) ? userId : undefined;
}

function feed(name: string, shifts: Shift[], team: Team, zone: string): string {
  const calendar = ical({ name, timezone: zone, ttl: 3600 });
  for (const s of shifts) {
    if (!s.userId) continue;
    calendar.createEvent({
      // Stable across fetches, so calendar apps update a shift rather than duplicate it.
      id: `${s.level}-${s.from.getTime()}-${s.userId}@cockpit`,
      start: s.from,
      end: s.to,
      summary: `On call ${s.level}: ${displayName(team, s.userId)}${s.source === 'override' ? ' (override)' : ''}`,
      description: 'From Cockpit: /cockpit oncall schedule',
    });
  }
  return calendar.toString();
}

function send(res: ServerResponse, body: string): void {
  res.writeHead(200, { 'content-type': 'text/calendar; charset=utf-8', 'cache-control': 'private, max-age=300' }).end(body);
}

/** The routes to mount: `GET /oncall/<level>.ics` and `GET /oncall/person.ics`. */
export function calendarRoutes(deps: CalendarDeps): Record<string, RouteHandler> {
  const window = () => {
    const now = deps.clock.now().getTime();
    return { from: new Date(now - PAST_MS), to: new Date(now + AHEAD_MS) };
  };
  const zone = deps.oncall.settings.timezone;
  const routes: Record<string, RouteHandler> = {};
  for (const level of ONCALL_LEVELS) {
    routes[`GET /oncall/${level}.ics`] = async (_req, res) => {
      const { from, to } = window();
      send(res, feed(`On call ${level}`, await deps.oncall.shifts(level as OnCallLevel, from, to), deps.team, zone));
    };
  }
  routes['GET /oncall/person.ics'] = async (req: IncomingMessage, res) => {
    const key = new URL(req.url ?? '/', 'http://cockpit').searchParams.get('key') ?? '';
    const userId = deps.secret ? personOfKey(deps.secret, key) : undefined;
    if (!userId) {
      sendJson(res, 404, { error: 'not found' });
      return;
    }
    const { from, to } = window();
    send(res, feed(`On call: ${displayName(deps.team, userId)}`, await deps.oncall.shiftsOf(userId, from, to), deps.team, zone));
  };
  return routes;
}
