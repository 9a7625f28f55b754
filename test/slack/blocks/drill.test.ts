import { drillButtonValue, drillHistoryReply, drillLogsReply, drillResultReply, measuredLine, sparkline } from '../../../bot/slack/blocks/drill';
import { ACTIONS } from '../../../bot/slack/ids';
import type { DrillRun } from '../../../handlers/model/drills';

const at = (minute: number) => new Date(Date.UTC(2026, 10, 25, 12, minute));
const run = (requestId: string, rtoSeconds: number | undefined, overrides: Partial<DrillRun> = {}): DrillRun => ({
  stack: 'integration',
  requestId,
  startedAt: at(0),
  finishedAt: at(10),
  outcome: rtoSeconds === undefined ? 'failed' : 'passed',
  ...(rtoSeconds !== undefined ? { rtoSeconds, rpoSeconds: 60 } : { reason: 'the marker planted 9 min ago is not in the restored data' }),
  cluster: 'integration',
  steps: [{ name: 'marker', state: 'passed', startedAt: at(0), finishedAt: at(1), detail: 'planted in shop' }],
  warnings: [],
  logs: { jobs: [] },
  leftBehind: [],
  ...overrides,
});

describe('drill blocks', () => {
  test('the sparkline runs oldest to newest, scaled between the fastest and the slowest, × for a failure', () => {
    // Newest first, as the history lists them.
    expect(sparkline([run('r4', 400), run('r3', undefined), run('r2', 100), run('r1', 250)])).toBe('▅▁×█');
    expect(sparkline([run('r2', 200), run('r1', 200)])).toBe('▄▄');
    expect(sparkline([run('r1', undefined)])).toBe('×');
    expect(sparkline([])).toBe('');
  });

  test('RTO and RPO say how they moved since the last passed drill', () => {
    const previous = run('r1', 300);
    expect(measuredLine(run('r2', 330), [run('r2', 330), run('rf', undefined), previous])).toBe('RTO 5m (▲ 30s vs last) · RPO 1m (same as last)');
    expect(measuredLine(run('r2', 240), [previous])).toBe('RTO 4m (▼ 1m vs last) · RPO 1m (same as last)');
    expect(measuredLine(run('r3', undefined), [])).toBe('RTO not measured · RPO not measured');
  });

  test('a failed result says why, what was left behind, and carries Retry with the same drill and Show logs', () => {
    const failed = run('r-9', undefined, { leftBehind: ['drill-abc123-shop'], warnings: ['Restore x: 2 warning(s)'] });
    const reply = drillResultReply({ kind: 'finished', run: failed, recent: [failed] }, { stack: 'prod', trigger: 'schedule', backup: 'latest', on: { cluster: 'staging', storageLocation: 'prod' } }, at(20));
    const text = JSON.stringify(reply.blocks);
    expect(reply.visibility).toBe('in_channel');
    expect(reply.text).toBe('Restore drill of integration failed: the marker planted 9 min ago is not in the restored data');
    expect(text).toContain('*Why:* the marker planted 9 min ago is not in the restored data');
    expect(text).toContain('*left behind:* `drill-abc123-shop`');
    expect(text).toContain('• Restore x: 2 warning(s)');
    const actions = reply.blocks.find((b) => b.type === 'actions') as { elements: Array<{ action_id: string; value: string }> };
    expect(actions.elements.map((e) => e.action_id)).toEqual([ACTIONS.drillRun, ACTIONS.drillLogs]);
    expect(JSON.parse(actions.elements[0]!.value)).toEqual({ stack: 'prod', backup: 'latest', on: { cluster: 'staging', storageLocation: 'prod' } });
    expect(actions.elements[1]!.value).toBe('r-9');
    expect(drillButtonValue({ stack: 'integration' })).toBe('{"stack":"integration"}');
  });

  test('history is ephemeral, newest first, with each stack’s trend; none yet says how to run one', () => {
    const reply = drillHistoryReply([run('r2', 200, { finishedAt: at(50) }), run('r1', undefined)], 'integration', at(60));
    expect(reply.visibility).toBe('ephemeral');
    const text = JSON.stringify(reply.blocks);
    expect(text.indexOf('r2')).toBeLessThan(text.indexOf('r1'));
    expect(text).toContain('RTO 3m · RPO 1m');
    expect(text).toContain('integration `×▄`');
    expect(JSON.stringify(drillHistoryReply([], 'prod', at(0)).blocks)).toContain('/cockpit drill prod');
  });

  test('logs show Velero’s warnings and errors first, and say how to fetch a log that is not there', () => {
    const log = ['level=info msg="starting restore"', 'level=warning msg="already exists"', 'level=info msg="restore completed"'].join('\n');
    const withLog = JSON.stringify(drillLogsReply({ run: run('r1', 100, { logs: { restore: 'cockpit-drill-x', jobs: [{ name: 'j', namespace: 'shop', tail: ['marker written'] }] } }), restoreLog: log }).blocks);
    expect(withLog).toContain('1 warning or error line(s) of 3');
    expect(withLog).toContain('already exists');
    expect(withLog).not.toContain('starting restore');
    expect(withLog).toContain('marker written');
    const without = JSON.stringify(drillLogsReply({ run: run('r1', 100, { logs: { restore: 'cockpit-drill-x', jobs: [] } }), restoreLogMissing: 'the cluster is gone' }).blocks);
    expect(without).toContain('velero restore logs cockpit-drill-x');
  });
});
