import { createHmac } from 'node:crypto';
import examples from '@octokit/webhooks-examples';

type Payload = Record<string, unknown> & { pull_request: Record<string, unknown> };
const pullRequestExamples = (examples.find((e) => e.name === 'pull_request')?.examples ?? []) as unknown as Payload[];

/** GitHub's real captured `pull_request` payload for `action`, pointed at the fake repo (acme/infra) and PR. */
export function pullRequestPayload(
  action: 'opened' | 'synchronize' | 'closed',
  pr: { number: number; base: string; head: string; headSha: string; baseSha: string; author?: string; mergeSha?: string; mergedBy?: string },
): Payload {
  const payload = structuredClone(pullRequestExamples.find((e) => e.action === action)!);
  const repository = { ...(payload.repository as object), full_name: 'acme/infra' };
  payload.repository = repository;
  Object.assign(payload.pull_request, {
    number: pr.number,
    html_url: `https://github.test/acme/infra/pull/${pr.number}`,
    user: { ...(payload.pull_request.user as object), login: pr.author ?? 'cockpit-bot' },
    base: { ...(payload.pull_request.base as object), ref: pr.base, sha: pr.baseSha, repo: repository },
    head: { ...(payload.pull_request.head as object), ref: pr.head, sha: pr.headSha, repo: repository },
    ...(pr.mergeSha ? { merged: true, merge_commit_sha: pr.mergeSha, merged_by: { ...(payload.pull_request.user as object), login: pr.mergedBy } } : {}),
  });
  return payload;
}

/** Posts a webhook delivery to Cockpit, signed with `secret` as GitHub signs it (or with a given signature). */
export function deliverWebhook(base: string, secret: string, event: string, payload: unknown, options: { secret?: string; deliveryId?: string; signature?: string } = {}): Promise<Response> {
  const body = JSON.stringify(payload);
  const signature = options.signature ?? `sha256=${createHmac('sha256', options.secret ?? secret).update(body).digest('hex')}`;
  return fetch(`${base}/hooks/github`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-github-event': event, 'x-github-delivery': options.deliveryId ?? crypto.randomUUID(), 'x-hub-signature-256': signature },
    body,
  });
}
