import {
  type CockpitError,
  ConflictError,
  isCockpitError,
  NotFoundError,
  UnavailableError,
} from '../../../handlers/errors';

/** The part of Octokit's RequestError the adapter reads (checked by shape: module copies break instanceof). */
export interface GitHubRequestError extends Error {
  status: number;
  response?: {
    headers: Record<string, string | number | undefined>;
    data?: unknown;
  };
}

export function isGitHubRequestError(err: unknown): err is GitHubRequestError {
  return err instanceof Error && typeof (err as { status?: unknown }).status === 'number';
}

/** What the adapter was doing when a call failed: the words every translated error is made of. */
export interface GitHubCall {
  /** `owner/name`. */
  repository: string;
  /** What Cockpit tried, as a phrase after "to": `open a pull request from staging into master`. */
  action: string;
  /** The fine-grained permission the call needs, e.g. `pull_requests: write`, named when GitHub refuses. */
  permission: string;
  /** What is missing when the repository is visible but GitHub answers 404. */
  notFound: string;
  /** Call-specific reading of a 422, e.g. "a pull request already exists" as a conflict. */
  onValidationFailed?(details: string[]): CockpitError | undefined;
}

/**
 * Turns a failed Octokit call into the domain's typed errors. `repositoryVisible` is the answer to "can we see the
 * repository at all?", asked only after a 404, since GitHub answers 404 both for a missing branch and for a
 * repository the credentials cannot see. Errors that are not GitHub's answers are returned unchanged.
 */
export function translateGitHubError(err: unknown, call: GitHubCall, repositoryVisible?: boolean): unknown {
  if (isCockpitError(err) || !isGitHubRequestError(err)) return err;
  const { status, response } = err;
  const headers = response?.headers ?? {};

  if (!response) {
    // Octokit reports a refused connection, DNS failure or timeout as a 500 without a response.
    return new UnavailableError(`GitHub is unreachable (${unreachableReason(err)}); Cockpit could not ${call.action}.`);
  }
  if (status === 401) {
    return new UnavailableError(
      `GitHub rejected Cockpit's credentials while trying to ${call.action}.`,
      'The token is invalid, expired or revoked, or the GitHub App key or installation id is wrong.',
    );
  }
  const rateLimit = rateLimitMessage(status, headers, messageOf(response.data));
  if (rateLimit) return new UnavailableError(rateLimit);
  if (status === 403) {
    const accepted = headers['x-accepted-github-permissions'];
    const permission =
      typeof accepted === 'string' && accepted.trim() !== ''
        ? accepted
            .split(';')
            .map((p) => p.trim().replace('=', ': '))
            .join(' or ')
        : call.permission;
    return new UnavailableError(
      `Cockpit's GitHub access lacks \`${permission}\` on ${call.repository}, needed to ${call.action}.`,
      'Grant it to the GitHub App installation (or the fine-grained token) and try again.',
    );
  }
  if (status === 404) {
    return repositoryVisible === false
      ? new NotFoundError(`GitHub repository ${call.repository} not found, or Cockpit's credentials cannot see it.`)
      : new NotFoundError(call.notFound);
  }
  if (status === 422) {
    const details = validationDetails(response.data);
    const specific = call.onValidationFailed?.(details);
    if (specific) return specific;
    // Anything else GitHub refuses as invalid is a request Cockpit should not have made: a bug, logged whole.
    return new Error(`GitHub refused to ${call.action}: ${details.join('; ')}`, { cause: err });
  }
  if (status >= 500) {
    return new UnavailableError(`GitHub answered ${status} while Cockpit tried to ${call.action}; try again shortly.`);
  }
  return err;
}

/** The conflict GitHub reports when a pull request for the same branches is already open. */
export function pullRequestConflict(base: string, head: string): (details: string[]) => CockpitError | undefined {
  return (details) => {
    const text = details.join('\n');
    if (/a pull request already exists/i.test(text)) {
      return new ConflictError(`A pull request from ${head} into ${base} is already open.`);
    }
    if (/no commits between/i.test(text)) {
      return new ConflictError(`Nothing to promote: ${head} has no commits that ${base} lacks.`);
    }
    if (/field "(base|head)" invalid/.test(text)) {
      return new NotFoundError(`Branch ${base} or ${head} does not exist on GitHub.`);
    }
    return undefined;
  };
}

function rateLimitMessage(status: number, headers: Record<string, string | number | undefined>, message: string): string | undefined {
  if (status !== 403 && status !== 429) return undefined;
  const retryAfter = Number(headers['retry-after']);
  if (/secondary rate limit/i.test(message) || (status === 429 && Number.isFinite(retryAfter))) {
    const wait = Number.isFinite(retryAfter) && retryAfter > 0 ? `in ${retryAfter} s` : 'in a minute';
    return `GitHub asked Cockpit to slow down (secondary rate limit); try again ${wait}.`;
  }
  if (String(headers['x-ratelimit-remaining']) === '0' || /rate limit/i.test(message)) {
    const reset = Number(headers['x-ratelimit-reset']);
    const at = Number.isFinite(reset) && reset > 0 ? ` it resets at ${new Date(reset * 1000).toISOString().slice(11, 16)} UTC` : '';
    return `Cockpit has used up its GitHub API quota;${at || ' try again later'}.`;
  }
  return undefined;
}

/** Octokit keeps fetch's own error as `cause`; a timeout is named there (its message can be "Unknown Error"). */
function unreachableReason(err: GitHubRequestError): string {
  const cause = (err as { cause?: unknown }).cause;
  const names = [err.name, typeof cause === 'object' && cause !== null ? (cause as { name?: unknown }).name : undefined];
  return names.includes('TimeoutError') ? 'no answer in time' : err.message;
}

function messageOf(data: unknown): string {
  return typeof data === 'object' && data !== null && typeof (data as { message?: unknown }).message === 'string'
    ? (data as { message: string }).message
    : '';
}

/** GitHub's 422 body: a message and a list of `{ resource, field, code, message }`; every readable part, in order. */
function validationDetails(data: unknown): string[] {
  const details = [messageOf(data)].filter((m) => m !== '');
  const errors = typeof data === 'object' && data !== null ? (data as { errors?: unknown }).errors : undefined;
  if (Array.isArray(errors)) {
    for (const e of errors) {
      if (typeof e === 'string') details.push(e);
      else if (typeof e === 'object' && e !== null) {
        const { message, field, code } = e as { message?: unknown; field?: unknown; code?: unknown };
        if (typeof message === 'string') details.push(message);
        else details.push(`field "${String(field)}" ${String(code)}`);
      }
    }
  }
  return details;
}
