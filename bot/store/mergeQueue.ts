import { type Kysely, type Selectable } from 'kysely';
import type { MergeQueue } from '../../handlers/ports';
import type { QueuedMerge } from '../../handlers/model/deploys';
import { type Database, type MergeQueueTable, fromStoredTime, toStoredTime } from './db';

/**
 * Merges waiting for a busy stack, as rows. `add` is one INSERT … ON CONFLICT DO NOTHING on (stack, PR, merge
 * commit), so a replayed delivery adds nothing; `takeAll` is one DELETE … RETURNING, so of two replicas draining
 * a stack exactly one gets its merges.
 */
export class SqlMergeQueue implements MergeQueue {
  constructor(private readonly db: Kysely<Database>) {}

  async add(merge: QueuedMerge): Promise<boolean> {
    const row = await this.db
      .insertInto('merge_queue')
      .values({
        stack: merge.stack,
        pull_request: merge.pullRequest,
        merge_sha: merge.mergeSha,
        head_sha: merge.headSha,
        merged_by: merge.mergedBy,
        author: merge.author ?? null,
        asked_by: merge.askedBy && merge.askedBy.length > 0 ? JSON.stringify(merge.askedBy) : null,
        html_url: merge.htmlUrl,
        approved_by: merge.approvedBy ?? null,
        needs_approval: merge.needsApproval ?? null,
        queued_at: toStoredTime(merge.queuedAt),
        request_id: merge.requestId,
      })
      .onConflict((oc) => oc.columns(['stack', 'pull_request', 'merge_sha']).doNothing())
      .returning('stack')
      .executeTakeFirst();
    return row !== undefined;
  }

  async takeAll(stack: string): Promise<QueuedMerge[]> {
    const rows = await this.db.deleteFrom('merge_queue').where('stack', '=', stack).returningAll().execute();
    return rows.map(toMerge).sort((a, b) => a.queuedAt.getTime() - b.queuedAt.getTime());
  }

  async stacks(): Promise<string[]> {
    const rows = await this.db.selectFrom('merge_queue').select('stack').distinct().orderBy('stack').execute();
    return rows.map((r) => r.stack);
  }
}

function toMerge(row: Selectable<MergeQueueTable>): QueuedMerge {
  return {
    stack: row.stack,
    pullRequest: row.pull_request,
    mergeSha: row.merge_sha,
    headSha: row.head_sha,
    mergedBy: row.merged_by,
    ...(row.author !== null ? { author: row.author } : {}),
    ...(row.asked_by !== null ? { askedBy: JSON.parse(row.asked_by) as string[] } : {}),
    htmlUrl: row.html_url,
    ...(row.approved_by !== null ? { approvedBy: row.approved_by } : {}),
    ...(row.needs_approval !== null ? { needsApproval: row.needs_approval } : {}),
    queuedAt: fromStoredTime(row.queued_at),
    requestId: row.request_id,
  };
}
