import { defineQuery } from '@temporalio/workflow';
import type { PartitionResult } from './backfill-results';

export type PartitionState = 'pending' | 'running' | 'swapped' | 'failed';

export interface PartitionProgress {
  id: string;
  state: PartitionState;
  salt: number;
  sourceRows: number;
  result?: PartitionResult;
  error?: string;
}

/** Where a backfill stands: answered by the `progress` query at any time. */
export interface BackfillProgress {
  phase: 'planning' | 'running' | 'completed' | 'failed';
  target?: string;
  partitions: PartitionProgress[];
  done: number;
  failed: number;
  total: number;
  rowsWritten: number;
  startedAt: number;
}

export const progressQuery = defineQuery<BackfillProgress>('progress');
