import type { z } from 'zod';

/**
 * A payload's zod errors as one short line, e.g. `pull_request.number: expected number`, for logs and answers to
 * senders. zod's messages name the rule broken, never the value, so a hostile payload's content stays out.
 */
export function describeIssues(error: z.ZodError, max = 5): string {
  const issues = error.issues.slice(0, max).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  return error.issues.length > max ? `${issues.join('; ')}; and ${error.issues.length - max} more` : issues.join('; ');
}
