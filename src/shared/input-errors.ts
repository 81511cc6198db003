import type { z } from 'zod';

/** One line per problem, each naming the field: `job.metrics.hours: cannot parse …`. */
export function describeIssues(error: z.ZodError, root?: string): string {
  return error.issues
    .map((issue) => {
      const path = [...(root ? [root] : []), ...issue.path.map(String)].join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('\n');
}
