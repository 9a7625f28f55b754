import type { ActionsBlock, Button, KnownBlock } from '@slack/types';
import { parse } from 'node-cron';
import type { Availability } from '../../../handlers/availability';
import { InputError } from '../../../handlers/errors';
import type { Environment } from '../../../handlers/model/environments';
import type { UpdateResult } from '../../../handlers/model/infra';
import {
  alreadyKeptReply,
  alreadyUpReply,
  broughtUpReply,
  confirmDownReply,
  downButtonValue,
  parseDownButtonValue,
  keepButtonValue,
  keptReply,
  parseKeepButtonValue,
  scheduleAdoptedReply,
  tearDownErrorReply,
  tornDownReply,
  warningReply,
  whenText,
} from '../../../bot/slack/blocks/environments';
import { BLOCKS_LIMIT, SECTION_TEXT_LIMIT, type Reply } from '../../../bot/slack/blocks/reply';
import { ACTIONS } from '../../../bot/slack/ids';

const now = new Date('2026-05-18T14:00:00Z');
const dev: Environment = { stack: 'dev', state: 'up', expiresAt: new Date('2026-05-18T18:00:00Z'), upBy: 'U0ALICE001', updatedAt: now };
const ok: UpdateResult = { outcome: 'succeeded', durationMs: 185_000, counts: { create: 12, update: 0, replace: 0, delete: 0, same: 0 }, outputs: { url: { value: 'https://dev.example.org', secret: false }, token: { value: '[secret]', secret: true } }, logTail: [], revision: '0123456789abcdef' };
const cron = (expression: string) => {
  const { minute, hour, dayOfMonth, month, dayOfWeek } = parse(expression);
  return { expression, fields: { minute, hour, dayOfMonth, month, dayOfWeek } };
};
const staging: Availability = { timezone: 'Europe/Paris', up: cron('0 7 * * 1,3'), down: cron('0 20 * * 1,3'), remindBeforeMinutes: 30 };

const text = (reply: Reply) => JSON.stringify(reply.blocks);
const buttons = (blocks: KnownBlock[]) => blocks.filter((b): b is ActionsBlock => b.type === 'actions').flatMap((b) => b.elements as Button[]);

function assertWithinSlackLimits(reply: Reply): void {
  expect(reply.blocks.length).toBeLessThanOrEqual(BLOCKS_LIMIT);
  expect(reply.text.length).toBeGreaterThan(0);
  for (const block of reply.blocks) if (block.type === 'section' && block.text) expect(block.text.text.length).toBeLessThanOrEqual(SECTION_TEXT_LIMIT);
}

describe('times', () => {
  test('in UTC within the day, with the date beyond it, in a schedule zone when there is one', () => {
    expect(whenText(new Date('2026-05-18T18:00:00Z'), now)).toBe('18:00 UTC (in 4h)');
    expect(whenText(new Date('2026-05-21T09:30:00Z'), now)).toBe('Thu 21 May 09:30 UTC (in 2d 19h)');
    expect(whenText(new Date('2026-05-18T18:00:00Z'), now, 'Europe/Paris')).toBe('Mon 20:00 Europe/Paris (in 4h)');
    expect(whenText(new Date('2026-05-18T13:00:00Z'), now)).toBe('13:00 UTC');
  });
});

describe('the warning and its Keep button', () => {
  test('an ephemeral stack gets Keep, carrying the stack and the warned tear-down', () => {
    const reply = warningReply({ kind: 'warning', environment: { ...dev, warnedAt: now }, tearDownAt: dev.expiresAt!, stackKind: 'ephemeral' }, new Date('2026-05-18T17:30:00Z'), 120);
    expect(reply.visibility).toBe('in_channel');
    expect(reply.text).toBe('dev is torn down at 18:00 UTC (in 30m)');
    expect(text(reply)).toContain('Brought up by <@U0ALICE001>');
    const [keep] = buttons(reply.blocks);
    expect(keep).toMatchObject({ action_id: ACTIONS.environmentKeep, style: 'primary', text: { text: 'Keep 2h more' } });
    expect(parseKeepButtonValue(keep!.value!)).toEqual({ stack: 'dev', expiresAt: dev.expiresAt });
    assertWithinSlackLimits(reply);
  });

  test('the button value survives the round trip, and a forged or stale one is refused plainly', () => {
    const value = keepButtonValue('integration', new Date('2026-05-18T18:00:00.000Z'));
    expect(parseKeepButtonValue(value)).toEqual({ stack: 'integration', expiresAt: new Date('2026-05-18T18:00:00.000Z') });
    for (const bad of ['dev', '{"stack":"dev"}', '{"stack":3,"expiresAt":"2026-05-18T18:00:00Z"}', '{"stack":"dev","expiresAt":"soon"}', '']) {
      expect(() => parseKeepButtonValue(bad)).toThrow(InputError);
    }
  });

  test('staging gets a reminder in its own zone, with its next up time and no button', () => {
    const reply = warningReply(
      { kind: 'warning', environment: { ...dev, stack: 'staging', upBy: 'schedule' }, tearDownAt: new Date('2026-05-18T18:00:00Z'), stackKind: 'scheduled', nextUp: new Date('2026-05-20T05:00:00Z') },
      new Date('2026-05-18T17:30:00Z'),
      120,
      staging,
    );
    expect(reply.text).toBe('staging goes down at Mon 20:00 Europe/Paris (in 30m)');
    expect(text(reply)).toContain('Back up at Wed 07:00 Europe/Paris (in 1d 11h)');
    expect(text(reply)).toContain('up `0 7 * * 1,3`, down `0 20 * * 1,3` (Europe/Paris)');
    expect(buttons(reply.blocks)).toEqual([]);
  });

  test('Keep pressed: the channel sees who kept it until when; a second press only tells the presser', () => {
    const kept = keptReply({ ...dev, expiresAt: new Date('2026-05-18T20:00:00Z') }, 'U0BOB00001', new Date('2026-05-18T17:35:00Z'));
    expect(kept).toMatchObject({ visibility: 'in_channel', text: 'dev kept until 20:00 UTC (in 2h 25m)' });
    expect(text(kept)).toContain('<@U0BOB00001> kept *dev* up until');
    expect(alreadyKeptReply(dev, now).visibility).toBe('ephemeral');
  });
});

