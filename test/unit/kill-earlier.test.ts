import { MockActivityEnvironment } from '@temporalio/testing';
import { buildQueries } from '../../src/activities/engine/step-runner';
import { toActivityFailure } from '../../src/activities/engine/errors';
import type { ServerProfile } from '../../src/shared/server-profile';
import { cannedClickHouse } from '../helpers/canned-clickhouse';
import { aggregateTask } from '../helpers/topology-jobs';
import cloud from '../fixtures/server-profiles/cloud-26.7.json';

/** What a KILL of an earlier build attempt leaves: a redo starts only once nothing of the old build runs anywhere. */
describe('stopping an earlier build before its redo', () => {
  const killOf = async (running: { query_id: string; host: string }[]) => {
    const { ch, sent } = cannedClickHouse([
      { match: 'KILL QUERY', rows: [] },
      { match: 'WHERE startsWith(query_id', rows: running },
    ]);
    const task = { ...aggregateTask(), server: cloud as ServerProfile };
    const outcome = await new MockActivityEnvironment()
      .run(() => buildQueries(ch, task).killEarlier())
      .then(
        () => 'redo may start',
        (err: unknown) => err,
      );
    return { outcome, sent };
  };

  it('reads back every replica after the KILL and lets the redo start when nothing is left', async () => {
    const { outcome, sent } = await killOf([]);
    expect(outcome).toBe('redo may start');
    expect(sent.map((s) => s.query)).toEqual([
      'KILL QUERY ON CLUSTER default WHERE startsWith(query_id, {prefix:String}) SYNC',
      "SELECT query_id, hostName() AS host FROM clusterAllReplicas('default', system.processes) " +
        'WHERE startsWith(query_id, {prefix:String}) ORDER BY query_id',
    ]);
    expect(sent[0].params.prefix).toBe(sent[1].params.prefix);
  });

  it('fails the step retryably, naming the query and its replica, while an old build query still runs', async () => {
    const { outcome } = await killOf([{ query_id: 'wf/run/build/1-1', host: 'replica-2' }]);
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as Error).message).toContain('wf/run/build/1-1 on replica-2');
    // Left as it is, so the activity's retry policy retries it.
    expect(toActivityFailure(outcome)).not.toHaveProperty('nonRetryable', true);
  });
});
