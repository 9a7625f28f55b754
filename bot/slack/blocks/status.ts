import type { StatusReport } from '../../../handlers/status';
import { context, escapeMrkdwn, fields, formatDuration, header, mention, section, type Reply } from './reply';

export function statusReply(report: StatusReport): Reply {
  const stackLines = report.stacks.map((s) => {
    const kind = s.ephemeral ? 'ephemeral' : 'long-lived';
    const env = s.environment;
    const upDown = !env
      ? ''
      : env.state === 'up'
        ? ` · up${env.expiresAt ? `, torn down in ${formatDuration(env.expiresAt.getTime() - report.generatedAt.getTime())}` : ''}`
        : ' · down';
    const lock = s.lock
      ? `:lock: ${s.lock.purpose} by ${mention(s.lock.holder)} for ${formatDuration(s.lock.ageMs)} (ref ${s.lock.requestId})`
      : 'free';
    const restore =
      s.lastVerifiedRestore === undefined ? '' : s.lastVerifiedRestore === null ? ' · no verified restore' : ` · restore verified ${formatDuration(report.generatedAt.getTime() - s.lastVerifiedRestore.getTime())} ago`;
    return `*${s.name}* · branch \`${s.branch}\` · ${kind}${upDown}${restore} · ${lock}`;
  });
  const store = report.store;
  const storeText = store.reachable
    ? `${store.dialect}, ${store.migrationsApplied} migrations applied${store.migrationsPending ? `, *${store.migrationsPending} pending*` : ''}`
    : `:red_circle: ${store.dialect} unreachable${store.error ? `: ${store.error}` : ''}`;
  return {
    text: `Cockpit ${report.version}: ${report.stacks.length} stacks, store ${store.reachable ? 'ok' : 'unreachable'}${report.services.map(({ name, health }) => `, ${name} ${health.up ? 'up' : 'down'}`).join('')}`,
    visibility: 'ephemeral',
    blocks: [
      header('Cockpit status'),
      section(stackLines.join('\n') || 'No stacks configured.'),
      fields([
        ['Store', storeText],
        ['Deploy engine', report.engine.available ? `Pulumi ${report.engine.version}` : `:red_circle: unavailable: ${report.engine.reason}`],
        ...report.services.map(({ name, health }): [string, string] => [name, `${health.up ? ':large_green_circle: up' : ':red_circle: down'}: ${escapeMrkdwn(health.detail)}`]),
        ['Version', report.version],
      ]),
      context(`as of ${report.generatedAt.toISOString()}`),
    ],
  };
}
