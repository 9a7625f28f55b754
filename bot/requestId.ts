import { randomBytes } from 'node:crypto';

/**
 * One id follows an action everywhere: logs, audit log, PR bodies, Discourse posts, and the "failed, ref …"
 * a person quotes when asking for help. Short enough to read aloud, random enough not to collide.
 */
export function newRequestId(): string {
  return `r-${randomBytes(6).toString('base64url')}`;
}