describe('up and down', () => {
  test('brought up: until when, by whom, what it made, secrets hidden', () => {
    const reply = broughtUpReply(dev, ok, now, 'r-abc');
    expect(reply.text).toBe('dev is up until 18:00 UTC (in 4h)');
    const all = text(reply);
    expect(all).toContain('12 created');
    expect(all).toContain('https://dev.example.org');
    expect(all).toContain('_[secret]_');
    expect(all).toContain('`/cockpit up dev --ttl 8h`');
    expect(all).toContain('r-abc');
    assertWithinSlackLimits(reply);
  });

  test('a failed bring-up says what is left and how to clean it now, with the last log lines', () => {
    const failed: UpdateResult = { ...ok, outcome: 'failed', error: 'quota exceeded', logTail: ['x'.repeat(5000)] };
    const reply = broughtUpReply(dev, failed, now, 'r-abc');
    expect(reply.text).toBe('dev did not come up');
    expect(text(reply)).toContain('torn down at 18:00 UTC (in 4h), or now with `/cockpit down dev`');
    assertWithinSlackLimits(reply);
  });

  test('already up: the asker alone learns it, unless the time grew', () => {
    expect(alreadyUpReply(dev, false, now).visibility).toBe('ephemeral');
    expect(alreadyUpReply(dev, true, now)).toMatchObject({ visibility: 'in_channel', text: 'dev now stays up until 18:00 UTC (in 4h)' });
  });

  test('down asks first, with a danger button, what the destroy preview deletes (data first), and until when', () => {
    const confirmation = { stack: 'dev', askedBy: 'U0BOB00001', expiresAt: new Date(now.getTime() + 10 * 60_000) };
    const preview = {
      counts: { create: 0, update: 0, replace: 0, delete: 3, same: 0 },
      changes: [
        { op: 'delete' as const, type: 'kubernetes:apps/v1:Deployment', name: 'web', urn: 'urn:web' },
        { op: 'delete' as const, type: 'kubernetes:core/v1:PersistentVolumeClaim', name: 'pg-data', urn: 'urn:pvc' },
        { op: 'delete' as const, type: 'kubernetes:core/v1:Service', name: 'web', urn: 'urn:svc' },
      ],
      steps: 3,
      durationMs: 900,
    };
    const reply = confirmDownReply(confirmation, dev, preview, now);
    const value = downButtonValue(confirmation);
    expect(buttons(reply.blocks).map((b) => [b.action_id, b.value, b.style])).toEqual([
      [ACTIONS.environmentDown, value, 'danger'],
      [ACTIONS.environmentDownCancel, value, undefined],
    ]);
    expect(parseDownButtonValue(value)).toEqual(confirmation);
    expect(() => parseDownButtonValue('dev')).toThrow('That button is from an older Cockpit; ask again with /cockpit down <stack>.');
    const shown = text(reply);
    expect(shown).toContain('*3 resource(s) of dev are deleted*, 1 of them holding data');
    expect(shown).toContain(JSON.stringify(':warning: `PersistentVolumeClaim` *pg-data*\n`Deployment` *web*\n`Service` *web*'));
    expect(shown).toContain('brought up by <@U0ALICE001> and is due to go at 18:00 UTC');
    expect(shown).toContain('this confirmation expires at 14:10 UTC (in 10m)');
    expect(text(confirmDownReply(confirmation, undefined, preview, now))).toContain('Cockpit has no record of *dev* being up');
    assertWithinSlackLimits(reply);
  });

  test('the outcome of a tear-down: who, what it deleted, how to come back; a failure says when it is retried', () => {
    const torn = tornDownReply({ ...dev, state: 'down' }, { ...ok, counts: { ...ok.counts, create: 0, delete: 12 } }, now, 'r-1', { why: 'expired' });
    expect(text(torn)).toContain('*dev* torn down, its time ran out, in 3m: 12 resources deleted. Bring it back with `/cockpit up dev`.');
    const scheduled = tornDownReply({ ...dev, stack: 'staging', state: 'down', upBy: 'schedule' }, ok, now, 'r-2', { why: 'schedule', nextUp: new Date('2026-05-20T05:00:00Z'), timezone: 'Europe/Paris' });
    expect(text(scheduled)).toContain('Back up at Wed 07:00 Europe/Paris');
    const failed = tornDownReply(dev, { ...ok, outcome: 'failed', error: 'finalizer stuck' }, now, 'r-3', { why: 'expired', retryAt: new Date('2026-05-18T15:00:00Z') });
    expect(failed.text).toBe('Tear-down of dev failed');
    expect(text(failed)).toContain('Cockpit tries again at 15:00 UTC (in 1h)');
    expect(text(tearDownErrorReply('dev', 'Another update is currently in progress.', now, 'r-4'))).toContain('did not start');
  });

  test('a schedule adopted: what it is and that nothing changes now', () => {
    const reply = scheduleAdoptedReply({ ...dev, stack: 'staging', upBy: 'schedule' }, staging, now);
    expect(text(reply)).toContain('It counts as up until Mon 20:00 Europe/Paris');
    expect(text(reply)).toContain('nothing changes on the stack now');
  });
});
