import type { JobSpec } from '../../shared/job-spec';
import { SNAPSHOT_CUTOFF } from '../../shared/snapshot-cutoff';
import { aggregateKind } from './aggregate';
import { importKind } from './import';
import { boundKind, type BoundJobKind } from './job-kind';
import { viewKind } from './view';
import { viewSnapshotKind } from './view-snapshot';
import { viewRestateKind } from './view-restate';

/**
 * The one place on the client side that tells a job's kind: `start`, `plan` and the option checks look the job up
 * here instead of branching on it. A view job with `cutoff: snapshot` runs its own workflow, so it is a kind of
 * its own. A new kind adds an entry file beside this one and a case here (docs/architecture.md has the recipe).
 */
export function jobKindFor(file: string, job: JobSpec): BoundJobKind {
  switch (job.kind) {
    case 'aggregate':
      return boundKind(aggregateKind, file, job);
    case 'view':
      return job.cutoff === SNAPSHOT_CUTOFF ? boundKind(viewSnapshotKind, file, job) : boundKind(viewKind, file, job);
    case 'import':
      return boundKind(importKind, file, job);
    case 'view-restate':
      return boundKind(viewRestateKind, file, job);
    default:
      return unknownKind(job);
  }
}

function unknownKind(job: never): never {
  throw new Error(`job of an unknown kind: ${JSON.stringify((job as JobSpec).kind)}`);
}
