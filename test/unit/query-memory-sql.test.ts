import {
  flushLogs,
  selectLoggedQueryPeakMemory,
  selectRunningQueriesPeakMemory,
} from '../../src/sql/engine/query-memory';

describe('the query memory statements', () => {
  it('list the running queries with no parameter, so that chDB runs the probe beside the watched query', () => {
    const stmt = selectRunningQueriesPeakMemory();
    expect(stmt.params).toEqual({});
    expect(stmt.query).toContain(
      "query_id, Settings['log_comment'] AS log_comment, toString(peak_memory_usage) AS peak",
    );
  });

  it('read a finished query’s peak from the query log after flushing it', () => {
    expect(flushLogs().query).toBe('SYSTEM FLUSH LOGS');
    const stmt = selectLoggedQueryPeakMemory('fill-1');
    expect(stmt.query).toContain("query_id = {query_id:String} AND type = 'QueryFinish'");
    expect(stmt.params).toEqual({ query_id: 'fill-1' });
  });
});
