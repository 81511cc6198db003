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
