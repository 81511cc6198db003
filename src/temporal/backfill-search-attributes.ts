export { backfillPartitionsKey, backfillRoleKey, backfillTargetKey } from '../shared/search-attributes';

/** The `temporal server start-dev` arguments that register the backfill search attributes. */
export const BACKFILL_SEARCH_ATTRIBUTE_ARGS = [
  '--search-attribute',
  'BackfillTarget=Keyword',
  '--search-attribute',
  'BackfillPartitions=KeywordList',
  '--search-attribute',
  'BackfillRole=Keyword',
];
