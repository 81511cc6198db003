import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';

/**
 * Search attributes every backfill sets on itself once it has resolved its target (database defaulted), so
 * backfills are filterable in the Web UI and the CLI, e.g. `BackfillTarget = 'analytics.events_daily'`. A server
 * must have them registered: our dev server and test server do; on another server,
 * `temporal operator search-attribute create --name BackfillTarget --type Keyword` and
 * `--name BackfillPartitions --type KeywordList`.
 */
export const backfillTargetKey = defineSearchAttributeKey('BackfillTarget', SearchAttributeType.KEYWORD);
export const backfillPartitionsKey = defineSearchAttributeKey('BackfillPartitions', SearchAttributeType.KEYWORD_LIST);

/**
 * `BackfillRole = 'helper'` marks the short read-only workflows the CLI starts to ask the worker a question (`plan`,
 * `doctor`, `history`, `list`'s describes: src/cli/ask-worker.ts), so a Web UI view with the query
 * `BackfillRole IS NULL` lists only the jobs. Register it with `--name BackfillRole --type Keyword`.
 */
export const backfillRoleKey = defineSearchAttributeKey('BackfillRole', SearchAttributeType.KEYWORD);

/** The `BackfillRole` of a workflow that only answers the CLI. */
export const HELPER_ROLE = 'helper';

/** Temporal refuses a search attribute value over 2 KB (`limit.searchAttributesSizeOfValue`), with some margin. */
const MAX_VALUE_BYTES = 2_000;

/**
 * The `BackfillPartitions` value of a backfill of `ids`: every partition while they fit Temporal's limit on a
 * search attribute's size (about 180 days or 220 months), else only the first and the last partition.
 */
export function searchablePartitionIds(ids: string[]): string[] {
  if (JSON.stringify(ids).length <= MAX_VALUE_BYTES || ids.length < 2) return ids;
  return [ids[0], ids[ids.length - 1]];
}
