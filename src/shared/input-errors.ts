import type { z } from 'zod';

/** One line per problem, each naming the field: `job.metrics.hours: cannot parse …`. */
export function describeIssues(error: z.ZodError, root?: string): string {
  return error.issues
    .map((issue) => {
      const path = [...(root ? [root] : []), ...issue.path.map(String)].join('.');
      // A bad record key (e.g. a metric name) carries its reason in nested issues.
      const message = issue.code === 'invalid_key' ? issue.issues.map((i) => i.message).join('; ') : issue.message;
      return path ? `${path}: ${message}` : message;
    })
    .join('\n');
}
