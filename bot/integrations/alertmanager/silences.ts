import { UnavailableError } from '../../../handlers/errors';
import type { Silencer } from '../../../handlers/ports';

/**
 * Silences through Alertmanager's API v2 (`POST /api/v2/silences`) of the Alertmanager that sent the group: the
 * body's `externalURL`, which the sender's per-stack token vouches for. No redirects are followed and the answer
 * is bounded, so a bad URL cannot lead Cockpit elsewhere.
 */

export interface AlertmanagerSilencerDeps {
  fetch?: typeof fetch;
  timeoutMs?: number;
}

export class AlertmanagerSilencer implements Silencer {
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;

  constructor(deps: AlertmanagerSilencerDeps = {}) {
    this.fetch = deps.fetch ?? fetch;
    this.timeoutMs = deps.timeoutMs ?? 5000;
  }

  async create(request: Parameters<Silencer['create']>[0]): Promise<{ silenceId: string }> {
    const base = safeBase(request.alertmanagerUrl);
    const url = new URL('api/v2/silences', base);
    const body = {
      matchers: Object.entries(request.matchers).map(([name, value]) => ({ name, value, isRegex: false, isEqual: true })),
      startsAt: request.startsAt.toISOString(),
      endsAt: request.endsAt.toISOString(),
      createdBy: request.createdBy,
      comment: request.comment,
    };
    let res: Response;
    try {
      res = await this.fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new UnavailableError(`Alertmanager at ${base.origin} cannot be reached: ${err instanceof Error ? err.message : String(err)}.`, 'Silence it in Alertmanager directly.');
    }
    const text = (await res.text()).slice(0, 4096);
    if (!res.ok) throw new UnavailableError(`Alertmanager refused the silence (HTTP ${res.status}): ${text.slice(0, 200)}`, 'Silence it in Alertmanager directly.');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const id = (parsed as { silenceID?: unknown } | undefined)?.silenceID;
    if (typeof id !== 'string' || id === '') throw new UnavailableError('Alertmanager answered without a silence id.');
    return { silenceId: id };
  }
}

function safeBase(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UnavailableError(`The alert's Alertmanager URL is not a URL: ${text.slice(0, 100)}`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password) {
    throw new UnavailableError('The alert’s Alertmanager URL must be plain http(s) without credentials.');
  }
  url.search = '';
  url.hash = '';
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}
