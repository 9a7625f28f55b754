import type { Clock } from '../../../handlers/ports';
import { DiscourseClient, type DiscourseConfig } from './client';
import type { Sleep } from './limiter';

export { DiscourseClient, DiscourseError, type DiscourseApi, type DiscourseConfig } from './client';
export { ForumOutboxWorker, type OutboxTiming } from './outbox';

/** The Discourse client Cockpit writes to the status forum through. */
export function fromConfig(config: DiscourseConfig, deps: { clock: Clock; fetch?: typeof fetch; sleep?: Sleep }): DiscourseClient {
  return new DiscourseClient(config, deps);
}
