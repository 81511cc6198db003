import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';

/**
 * Search attributes of every backfill the CLI starts. They make backfills filterable in the Web UI, e.g.
 * `BackfillTarget = 'analytics.events_daily'`, and let `start` refuse overlapping backfills. A server must
 * have them registered: our dev server and test server do (see {@link BACKFILL_SEARCH_ATTRIBUTE_ARGS}); on
 * another server, `temporal operator search-attribute create --name BackfillTarget --type Keyword` and
 * `--name BackfillPartitions --type KeywordList`.
 */
export const backfillTargetKey = defineSearchAttributeKey('BackfillTarget', SearchAttributeType.KEYWORD);
export const backfillPartitionsKey = defineSearchAttributeKey('BackfillPartitions', SearchAttributeType.KEYWORD_LIST);

/** The `temporal server start-dev` arguments that register them. */
export const BACKFILL_SEARCH_ATTRIBUTE_ARGS = [
  '--search-attribute',
  'BackfillTarget=Keyword',
  '--search-attribute',
  'BackfillPartitions=KeywordList',
];
