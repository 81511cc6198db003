import { SessionSettings } from '../../src/clickhouse/session-settings';

describe('the embedded session’s settings', () => {
  it('sends every setting first, then only those whose value the session does not hold', async () => {
    const session = new SessionSettings();
    const sent: Record<string, unknown>[] = [];
    const send = async (changed: Record<string, unknown>) => void sent.push(changed);
    await session.run({ max_threads: 2, log_comment: '' }, undefined, send);
    await session.run({ max_threads: 2, log_comment: '' }, undefined, send);
    await session.run({ max_threads: 1, log_comment: '' }, undefined, send);
    await session.run({ max_threads: 2, log_comment: 'x' }, undefined, send);
    expect(sent).toEqual([
      { max_threads: 2, log_comment: '' },
      {},
      { max_threads: 1 },
      { max_threads: 2, log_comment: 'x' },
    ]);
  });

  it('sends every setting again after a failed query, which may have applied only some of them', async () => {
    const session = new SessionSettings();
    const sent: Record<string, unknown>[] = [];
    await session.run({ max_threads: 2 }, undefined, async (c) => void sent.push(c));
    await expect(
      session.run({ max_threads: 1 }, undefined, async (c) => {
        sent.push(c);
        throw new Error('Unknown expression identifier');
      }),
    ).rejects.toThrow('Unknown expression identifier');
    await session.run({ max_threads: 2 }, undefined, async (c) => void sent.push(c));
    expect(sent).toEqual([{ max_threads: 2 }, { max_threads: 1 }, { max_threads: 2 }]);
  });

  it('runs queries one at a time in the order they were submitted, each seeing its predecessor’s settings', async () => {
    const session = new SessionSettings();
    const order: string[] = [];
    const slow = (name: string, ms: number) => async (c: Record<string, unknown>) => {
      order.push(`${name} start ${JSON.stringify(c)}`);
      await new Promise((r) => setTimeout(r, ms));
      order.push(`${name} end`);
    };
    await Promise.all([
      session.run({ max_threads: 1 }, undefined, slow('a', 30)),
      session.run({ max_threads: 2 }, undefined, slow('b', 1)),
      session.run({ max_threads: 2 }, undefined, slow('c', 1)),
    ]);
    expect(order).toEqual([
      'a start {"max_threads":1}',
      'a end',
      'b start {"max_threads":2}',
      'b end',
      'c start {}',
      'c end',
    ]);
  });

  it('does not run a query whose signal fired while it waited for its turn', async () => {
    const session = new SessionSettings();
    const abort = new AbortController();
    let ran = false;
    const first = session.run({}, undefined, () => new Promise((r) => setTimeout(r, 20)));
    const second = session.run({}, abort.signal, async () => {
      ran = true;
    });
    abort.abort();
    await first;
    await expect(second).rejects.toThrow();
    expect(ran).toBe(false);
  });
});
