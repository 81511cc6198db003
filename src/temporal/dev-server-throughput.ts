/**
 * `temporal server start-dev` settings for the many short tasks of a backfill (a partition is a child workflow
 * with a few activities, and thousands of partitions are normal).
 *
 * - The history service reads its transfer and timer task queues at most 20 times a second by default
 *   (`history.transferProcessorMaxPollRPS`, `history.timerProcessorMaxPollRPS`), so every workflow task, child
 *   start and timer waited up to 50 ms before it was dispatched: 20–50 ms per step of every partition on the
 *   development machine, more than the steps themselves. The dev server has one history shard, so the limit is
 *   per server.
 * - Eager activities: a workflow task that schedules an activity gets it back in its completion when the worker has
 *   a free slot, instead of a trip through the task queue.
 */
export const THROUGHPUT_DYNAMIC_CONFIG_ARGS = [
  '--dynamic-config-value',
  'history.transferProcessorMaxPollRPS=10000',
  '--dynamic-config-value',
  'history.timerProcessorMaxPollRPS=10000',
  '--dynamic-config-value',
  'system.enableActivityEagerExecution=true',
];

/**
 * For a dev server persisted in a SQLite file: write-ahead logging, synced at checkpoints rather than at every
 * transaction. A killed server process loses nothing; a power cut may lose the last transactions, as fits a
 * development server.
 */
export const SQLITE_THROUGHPUT_ARGS = ['--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal'];
