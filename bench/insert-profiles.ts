import path from 'node:path';
import { loadAggregateJobFile } from '../src/cli/job-file';
import type { InsertSettings } from '../src/shared/job-spec';

/**
 * The `insertSettings` the bench runs the aggregate job under besides the job's own: `lowMemory`, those of
 * examples/events-daily-low-memory.yaml, which docs/job-spec.md documents.
 */
export function insertProfiles(): { lowMemory: { settings: InsertSettings } } {
  const example = path.resolve(__dirname, '..', 'examples', 'events-daily-low-memory.yaml');
  return { lowMemory: { settings: loadAggregateJobFile(example).insertSettings } };
}
